// tst_memoryplan: the memory plan before a load (llava/memoryplan.h).
//  * presets: weight, KV-cache and scratch bytes of the real llava-v1.6-mistral-7b and -34b configs equal
//    byte counts computed by hand below from the published architectures (guards against a plan that
//    forgets tensors, counts quantised scales wrongly or sizes the cache from the wrong dims);
//  * a real load: the plan for a tiny fixture equals what the CPU backend reports after Engine::load
//    (weights, KV cache, scratch), so plan and allocation cannot drift apart;
//  * the recommendation is the largest precision that fits, and a row that does not fit is refused with
//    its numbers; MemAvailable parsing.
#include <QTest>

#include "llava/engine.h"
#include "llava/memoryplan.h"
#include "text/testtokenizers.h"

using namespace llava;

namespace {

// ---- hand computation (parameters) -------------------------------------------------------------------
// CLIP ViT-L/14-336, identical in both models (24 layers stored, d = 1024, ffn = 4096, 577 positions):
//   class_embedding 1024; patch_embedding 1024*3*14*14 = 602,112; position_embedding 577*1024 = 590,848;
//   pre_layrnorm 2*1024 = 2,048; post_layernorm 2,048;
//   per layer: layer norms 4*1024 = 4,096; q,k,v,out 4*(1024*1024 + 1024) = 4,198,400;
//              fc1 4096*1024 + 4096 = 4,198,400; fc2 1024*4096 + 1024 = 4,195,328  -> 12,596,224
//   24 layers = 302,309,376; vision total = 303,507,456 parameters.
// Mistral-7B LLM (d 4096, 32 layers, 32 heads of 128, 8 KV heads, ffn 14336, vocab 32000, untied):
//   embed 32000*4096 = 131,072,000; lm_head 131,072,000; norm 4,096;
//   per layer: norms 8,192; q 4096*4096 = 16,777,216; k+v 2*1024*4096 = 8,388,608; o 16,777,216;
//              gate+up+down 3*14336*4096 = 176,160,768  -> 218,112,000; 32 layers = 6,979,584,000
//   LLM total 7,241,732,096; projector 4096*1024+4096 + 4096*4096+4096 = 20,979,712; image_newline 4,096.
//   => 7,566,223,360 parameters = 15,132,446,720 bytes in BF16.
// Yi-34B LLM (d 7168, 60 layers, 56 heads of 128, 8 KV heads, ffn 20480, vocab 64000, untied):
//   embed 64000*7168 = 458,752,000; lm_head 458,752,000; norm 7,168;
//   per layer: norms 14,336; q 7168*7168 = 51,380,224; k+v 2*1024*7168 = 14,680,064; o 51,380,224;
//              mlp 3*20480*7168 = 440,401,920  -> 557,856,768; 60 layers = 33,471,406,080
//   LLM total 34,388,917,248; projector 7168*1024+7168 + 7168*7168+7168 = 58,734,592; newline 7,168.
//   => 34,751,166,464 parameters = 69,502,332,928 bytes in BF16.
// What is loaded (and what the plan counts): mm_vision_select_layer -2 runs CLIP layers 0..22, so layer 23
// (12,596,224) and post_layernorm (2,048) are stored but never uploaded: 12,598,272 parameters fewer.
//   => mistral 7,553,625,088 loaded parameters (15,107,250,176 bytes BF16); 34b 34,738,568,192 (69,477,136,384).
constexpr std::uint64_t kVisionParams = 1024 + 602112 + 590848 + 2048 + 2048 + 24ull * 12596224;
constexpr std::uint64_t kMistralParams =
    kVisionParams + 20979712 + 4096 + 2ull * 131072000 + 4096 + 32ull * 218112000;
constexpr std::uint64_t kYiParams = kVisionParams + 58734592 + 7168 + 2ull * 458752000 + 7168 + 60ull * 557856768;
static_assert(kMistralParams == 7566223360ull && kYiParams == 34751166464ull);
constexpr std::uint64_t kNotUploaded = 12596224 + 2048;
static_assert(kMistralParams - kNotUploaded == 7553625088ull && kYiParams - kNotUploaded == 34738568192ull);

// ---- Q8 / Q4: matrices only (2-D); vectors and the 4-D patch embedding stay BF16 ----------------------
// Q8 matrix (r, c): r*c bytes + r F32 scales. Q4: r*c/2 + r*(c/128) F16 scales (every c here % 128 == 0).
struct Matrix {
    std::uint64_t rows, cols, count;
};
std::uint64_t q8Bytes(const std::vector<Matrix>& ms) {
    std::uint64_t b = 0;
    for (auto m : ms) b += m.count * (m.rows * m.cols + 4 * m.rows);
    return b;
}
std::uint64_t q4Bytes(const std::vector<Matrix>& ms) {
    std::uint64_t b = 0;
    for (auto m : ms) b += m.count * (m.rows * m.cols / 2 + m.rows * (m.cols / 128) * 2);
    return b;
}
std::uint64_t matrixParams(const std::vector<Matrix>& ms) {
    std::uint64_t p = 0;
    for (auto m : ms) p += m.count * m.rows * m.cols;
    return p;
}
// Uploaded CLIP matrices (quantised under Q8/Q4): per layer (23 of them) q,k,v,out (1024,1024),
// fc1 (4096,1024), fc2 (1024,4096).
// The position embedding (577, 1024) is only ever added, never multiplied, so it keeps its stored
// format (isQuantisableWeight); it counts with the 2-byte parameters.
std::vector<Matrix> clipMatrices() { return {{1024, 1024, 4 * 23}, {4096, 1024, 23}, {1024, 4096, 23}}; }
std::vector<Matrix> llmMatrices(std::uint64_t d, std::uint64_t layers, std::uint64_t kv, std::uint64_t ffn, std::uint64_t vocab) {
    auto ms = clipMatrices();
    ms.push_back({d, 1024, 1});                       // projector linear_1
    ms.push_back({d, d, 1});                          // projector linear_2
    ms.push_back({vocab, d, 2});                      // embed_tokens, lm_head
    ms.push_back({d, d, 2 * layers});                 // q, o
    ms.push_back({kv, d, 2 * layers});                // k, v
    ms.push_back({ffn, d, 2 * layers});               // gate, up
    ms.push_back({d, ffn, layers});                   // down
    return ms;
}

}  // namespace

