// Engine/ChatSession behaviour end to end on the demo model (random weights, real topology) and the
// llava-hf fixture folder. Guards against: streamed text that differs from the detokenized ids, greedy
// non-determinism (in process and across reloads), a KV-cache reuse that prefills too much or computes
// something different from a fresh full-prompt forward, stop strings leaking into the stream, bad
// folders crashing or giving vague messages, context overflow or cancellation corrupting the session,
// the zero-row anyres case, two images, and empty messages.
#include <QtTest>

#include <chrono>

#include "enginetesthelpers.h"
#include "llava/chattemplate.h"
#include "llava/checkpointwriter.h"
#include "llava/demomodel.h"
#include "llava/preprocess.h"
#include "llava/prompt.h"
#include "llava/safetensors.h"
#include "llava/tokenizer.h"
#include "model/llavamodel.h"

using namespace llava;
using test::greedy;
using test::replyRecorded;

namespace {

const std::filesystem::path kFixtureHf = std::filesystem::path(LLAVA_SOURCE_DIR) / "tests/fixtures/models/llava-v1.6-mistral-tiny-hf";

std::unique_ptr<Engine> loadOrFail(const std::filesystem::path& dir, int context) {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = context;
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) qWarning("%s", engine.status().toString().c_str());
    return engine.isOk() ? std::move(*engine) : nullptr;
}

