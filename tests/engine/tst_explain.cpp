// explainAnswer (llava/explain.h) on the tiny mistral -hf fixture: the mass split and the image map for the
// first answer token equal HF transformers' eager attention (tests/fixtures/golden/attention, the last prompt
// position = the query that predicted answer token 0) averaged over layers and heads, within 1e-5.
// Guards against: the query position off by one (explaining the wrong token), the image range of the
// sequence misplaced, the layer/head mean or the projection losing mass, the session left with a stale cache.
#include <QtTest>
#include <QImage>

#include <cmath>
#include <cstring>

#include "fixtureimage.h"
#include "llava/explain.h"
#include "llava/safetensors.h"

using namespace llava;
using test::loadFixtureRgb;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);

}  // namespace

class TestExplain : public QObject {
    Q_OBJECT
private slots:
    void firstTokenMatchesEagerAttention() {
        auto golden = SafetensorsFile::open(
            (kRoot + "/tests/fixtures/golden/attention/llava-v1.6-mistral-tiny-hf__landscape_640x480.safetensors").toStdString());
        QVERIFY2(golden.isOk(), golden.status().toString().c_str());
        const TensorView* rowsView = golden->find("rows");
        const TensorView* posView = golden->find("positions");
        QVERIFY(rowsView && posView);
        const int P = static_cast<int>(rowsView->shape[0]), L = static_cast<int>(rowsView->shape[1]);
        const int H = static_cast<int>(rowsView->shape[2]), T = static_cast<int>(rowsView->shape[3]);
        const auto* rows = reinterpret_cast<const float*>(rowsView->data);
        const auto* positions = reinterpret_cast<const std::int64_t*>(posView->data);
        QCOMPARE(positions[P - 1], std::int64_t(T - 1));  // the last row is the last prompt position

        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.kvCache = KvCacheFormat::F32;  // 1e-5 against fp32 HF (the F16 cache: tst_attentionparity)
        options.tokenizerPath = LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model";
        auto engine = Engine::load((kRoot + "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf").toStdString(), options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        SamplingParams sampling;
        sampling.temperature = 0;
        sampling.maxNewTokens = 4;
        ExplainOptions explain;
        explain.firstToken = 0;
        explain.lastToken = 0;
        const UserMessage message{"What is in this picture?", {loadFixtureRgb(kRoot + "/tests/fixtures/images/landscape_640x480.png")}};
        auto result = explainAnswer(**engine, message, sampling, explain);
        QVERIFY2(result.isOk(), result.status().toString().c_str());
        QCOMPARE(result->promptLength, T);
        QCOMPARE(static_cast<int>(result->answerIds.size()), 4);

        // HF: mean over layers and heads of the last prompt row, split by segment.
        const int imageBegin = result->imageBegin, imageEnd = imageBegin + result->layout.imageTokens;
        std::vector<double> mean(static_cast<std::size_t>(T), 0.0);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int j = 0; j < T; ++j)
                    mean[static_cast<std::size_t>(j)] += rows[((std::size_t(P - 1) * L + l) * H + h) * T + j] / (L * H);
        double before = 0, image = 0, after = 0;
        for (int j = 0; j < T; ++j) (j < imageBegin ? before : j < imageEnd ? image : after) += mean[static_cast<std::size_t>(j)];
        QVERIFY(std::fabs(result->massTextBefore - before) <= 1e-5);
        QVERIFY(std::fabs(result->massImage - image) <= 1e-5);
        QVERIFY(std::fabs(result->massTextAfter - after) <= 1e-5);
        QCOMPARE(result->massAnswer, 0.0);  // token 0 sees no answer text
        const ImageAttentionMap& map = result->map;
        QVERIFY(std::fabs(map.baseMass + map.gridMass + map.newlineMass - result->massImage) <= 1e-6);
        // One cell per segment part checked against HF: base cell 0 and the first kept grid cell.
        QVERIFY(std::fabs(map.base[0] - mean[static_cast<std::size_t>(imageBegin)]) <= 1e-5);
        const int firstGrid = (result->layout.keptRowBegin * map.mapCols) + result->layout.keptColBegin;
        QVERIFY(std::fabs(map.grid[static_cast<std::size_t>(firstGrid)] - mean[static_cast<std::size_t>(imageBegin + 576)]) <= 1e-5);

        // The session was cleared (its cache was overwritten); a new reply works and matches the first one.
        QCOMPARE((*engine)->session().contextUsed(), 0);
        std::vector<std::int32_t> again;
        auto stats = (*engine)->session().reply(message, sampling, [&](const TokenEvent& e) {
            if (e.id >= 0) again.push_back(e.id);
            return true;
        }, {});
        QVERIFY(stats.isOk());
        QCOMPARE(again, result->answerIds);
    }

    void badInput() {
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.tokenizerPath = LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model";
        auto engine = Engine::load((kRoot + "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf").toStdString(), options);
        QVERIFY(engine.isOk());
        SamplingParams sampling;
        sampling.temperature = 0;
        sampling.maxNewTokens = 2;
        QVERIFY(!explainAnswer(**engine, {"no image", {}}, sampling, {}).isOk());
        ExplainOptions outOfRange;
        outOfRange.firstToken = 5;
        outOfRange.lastToken = 5;
        QVERIFY(!explainAnswer(**engine, {"hi", {RgbImage::black(40, 30)}}, sampling, outOfRange).isOk());
        ExplainOptions badLayer;
        badLayer.firstLayer = 7;
        QVERIFY(!explainAnswer(**engine, {"hi", {RgbImage::black(40, 30)}}, sampling, badLayer).isOk());
    }
};

QTEST_GUILESS_MAIN(TestExplain)
#include "tst_explain.moc"