class TstMemoryPlan : public QObject {
    Q_OBJECT
private slots:
    void presetWeights_data();
    void presetWeights();
    void presetKvAndScratch();
    void matchesRealLoad_data();
    void matchesRealLoad();
    void engineLoadRefusesWhatCannotFit();
    void recommendsLargestThatFits();
    void memAvailable();
};

void TstMemoryPlan::presetWeights_data() {
    QTest::addColumn<QString>("preset");
    QTest::addColumn<quint64>("params");
    QTest::addColumn<quint64>("q8");
    QTest::addColumn<quint64>("q4");
    const auto mistral = llmMatrices(4096, 32, 1024, 14336, 32000);
    const auto yi = llmMatrices(7168, 60, 1024, 20480, 64000);
    // Non-matrix parameters stay BF16 (2 bytes) under Q8/Q4.
    const std::uint64_t m = kMistralParams - kNotUploaded, y = kYiParams - kNotUploaded;
    QTest::newRow("mistral-7b") << "llava-v1.6-mistral-7b" << quint64(m)
                                << quint64(q8Bytes(mistral) + 2 * (m - matrixParams(mistral)))
                                << quint64(q4Bytes(mistral) + 2 * (m - matrixParams(mistral)));
    QTest::newRow("34b") << "llava-v1.6-34b" << quint64(y) << quint64(q8Bytes(yi) + 2 * (y - matrixParams(yi)))
                         << quint64(q4Bytes(yi) + 2 * (y - matrixParams(yi)));
}

void TstMemoryPlan::presetWeights() {
    QFETCH(QString, preset);
    QFETCH(quint64, params);
    QFETCH(quint64, q8);
    QFETCH(quint64, q4);
    auto config = loadPreset(preset.toStdString());
    QVERIFY2(config.isOk(), config.isOk() ? "" : config.status().message().c_str());
    const std::vector<TensorView> views = plannedTensorsFromConfig(*config, DType::BF16);
    std::vector<const TensorView*> ptrs;
    for (const auto& v : views) ptrs.push_back(&v);
    const MemoryPlan plan = planMemory(*config, ptrs, {});
    QCOMPARE(plan.find(WeightPrecision::AsStored)->weightBytes, 2 * params);
    QCOMPARE(plan.find(WeightPrecision::F16)->weightBytes, 2 * params);
    QCOMPARE(plan.find(WeightPrecision::Q8)->weightBytes, q8);
    QCOMPARE(plan.find(WeightPrecision::Q4)->weightBytes, q4);
}

