// tst_precisionnotice: q4 that the backends store as q8 is said, not silent (issue 10 item 19's "visible
// notice when the backend fell back"). Hand-made tensor lists (q4 needs cols % 128 == 0, the group size)
// and a real load of a tiny fixture, whose widths (hidden 8 / 32, MLP 24 / 37...) are all below 128, so
// every matrix must fall back and BackendReport::notice must say so.
#include <QTest>

#include "llava/engine.h"
#include "llava/precisionnotice.h"
#include "text/testtokenizers.h"

using namespace llava;

namespace {
TensorView view(const std::string& name, Shape shape) {
    TensorView v;
    v.name = name;
    v.dtype = DType::F16;
    v.shape = std::move(shape);
    std::int64_t n = 1;
    for (std::int64_t d : v.shape) n *= d;
    v.byteSize = std::size_t(n) * 2;
    return v;
}
}  // namespace

class TstPrecisionNotice : public QObject {
    Q_OBJECT
private slots:
    void countsFallbacks();
    void tinyFixtureSaysQ4NotApplied();
};

void TstPrecisionNotice::countsFallbacks() {
    const TensorView ok = view("text.layers.0.self_attn.q_proj.weight", {256, 4096});    // 4096 % 128 == 0: q4
    const TensorView odd = view("text.layers.0.mlp.down_proj.weight", {4096, 11000});   // 11000 % 128 == 120: q8
    const TensorView norm = view("text.layers.0.input_layernorm.weight", {4096});      // 1-D: as stored
    const TensorView pos = view("vision.embeddings.position_embedding.weight", {577, 1000});  // never quantised
    const std::vector<const TensorView*> all{&ok, &odd, &norm, &pos};
    const std::string notice = precisionFallbackNotice(all, WeightPrecision::Q4);
    QVERIFY2(notice.find("q4: 1 of 2 weight matrices are stored as q8") == 0, notice.c_str());
    QVERIFY2(notice.find("text.layers.0.mlp.down_proj.weight has 11000 columns") != std::string::npos, notice.c_str());
    QVERIFY(precisionFallbackNotice({&ok, &norm, &pos}, WeightPrecision::Q4).empty());
    for (WeightPrecision p : {WeightPrecision::AsStored, WeightPrecision::F16, WeightPrecision::F32, WeightPrecision::Q8})
        QVERIFY(precisionFallbackNotice(all, p).empty());
    const std::string allOdd = precisionFallbackNotice({&odd, &norm}, WeightPrecision::Q4);
    QVERIFY2(allOdd.find("q4 not applied: all 1 weight matrices are stored as q8") == 0, allOdd.c_str());
}

void TstPrecisionNotice::tinyFixtureSaysQ4NotApplied() {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 1;
    options.contextLength = 64;
    options.precision = WeightPrecision::Q4;
    options.tokenizerPath = llavatest::tokenizerPath(llavatest::kMistral).toStdString();
    const std::string dir = LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf";
    auto engine = Engine::load(dir, options);
    QVERIFY2(engine.isOk(), engine.isOk() ? "" : engine.status().message().c_str());
    const ModelConfig& c = (*engine)->config();
    // Why every matrix falls back: each one's column count is one of these widths.
    for (int cols : {c.text.dModel, c.text.dFfn, c.text.nHeads * c.text.headDim, c.vision.dVision, c.vision.dFfn})
        QVERIFY2(cols % 128 != 0, qPrintable(QString::number(cols)));
    const std::string notice = (*engine)->backendReport().notice;
    QVERIFY2(notice.find("q4 not applied: all ") != std::string::npos, notice.c_str());
    options.precision = WeightPrecision::Q8;
    auto q8 = Engine::load(dir, options);
    QVERIFY(q8.isOk());
    QVERIFY2((*q8)->backendReport().notice.find("q4") == std::string::npos, (*q8)->backendReport().notice.c_str());
}

QTEST_GUILESS_MAIN(TstPrecisionNotice)
#include "tst_precisionnotice.moc"
