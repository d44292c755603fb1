// Stage waterfall (GenerationStats::stages) of real replies on the tiny fixture model: the structure and
// the accounting, never the timing values. Guards against: a stage missing or out of order, prefill chunks
// that do not cover the prompt exactly once, decode steps miscounted (first vs steady), FLOP/byte formulas
// drifting from the hand-computed values for the tiny Mistral shapes, stages leaking into the next reply.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "enginetesthelpers.h"
#include "llava/engine.h"
#include "llava/stages.h"

using namespace llava;

namespace {

const std::filesystem::path kFixtureHf =
    std::filesystem::path(LLAVA_SOURCE_DIR) / "tests/fixtures/models/llava-v1.6-mistral-tiny-hf";

std::vector<const StageTiming*> named(const GenerationStats& s, std::string_view name) {
    std::vector<const StageTiming*> out;
    for (const auto& t : s.stages)
        if (t.name == name) out.push_back(&t);
    return out;
}

// Hand-computed for llava-v1.6-mistral-tiny-hf (tests/fixtures/README.md): dModel 32, 2 layers, 4 q heads and
// 2 kv heads of dim 8, FFN 64, vocab 32064. Per row per layer: 2 * (32*32 + 2*32*16 + 32*32 + 3*32*64) = 18432;
// attention 2 * 2 * 32 per key; lm_head 2 * 32 * 32064 = 2052096.
double tinyDecoderFlops(double rows, double position, bool head) {
    const double keys = rows * position + rows * (rows + 1) / 2;
    return 2 * (18432 * rows + 128 * keys) + (head ? 2052096.0 : 0.0);
}

}  // namespace

class TestStages : public QObject {
    Q_OBJECT
    std::unique_ptr<Engine> m_engine;

private slots:
    void initTestCase() {
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.contextLength = 4096;
        options.tokenizerPath = LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model";
        auto engine = Engine::load(kFixtureHf, options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        m_engine = std::move(*engine);
    }

    void imageReply() {
        m_engine->session().clear();
        const RgbImage image = test::patternImage(640, 480);
        auto layout = m_engine->planImage(640, 480);
        QVERIFY(layout.isOk());
        const int n = 6;
        auto rec = test::replyRecorded(m_engine->session(), {"What is this?", {image}}, test::greedy(n));
        QVERIFY2(rec.stats.isOk(), rec.stats.status().toString().c_str());
        const GenerationStats& s = *rec.stats;
        QCOMPARE(s.stopReason, StopReason::MaxTokens);

        // Order: preprocess, clip, projector, merge, prefill chunks, decode.first, decode.steady.
        const std::vector<std::string_view> order = {kStagePreprocess, kStageClip, kStageProjector, kStageMerge,
                                                     kStagePrefillChunk, kStageDecodeFirst, kStageDecodeSteady};
        std::size_t rank = 0;
        double lastStart = -1;
        for (const auto& t : s.stages) {
            while (rank < order.size() && order[rank] != t.name) ++rank;
            QVERIFY2(rank < order.size(), qPrintable(QStringLiteral("stage %1 out of order").arg(QString::fromStdString(t.name))));
            QVERIFY(t.startMs >= lastStart);
            QVERIFY(t.ms >= 0);
            lastStart = t.startMs;
        }
        QCOMPARE(named(s, kStagePreprocess).size(), std::size_t(1));
        QCOMPARE(named(s, kStagePreprocess)[0]->items, std::int64_t(layout->cropCount()));
        std::int64_t crops = 0;
        for (const auto* t : named(s, kStageClip)) crops += t->items;
        QCOMPARE(crops, std::int64_t(layout->cropCount()));
        QCOMPARE(named(s, kStageProjector).size(), named(s, kStageClip).size());
        QCOMPARE(named(s, kStageMerge).size(), std::size_t(1));
        QCOMPARE(named(s, kStageMerge)[0]->items, std::int64_t(layout->imageTokens));

        // Prefill chunks cover [0, prompt) once, contiguously; prompt = context used minus the decode steps.
        const auto chunks = named(s, kStagePrefillChunk);
        QVERIFY(!chunks.empty());
        std::int64_t next = 0;
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            QCOMPARE(chunks[i]->index, static_cast<int>(i));
            QCOMPARE(chunks[i]->position, next);
            const bool last = i + 1 == chunks.size();
            QCOMPARE(chunks[i]->flops, tinyDecoderFlops(double(chunks[i]->items), double(next), last));
            QVERIFY(chunks[i]->bytes > 0);
            next += chunks[i]->items;
        }
        const std::int64_t prompt = next;
        QCOMPARE(prompt, std::int64_t(s.imageTokens + s.textTokens));

        // Every emitted token is decoded once (max-tokens stop): 1 first + n - 1 steady steps.
        QCOMPARE(named(s, kStageDecodeFirst).size(), std::size_t(1));
        const StageTiming& first = *named(s, kStageDecodeFirst)[0];
        QCOMPARE(first.items, std::int64_t(1));
        QCOMPARE(first.position, prompt);
        QCOMPARE(first.flops, tinyDecoderFlops(1, double(prompt), true));
        QCOMPARE(named(s, kStageDecodeSteady).size(), std::size_t(1));
        const StageTiming& steady = *named(s, kStageDecodeSteady)[0];
        QCOMPARE(steady.items, std::int64_t(n - 1));
        QCOMPARE(steady.position, prompt + 1);
        double expected = 0;
        for (int k = 1; k < n; ++k) expected += tinyDecoderFlops(1, double(prompt + k), true);
        QVERIFY(std::fabs(steady.flops - expected) <= 1e-9 * expected);

        // CLIP per crop (3 layers stored, feature layer -2: 2 run), width 32, FFN 64, 577 tokens:
        // patch embed 2*576*588*32 and per layer 2*577*(4*32*32 + 2*32*64) + 4*577*577*32.
        const double perCrop = 2.0 * 576 * 588 * 32 + 2 * (2.0 * 577 * (4 * 1024 + 2 * 2048) + 4.0 * 577 * 577 * 32);
        QCOMPARE(named(s, kStageClip)[0]->flops, perCrop * double(named(s, kStageClip)[0]->items));
    }

    // A follow-up text turn: no image stages, one prefill of the new tokens after the cached prefix.
    void followUpReply() {
        auto rec = test::replyRecorded(m_engine->session(), {"And then?", {}}, test::greedy(3));
        QVERIFY2(rec.stats.isOk(), rec.stats.status().toString().c_str());
        const GenerationStats& s = *rec.stats;
        QVERIFY(named(s, kStageClip).empty());
        QVERIFY(named(s, kStagePreprocess).empty());
        const auto chunks = named(s, kStagePrefillChunk);
        QVERIFY(!chunks.empty());
        QVERIFY(chunks[0]->position > 0);  // the earlier turn is reused from the cache
        QCOMPARE(chunks[0]->index, 0);     // indices restart per answer
    }
};

QTEST_GUILESS_MAIN(TestStages)
#include "tst_stages.moc"