// KV cache: 2 (k, v) x layers x context x (8 KV heads x 128) x 4 bytes (CPU, F32) or 2 (CUDA, F16 cache).
//   mistral-7b, context 4096: 2*32*4096*1024*4 = 1,073,741,824 (CPU); 536,870,912 (CUDA)
//   34b, context 4096 (its max_position_embeddings): 2*60*4096*1024*4 = 2,013,265,920 (CPU); 1,006,632,960
//   34b asked for 8192 is clamped to 4096, as Engine::load clamps.
// Scratch (F32 activations): LLM rows c = 256 (CPU) / 1024 (CUDA):
//   c*(2d + 2*q + 2*kv + 2*ffn) + d + vocab + 2;  CLIP, 5 crops (base + 2x2 tiles of 672x672):
//   5*3*336*336 + 2880*1024 (patches) + 6*2885*1024 (h, hn, q, k, v, att) + 2885*4096 (fc1) + 2*2880*d.
//   mistral CPU: 256*(8192 + 8192 + 2048 + 28672) + 4096 + 32000 + 2 = 12,094,722 elements; CLIP with d = 4096:
//     1,693,440 + 2,949,120 + 17,725,440 + 11,816,960 + 23,592,960 = 57,777,920 elements;
//     (12,094,722 + 57,777,920) * 4 = 279,490,568 bytes. The other three rows follow the same formula.
void TstMemoryPlan::presetKvAndScratch() {
    auto mistral = loadPreset("llava-v1.6-mistral-7b");
    auto yi = loadPreset("llava-v1.6-34b");
    QVERIFY(mistral.isOk() && yi.isOk());
    QCOMPARE(plannedKvCacheBytes(*mistral, 4096, false), 1073741824ull);
    QCOMPARE(plannedKvCacheBytes(*mistral, 4096, true), 536870912ull);
    QCOMPARE(plannedKvCacheBytes(*yi, 4096, false), 2013265920ull);
    QCOMPARE(plannedScratchBytes(*mistral, 4096, 256), 279490568ull);
    QCOMPARE(plannedScratchBytes(*mistral, 4096, 1024), 424194056ull);
    QCOMPARE(plannedScratchBytes(*yi, 4096, 256), 375575560ull);
    QCOMPARE(plannedScratchBytes(*yi, 4096, 1024), 595776520ull);

    const auto views = plannedTensorsFromConfig(*yi, DType::BF16);
    std::vector<const TensorView*> ptrs;
    for (const auto& v : views) ptrs.push_back(&v);
    MemoryPlanOptions options;
    options.device = PlanDevice::Cuda;
    options.contextLength = 8192;
    const MemoryPlan plan = planMemory(*yi, ptrs, options);
    QCOMPARE(plan.contextLength, 4096);
    QCOMPARE(plan.find(WeightPrecision::Q4)->kvCacheBytes, 1006632960ull);  // F16 cache on CUDA
    QCOMPARE(plan.find(WeightPrecision::Q4)->scratchBytes, 595776520ull);
}

void TstMemoryPlan::matchesRealLoad_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("precision");
    QTest::addColumn<QString>("kvCache");
    // kv auto: an F16 cache for every 16-bit / quantised row, an F32 one for f32 weights; kv f32 forces F32.
    for (const char* p : {"as-stored", "f16", "q8", "q4", "f32"}) {
        QTest::newRow(qPrintable(QStringLiteral("hf-") + p)) << "llava-v1.6-mistral-tiny-hf" << p << "auto";
        QTest::newRow(qPrintable(QStringLiteral("orig-") + p)) << "llava-v1.6-mistral-tiny" << p << "auto";
    }
    QTest::newRow("hf-as-stored kv f32") << "llava-v1.6-mistral-tiny-hf" << "as-stored" << "f32";
    QTest::newRow("hf-q4 kv f32") << "llava-v1.6-mistral-tiny-hf" << "q4" << "f32";
}

void TstMemoryPlan::matchesRealLoad() {
    QFETCH(QString, folder);
    QFETCH(QString, precision);
    QFETCH(QString, kvCache);
    const std::string dir = LLAVA_SOURCE_DIR "/tests/fixtures/models/" + folder.toStdString();
    WeightPrecision p{};
    QVERIFY(parseWeightPrecision(precision.toStdString(), &p));
    KvCacheFormat kv{};
    QVERIFY(parseKvCacheFormat(kvCache.toStdString(), &kv));
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 1;
    options.precision = p;
    options.contextLength = 300;
    options.kvCache = kv;
    options.tokenizerPath = llavatest::tokenizerPath(llavatest::kMistral).toStdString();
    auto engine = Engine::load(dir, options);
    QVERIFY2(engine.isOk(), engine.isOk() ? "" : engine.status().message().c_str());
    const BackendMemory real = (*engine)->backendReport().memory;
    // The tiny mistral (config.json): k and v x 2 layers x 300 rows x (2 kv heads x headDim 32/4 = 8) elements;
    // F16 (2 bytes) for 16-bit or quantised weights under auto, else F32.
    const bool f16 = kv == KvCacheFormat::Auto && p != WeightPrecision::F32;
    QCOMPARE(real.kvCacheBytes, std::uint64_t(2 * 2 * 300 * 16) * (f16 ? 2 : 4));

    auto checkpoint = Checkpoint::open(dir);
    QVERIFY(checkpoint.isOk());
    MemoryPlanOptions planOptions;
    planOptions.contextLength = 300;
    planOptions.kvCache = kv;
    const MemoryPlan plan = planMemory((*checkpoint)->config(), (*checkpoint)->tensors(), planOptions, p);
    const PrecisionPlan* row = plan.find(p);
    QVERIFY(row);
    QCOMPARE(row->weightBytes, real.weightBytes + real.mappedWeightBytes);
    QCOMPARE(row->kvCacheBytes, real.kvCacheBytes);
    QCOMPARE(row->scratchBytes, real.scratchBytes);
}

