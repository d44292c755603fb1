// The engine with the F16 KV cache the CPU backend keeps by default for 16-bit or quantised weights
// (EngineOptions::kvCache = Auto) against the same engine with an F32 cache, on every tiny fixture folder
// (16-bit weights as stored, and q8 quantised from them): an image question and a text follow-up, 32 greedy
// tokens each, must give identical token ids, and the chosen tokens' log-probabilities must agree within 2e-3
// (fp16 rounding of the cached k and v, relative 2^-12 per element, moves the tiny models' logits by ~2e-4,
// tst_llavaparity; log-softmax carries that over; 2e-3 leaves 10x margin yet catches a wrong row, head or
// position, which moves them by O(0.1..1)). q8/q4 rows allow 0.1: their decode steps round each activation
// block to int8 (cpuint8.h, step = block max / 127), so the ~1e-4 the F16 cache moves an activation can carry it
// across a rounding boundary, a jump of ~0.8 % of the block max; that is the int8 path's own error (bounded in
// tst_int8gemv), not the cache's; measured 0.025. The backend's memory report must show the F16 cache's bytes.
// Guards against: the decode step (ropeWriteRowAt / attentionAt) or the cache reuse of a second turn reading
// 16-bit rows as floats or at the wrong pitch, Auto choosing F32 for 16-bit weights (no saving), or F16 for the
// fp32 path (f32 weights must keep the exact cache).
#include <QtTest>

#include <cmath>

#include "enginetesthelpers.h"
#include "fixtureimage.h"
#include "llava/engine.h"

using namespace llava;
using test::loadFixtureRgb;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);

struct Run {
    std::vector<std::int32_t> ids;
    std::vector<double> logprobs;  // chosen token's raw model log-probability per step
    BackendMemory memory;
    std::string error;
};

std::string tokenizerFor(const QString& folder) {
    const char* name = folder.contains("vicuna") ? "llama-2.model" : folder.contains("34b") ? "yi-34b.model" : "mistral-7b-v0.1.model";
    return std::string(LLAVA_SHARED_DIR "/assets/tokenizers/") + name;
}

Run chat(const QString& folder, WeightPrecision precision, KvCacheFormat kvCache) {
    Run run;
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.precision = precision;
    options.kvCache = kvCache;
    options.contextLength = 3000;
    options.tokenizerPath = tokenizerFor(folder);
    auto engine = Engine::load((kRoot + "/tests/fixtures/models/" + folder).toStdString(), options);
    if (!engine.isOk()) {
        run.error = engine.status().toString();
        return run;
    }
    run.memory = (*engine)->backendReport().memory;
    SamplingParams sampling = test::greedy(32);
    sampling.logprobs = 1;
    const UserMessage turns[] = {
        {"What is in this picture?", {loadFixtureRgb(kRoot + "/tests/fixtures/images/landscape_640x480.png")}},
        {"Describe it again, in more detail.", {}}};
    for (const UserMessage& message : turns) {
        auto stats = (*engine)->session().reply(message, sampling, [&](const TokenEvent& e) {
            if (e.id >= 0 && e.confidence) {
                run.ids.push_back(e.id);
                run.logprobs.push_back(e.confidence->chosen.rawLogprob);
            }
            return true;
        }, {});
        if (!stats.isOk()) {
            run.error = stats.status().toString();
            return run;
        }
    }
    return run;
}

}  // namespace

class TestF16KvEngine : public QObject {
    Q_OBJECT
private slots:
    void sameTokensAsF32Cache_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("precision");
        for (const char* folder : {"llava-v1.6-mistral-tiny-hf", "llava-v1.6-mistral-tiny", "llava-v1.6-vicuna-tiny-hf",
                                   "llava-v1.6-vicuna-tiny", "llava-v1.6-34b-tiny-hf", "llava-v1.6-34b-tiny"})
            QTest::addRow("%s as-stored", folder) << QString(folder) << "as-stored";
        QTest::addRow("mistral-tiny-hf q8") << "llava-v1.6-mistral-tiny-hf" << "q8";
        QTest::addRow("mistral-tiny-hf q4") << "llava-v1.6-mistral-tiny-hf" << "q4";
    }
    void sameTokensAsF32Cache() {
        QFETCH(QString, folder);
        QFETCH(QString, precision);
        WeightPrecision p{};
        QVERIFY(parseWeightPrecision(precision.toStdString(), &p));
        const Run f16 = chat(folder, p, KvCacheFormat::Auto);
        const Run f32 = chat(folder, p, KvCacheFormat::F32);
        QVERIFY2(f16.error.empty(), f16.error.c_str());
        QVERIFY2(f32.error.empty(), f32.error.c_str());
        // Auto chose F16 for these 16-bit / quantised weights: the cache takes half the F32 bytes.
        QVERIFY(f32.memory.kvCacheBytes > 0);
        QCOMPARE(f16.memory.kvCacheBytes * 2, f32.memory.kvCacheBytes);
        QCOMPARE(f16.ids.size(), f32.ids.size());
        QVERIFY(f16.ids.size() >= 2);
        QCOMPARE(f16.ids, f32.ids);
        double worst = 0;
        for (std::size_t i = 0; i < f16.logprobs.size(); ++i) worst = std::max(worst, std::fabs(f16.logprobs[i] - f32.logprobs[i]));
        qInfo("%zu tokens identical; chosen log-probability max abs diff %.3g", f16.ids.size(), worst);
        const double tolerance = p == WeightPrecision::Q8 || p == WeightPrecision::Q4 ? 0.1 : 2e-3;
        QVERIFY2(worst <= tolerance, qPrintable(QString::number(worst)));
    }

    // f32 weights keep the exact F32 cache under Auto (the fp32 path is unchanged).
    void f32WeightsKeepF32Cache() {
        const Run f32Weights = chat("llava-v1.6-mistral-tiny-hf", WeightPrecision::F32, KvCacheFormat::Auto);
        const Run forced = chat("llava-v1.6-mistral-tiny-hf", WeightPrecision::F32, KvCacheFormat::F32);
        QVERIFY2(f32Weights.error.empty(), f32Weights.error.c_str());
        QVERIFY2(forced.error.empty(), forced.error.c_str());
        QCOMPARE(f32Weights.memory.kvCacheBytes, forced.memory.kvCacheBytes);
        QCOMPARE(f32Weights.ids, forced.ids);
        QCOMPARE(f32Weights.logprobs, forced.logprobs);  // bit-identical: the same path
    }
};

QTEST_GUILESS_MAIN(TestF16KvEngine)
#include "tst_f16kvengine.moc"