std::string repeatText(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

class TestEngine : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_demo;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<Tokenizer> m_tokenizer;

private slots:
    void initTestCase() {
        m_demo = std::filesystem::path(m_tmp.path().toStdString()) / "demo";
        auto info = writeDemoModel(m_demo);
        QVERIFY2(info.isOk(), info.status().toString().c_str());
        m_engine = loadOrFail(m_demo, 4096);
        QVERIFY(m_engine);
        auto tok = Tokenizer::loadFile(m_demo / "tokenizer.model");
        QVERIFY(tok.isOk());
        m_tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
    }
    void init() { m_engine->session().clear(); }

    // Concatenated pieces == sentencepiece decode of the streamed ids (id -1 = end flush, no token).
    void streamedTextEqualsDecodedIds() {
        const auto r = replyRecorded(m_engine->session(), {"Tell me a story about the harbour.", {}}, greedy(40));
        QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
        std::vector<int> ids;
        for (auto id : r.ids)
            if (id >= 0) ids.push_back(id);
        QCOMPARE(static_cast<int>(ids.size()), r.stats->generatedTokens);
        QVERIFY(r.stats->stopReason != StopReason::StopString);
        QCOMPARE(r.text, m_tokenizer->decode(ids));
    }

    // Same prompt twice in one process and in a freshly loaded engine -> same ids.
    void greedyDeterministic() {
        const UserMessage m{"Describe the picture.", {test::patternImage(200, 150)}};
        const auto a = replyRecorded(m_engine->session(), m, greedy(12));
        QVERIFY(a.stats.isOk());
        m_engine->session().clear();
        const auto b = replyRecorded(m_engine->session(), m, greedy(12));
        auto reloaded = loadOrFail(m_demo, 4096);
        QVERIFY(reloaded);
        const auto c = replyRecorded(reloaded->session(), m, greedy(12));
        QVERIFY(b.stats.isOk() && c.stats.isOk());
        QVERIFY(!a.ids.empty());
        QCOMPARE(b.ids, a.ids);
        QCOMPARE(c.ids, a.ids);
    }

    // Turn 2 prefills only what follows the cached prefix, and its greedy tokens equal one forward over
    // the whole two-turn prompt in a fresh model (LlavaModel directly, no cache reuse).
    void multiTurnReusesCache() {
        ChatSession& chat = m_engine->session();
        const RgbImage image = test::patternImage(300, 200);
        const auto t1 = replyRecorded(chat, {"What is this?", {image}}, greedy(6));
        QVERIFY(t1.stats.isOk());
        const int used1 = chat.contextUsed();
        const auto t2 = replyRecorded(chat, {"And the colours?", {}}, greedy(8));
        QVERIFY2(t2.stats.isOk(), t2.stats.status().toString().c_str());
        QCOMPARE(chat.turns(), 2);

        // Independent prompt for the whole conversation.
        const ModelConfig& config = m_engine->config();
        auto tmpl = findChatTemplate(config.templateName);
        QVERIFY(tmpl.isOk());
        RenderOptions render;
        render.flavour = TemplateFlavour::Transformers;
        render.nImages = 1;
        const std::vector<ChatTurn> turns{{ChatRole::User, "What is this?"}, {ChatRole::Assistant, t1.text},
                                          {ChatRole::User, "And the colours?"}};
        auto rendered = renderChat(tmpl->name, turns, render);
        QVERIFY(rendered.isOk());
        auto layout = m_engine->planImage(image.width, image.height);
        QVERIFY(layout.isOk());
        auto prompt = buildPrompt(*m_tokenizer, *rendered, {layout->imageTokens}, {});
        QVERIFY(prompt.isOk());
        const int full = prompt->totalLength();
        // Cached: turn-1 prompt + generated ids; at most the reply tail is re-tokenised differently.
        QVERIFY(t2.stats->textTokens < full - layout->imageTokens - 10);
        QVERIFY(t2.stats->textTokens >= full - used1);
        QCOMPARE(chat.contextUsed(), full + t2.stats->generatedTokens - (t2.stats->stopReason == StopReason::MaxTokens ? 0 : 1));

        auto checkpoint = Checkpoint::open(m_demo);
        QVERIFY(checkpoint.isOk());
        auto backend = createCpuBackend(2);
        auto model = LlavaModel::create(*backend, **checkpoint, WeightPrecision::AsStored, 4096, {});
        QVERIFY(model.isOk());
        auto pre = preprocessImage(image, *layout, config.vision);
        QVERIFY(pre.isOk());
        auto features = (*model)->encodeImage(pre->pixels, *layout, {});
        QVERIFY(features.isOk());
        std::vector<std::int32_t> ids(prompt->hfIds.begin(), prompt->hfIds.end());
        int slot = -1;
        for (const auto& seg : prompt->segments)
            if (seg.kind == SegmentKind::Image) {
                slot = seg.begin;
                std::fill(ids.begin() + seg.begin, ids.begin() + seg.begin + seg.length, -1);
            }
        QVERIFY((*model)->prefill(ids, {ImageSlot{slot, *features}}, 0, {}).isOk());
        std::vector<std::int32_t> fresh;
        for (int step = 0; step < t2.stats->generatedTokens; ++step) {
            const auto& l = (*model)->logits();
            const auto id = static_cast<std::int32_t>(std::max_element(l.begin(), l.begin() + config.text.nVocabText) - l.begin());
            fresh.push_back(id);
            QVERIFY((*model)->decode(id, full + step).isOk());
        }
        std::vector<std::int32_t> streamed;
        for (auto id : t2.ids)
            if (id >= 0) streamed.push_back(id);
        QCOMPARE(streamed, fresh);
    }

    // A stop string that ends inside the reply: nothing from it on is streamed or kept.
    void stopString() {
        const UserMessage m{"Say something long.", {}};
        const auto base = replyRecorded(m_engine->session(), m, greedy(40));
        QVERIFY(base.stats.isOk());
        QVERIFY(base.text.size() >= 12);
        const std::string stop = base.text.substr(base.text.size() / 2, 3);
        const std::size_t expectedEnd = base.text.find(stop);
        m_engine->session().clear();
        SamplingParams p = greedy(40);
        p.stopStrings = {stop};
        const auto r = replyRecorded(m_engine->session(), m, p);
        QVERIFY(r.stats.isOk());
        QCOMPARE(r.stats->stopReason, StopReason::StopString);
        QCOMPARE(r.text, base.text.substr(0, expectedEnd));
        QVERIFY(r.stats->generatedTokens <= base.stats->generatedTokens);
    }

    void missingShard() {
        const auto dir = std::filesystem::path(m_tmp.path().toStdString()) / "noshard";
        std::filesystem::create_directories(dir);
        for (const auto& e : std::filesystem::directory_iterator(kFixtureHf))
            if (e.path().filename() != "model-00002-of-00002.safetensors") std::filesystem::copy(e.path(), dir / e.path().filename());
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        auto engine = Engine::load(dir, options);
        QVERIFY(!engine.isOk());
        qInfo("%s", engine.status().toString().c_str());
        QVERIFY(engine.status().message().find("model-00002-of-00002.safetensors") != std::string::npos);
    }

    void misshapedTensor() {
        const auto dir = std::filesystem::path(m_tmp.path().toStdString()) / "misshaped";
        std::filesystem::create_directories(dir);
        for (const char* f : {"config.json", "tokenizer.model", "tokenizer_config.json"}) std::filesystem::copy(m_demo / f, dir / f);
        auto file = SafetensorsFile::open(m_demo / "model.safetensors");
        QVERIFY(file.isOk());
        const std::string victim = "language_model.model.layers.1.self_attn.k_proj.weight";
        std::vector<TensorRecord> records;
        for (const auto& t : file->tensors()) {
            TensorRecord r{t.name, t.dtype, t.shape, {t.data, t.byteSize}};
            if (t.name == victim) r.shape = {t.shape[1], t.shape[0]};  // same bytes, transposed shape
            records.push_back(r);
        }
        QVERIFY(writeSafetensors(dir / "model.safetensors", records).isOk());
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        auto engine = Engine::load(dir, options);
        QVERIFY(!engine.isOk());
        qInfo("%s", engine.status().toString().c_str());
        QVERIFY(engine.status().message().find("layers.1.self_attn.k_proj") != std::string::npos);
    }

    // Refuse (OutOfRange) and leave the conversation as it was: the next reply equals that of a session
    // that never saw the oversized message.
    void promptLongerThanContext() {
        auto small = loadOrFail(m_demo, 300);
        QVERIFY(small);
        ChatSession& chat = small->session();
        QVERIFY(replyRecorded(chat, {"Hello there.", {}}, greedy(4)).stats.isOk());
        const int used = chat.contextUsed();
        const auto tooLong = replyRecorded(chat, {repeatText("The cat sleeps on a blue blanket. ", 40), {}}, greedy(4));
        QVERIFY(!tooLong.stats.isOk());
        QCOMPARE(tooLong.stats.status().code(), ErrorCode::OutOfRange);
        qInfo("%s", tooLong.stats.status().message().c_str());
        QCOMPARE(chat.contextUsed(), used);
        QCOMPARE(chat.turns(), 1);
        const auto after = replyRecorded(chat, {"What next?", {}}, greedy(6));
        QVERIFY(after.stats.isOk());
        QVERIFY(replyRecorded(m_engine->session(), {"Hello there.", {}}, greedy(4)).stats.isOk());
        const auto reference = replyRecorded(m_engine->session(), {"What next?", {}}, greedy(6));
        QCOMPARE(after.ids, reference.ids);
        // An image alone does not fit either: refused before anything is cached.
        small->session().clear();
        const auto image = replyRecorded(small->session(), {"Hi", {test::patternImage(64, 64)}}, greedy(2));
        QCOMPARE(image.stats.status().code(), ErrorCode::OutOfRange);
        QCOMPARE(small->session().contextUsed(), 0);
    }

    // 1000x10 -> 1x3 grid (1008x336 canvas); unpad keeps int(10 * 72/1000) = 0 of 72 rows -> only the
    // 576 base-crop tokens, no newline (docs/spec.md §5.2-§5.4, hand-derived).
    void zeroRowImage() {
        auto layout = m_engine->planImage(1000, 10);
        QVERIFY(layout.isOk());
        QCOMPARE(layout->keptRowEnd - layout->keptRowBegin, 0);
        QCOMPARE(layout->imageTokens, 576);
        const auto r = replyRecorded(m_engine->session(), {"What is this?", {test::patternImage(1000, 10)}}, greedy(3));
        QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
        QCOMPARE(r.stats->imageTokens, 576);
    }

    // Cancel in the middle of the prefill (3rd poll of 2 layers x 3 chunks): Cancelled, same turns, and
    // the next reply equals an uncancelled session's.
    void cancelDuringPrefill() {
        ChatSession& chat = m_engine->session();
        QVERIFY(replyRecorded(chat, {"Hello there.", {}}, greedy(4)).stats.isOk());
        int polls = 0;
        std::chrono::steady_clock::time_point firedAt;
        const auto t0 = std::chrono::steady_clock::now();
        auto cancel = [&] {
            if (++polls == 3) firedAt = std::chrono::steady_clock::now();
            return polls >= 3;
        };
        const auto r = replyRecorded(chat, {repeatText("The dog runs along the beach. ", 100), {}}, greedy(4), cancel);
        const auto t1 = std::chrono::steady_clock::now();
        QVERIFY(!r.stats.isOk());
        QCOMPARE(r.stats.status().code(), ErrorCode::Cancelled);
        QCOMPARE(polls, 3);
        QVERIFY(r.ids.empty());
        qInfo("cancel returned %.3f ms after the predicate fired (call took %.1f ms)",
              std::chrono::duration<double, std::milli>(t1 - firedAt).count(),
              std::chrono::duration<double, std::milli>(t1 - t0).count());
        QCOMPARE(chat.turns(), 1);
        const auto after = replyRecorded(chat, {"What next?", {}}, greedy(6));
        auto fresh = loadOrFail(m_demo, 4096);
        QVERIFY(fresh);
        QVERIFY(replyRecorded(fresh->session(), {"Hello there.", {}}, greedy(4)).stats.isOk());
        const auto reference = replyRecorded(fresh->session(), {"What next?", {}}, greedy(6));
        QVERIFY(after.stats.isOk() && reference.stats.isOk());
        QCOMPARE(after.ids, reference.ids);
    }

    void twoImagesInOneMessage() {
        const RgbImage a = test::patternImage(200, 150), b = test::patternImage(120, 260);
        const auto r = replyRecorded(m_engine->session(), {"Compare them.", {a, b}}, greedy(3));
        QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
        const int expected = m_engine->planImage(200, 150)->imageTokens + m_engine->planImage(120, 260)->imageTokens;
        QCOMPARE(r.stats->imageTokens, expected);
        QVERIFY(m_engine->session().contextUsed() > expected);
        // A later message may add images too (issue 9 item 3; tst_chatimages covers it in depth).
        const auto later = replyRecorded(m_engine->session(), {"And this?", {a}}, greedy(3));
        QVERIFY2(later.stats.isOk(), later.stats.status().toString().c_str());
        QCOMPARE(later.stats->imageTokens, expected + m_engine->planImage(200, 150)->imageTokens);
        QCOMPARE(later.stats->imagesEncoded, 1);
        QCOMPARE(m_engine->session().turns(), 2);
    }

    // Defined behaviour: no text and no image -> InvalidArgument, session untouched; an image with empty
    // text is a valid question.
    void emptyMessage() {
        const auto empty = replyRecorded(m_engine->session(), {"", {}}, greedy(3));
        QCOMPARE(empty.stats.status().code(), ErrorCode::InvalidArgument);
        QCOMPARE(m_engine->session().contextUsed(), 0);
        const auto imageOnly = replyRecorded(m_engine->session(), {"", {test::patternImage(50, 50)}}, greedy(2));
        QVERIFY2(imageOnly.stats.isOk(), imageOnly.stats.status().toString().c_str());
    }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