// Engine::load on the CPU refuses, before allocating, a model whose plan does not fit the memory budget.
void TstMemoryPlan::engineLoadRefusesWhatCannotFit() {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 1;
    options.contextLength = 300;
    options.tokenizerPath = llavatest::tokenizerPath(llavatest::kMistral).toStdString();
    options.hostMemoryBudget = 1000000;  // 1 MB: the tiny model needs ~15 MB at 300 tokens
    const std::string dir = LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf";
    auto refused = Engine::load(dir, options);
    QVERIFY(!refused.isOk());
    QCOMPARE(refused.status().code(), ErrorCode::OutOfMemory);
    const QString message = QString::fromStdString(refused.status().message());
    QVERIFY2(message.contains("as-stored weights need") && message.contains("no precision fits"), qPrintable(message));
    options.memoryCheck = MemoryCheck::Skip;
    QVERIFY(Engine::load(dir, options).isOk());
    options.memoryCheck = MemoryCheck::Refuse;
    options.hostMemoryBudget = 0;  // the real MemAvailable: a few MB fit on any test machine
    QVERIFY(Engine::load(dir, options).isOk());
}

void TstMemoryPlan::recommendsLargestThatFits() {
    auto config = loadPreset("llava-v1.6-mistral-7b");
    QVERIFY(config.isOk());
    const auto views = plannedTensorsFromConfig(*config, DType::BF16);
    std::vector<const TensorView*> ptrs;
    for (const auto& v : views) ptrs.push_back(&v);
    MemoryPlanOptions options;
    // 10 GiB: BF16 needs 15,107,250,176 + 536,870,912 (KV, 4096 tokens, F16: the default cache for 16-bit
    // weights on the CPU too) + 279,490,568 (scratch) = 15,923,611,656 bytes = 14.83 GiB and cannot fit; Q8
    // (7.8 GiB) can. With an F32 cache (kvCache f32) the KV part doubles: 16,460,482,568 bytes = 15.33 GiB.
    options.availableBytes = 10ull << 30;
    MemoryPlanOptions f32Cache = options;
    f32Cache.kvCache = KvCacheFormat::F32;
    const QString f32Message = QString::fromStdString(checkPlanFits(planMemory(*config, ptrs, f32Cache), WeightPrecision::AsStored).message());
    QVERIFY2(f32Message.contains("15.33 GiB"), qPrintable(f32Message));
    const MemoryPlan plan = planMemory(*config, ptrs, options);
    QVERIFY(plan.recommended.has_value());
    QCOMPARE(*plan.recommended, WeightPrecision::Q8);
    QVERIFY(!plan.find(WeightPrecision::AsStored)->fits);
    QVERIFY(plan.find(WeightPrecision::Q4)->fits);
    const Status refused = checkPlanFits(plan, WeightPrecision::AsStored);
    QCOMPARE(refused.code(), ErrorCode::OutOfMemory);
    const QString message = QString::fromStdString(refused.message());
    QVERIFY2(message.contains("14.83 GiB") && message.contains("10.00 GiB") && message.contains("q8 fits"),
             qPrintable(message));
    QVERIFY(checkPlanFits(plan, WeightPrecision::Q4).isOk());
    const QString table = QString::fromStdString(formatMemoryPlan(plan));
    QVERIFY2(table.contains("recommended: q8"), qPrintable(table));

    options.availableBytes = 1ull << 30;  // nothing fits in 1 GiB
    const MemoryPlan none = planMemory(*config, ptrs, options);
    QVERIFY(!none.recommended.has_value());
    QVERIFY(QString::fromStdString(checkPlanFits(none, WeightPrecision::Q4).message()).contains("no precision fits"));
}

void TstMemoryPlan::memAvailable() {
    auto parsed = parseMemAvailable("MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   22000000 kB\n");
    QVERIFY(parsed.isOk());
    QCOMPARE(*parsed, 22000000ull * 1024);
    QVERIFY(!parseMemAvailable("MemTotal: 5 kB\n").isOk());
    QVERIFY(!parseMemAvailable("MemAvailable: lots\n").isOk());
    auto host = availableHostMemory();
    QVERIFY2(host.isOk() && *host > 0, host.isOk() ? "" : host.status().message().c_str());
}

QTEST_GUILESS_MAIN(TstMemoryPlan)
#include "tst_memoryplan.moc"
