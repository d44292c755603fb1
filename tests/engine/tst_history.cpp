// ChatSession::restore and the session system prompt on the demo model (random weights, real topology).
// Guards against: a chat continued after switching chats or restarting that answers differently from
// the live session (different rendering, lost image rows, stale cache rows of another conversation),
// a cancelled first reply losing the restored turns, malformed histories being accepted, and a system
// prompt that is not rendered into the prompt the model runs on.
#include <QtTest>

#include "enginetesthelpers.h"
#include "llava/chattemplate.h"
#include "llava/demomodel.h"
#include "llava/prompt.h"
#include "llava/tokenizer.h"

using namespace llava;
using test::greedy;
using test::replyRecorded;

namespace {

std::unique_ptr<Engine> loadOrFail(const std::filesystem::path& dir) {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = 4096;
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) qWarning("%s", engine.status().toString().c_str());
    return engine.isOk() ? std::move(*engine) : nullptr;
}

const std::vector<std::string> kQuestions = {"What is this?", "And the colours?", "Anything else?"};
const std::string kNext = "Tell me more.";

}  // namespace

class TestHistory : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_demo;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<Tokenizer> m_tokenizer;

    // The prompt the engine should run for `turns` (pending user turn last), counted independently.
    Result<PromptTokens> expectedPrompt(const std::vector<ChatTurn>& turns, const std::string& system, int nImages) {
        LLAVA_ASSIGN_OR_RETURN(ChatTemplateInfo tmpl, findChatTemplate(m_engine->config().templateName));
        RenderOptions render;
        render.flavour = m_engine->reference() == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
        render.nImages = nImages;
        render.systemPrompt = system;
        LLAVA_ASSIGN_OR_RETURN(std::string rendered, renderChat(tmpl.name, turns, render));
        PromptOptions options;
        options.addBos = m_tokenizer->defaultAddBos();
        std::vector<int> counts;
        for (int i = 0; i < nImages; ++i) counts.push_back(1);  // text counts only
        return buildPrompt(*m_tokenizer, rendered, counts, options);
    }

private slots:
    void initTestCase() {
        m_demo = std::filesystem::path(m_tmp.path().toStdString()) / "demo";
        auto info = writeDemoModel(m_demo);
        QVERIFY2(info.isOk(), info.status().toString().c_str());
        m_engine = loadOrFail(m_demo);
        QVERIFY(m_engine);
        auto tok = Tokenizer::loadFile(m_demo / "tokenizer.model");
        QVERIFY(tok.isOk());
        m_tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
    }
    void init() {
        m_engine->session().clear();
        m_engine->session().setSystemPrompt({});
    }

    void restoreMatchesLive_data() {
        QTest::addColumn<int>("earlier");
        QTest::addColumn<bool>("withImage");
        QTest::addColumn<QString>("system");
        QTest::addColumn<bool>("freshEngine");
        QTest::newRow("image, 1 earlier turn") << 1 << true << QString() << false;
        QTest::newRow("text only, 2 earlier turns") << 2 << false << QString() << false;
        QTest::newRow("image, 3 earlier turns, system prompt") << 3 << true << QStringLiteral("You are terse.") << false;
        QTest::newRow("image, 2 earlier turns, reloaded engine (app restart)") << 2 << true << QString() << true;
    }
    // Live chat of `earlier` turns + one more vs restore(earlier turns) + the same message after another
    // conversation (other image) filled the cache: same greedy ids, text, image tokens and contextUsed.
    // A cancelled first attempt on the restored session must not lose anything.
    void restoreMatchesLive() {
        QFETCH(int, earlier);
        QFETCH(bool, withImage);
        QFETCH(QString, system);
        QFETCH(bool, freshEngine);
        ChatSession& live = m_engine->session();
        live.setSystemPrompt(system.toStdString());
        std::vector<ChatExchange> history;
        for (int i = 0; i < earlier; ++i) {
            UserMessage m{kQuestions[static_cast<std::size_t>(i)], {}};
            if (i == 0 && withImage) m.images.push_back(test::patternImage(300, 200));
            const auto r = replyRecorded(live, m, greedy(6));
            QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
            history.push_back({m.text, m.images, r.text});
        }
        const auto expected = replyRecorded(live, {kNext, {}}, greedy(8));
        QVERIFY2(expected.stats.isOk(), expected.stats.status().toString().c_str());
        QVERIFY(!expected.ids.empty());
        const int expectedUsed = live.contextUsed();

        std::unique_ptr<Engine> reloaded;
        if (freshEngine) {
            reloaded = loadOrFail(m_demo);
            QVERIFY(reloaded);
            reloaded->session().setSystemPrompt(system.toStdString());
        } else {
            live.clear();
            QVERIFY(replyRecorded(live, {"Something else entirely.", {test::patternImage(120, 260)}}, greedy(4)).stats.isOk());
        }
        ChatSession& chat = freshEngine ? reloaded->session() : live;
        QVERIFY(chat.restore(history).isOk());
        QCOMPARE(chat.turns(), earlier);
        QCOMPARE(chat.contextUsed(), 0);  // lazy: the next reply prefills

        const auto cancelled = replyRecorded(chat, {kNext, {}}, greedy(8), [] { return true; });
        QCOMPARE(cancelled.stats.status().code(), ErrorCode::Cancelled);
        QCOMPARE(chat.turns(), earlier);

        const auto restored = replyRecorded(chat, {kNext, {}}, greedy(8));
        QVERIFY2(restored.stats.isOk(), restored.stats.status().toString().c_str());
        QCOMPARE(restored.ids, expected.ids);
        QCOMPARE(restored.text, expected.text);
        QCOMPARE(restored.stats->imageTokens, expected.stats->imageTokens);
        QCOMPARE(restored.stats->stopReason, expected.stats->stopReason);
        QCOMPARE(chat.contextUsed(), expectedUsed);
        QCOMPARE(chat.turns(), earlier + 1);
        if (withImage) QVERIFY(restored.stats->imageEncodeMs > 0);
    }

    // The system prompt reaches the prompt: the first reply's text tokens and contextUsed equal
    // renderChat(systemPrompt) + buildPrompt, and differ from the template default's.
    void systemPromptRendered() {
        ChatSession& chat = m_engine->session();
        const std::vector<ChatTurn> turns{{ChatRole::User, "Hello there."}};
        const std::string system = "You are a careful assistant who answers in one short sentence.";
        const auto withDefault = expectedPrompt(turns, "", 0);
        const auto withSystem = expectedPrompt(turns, system, 0);
        QVERIFY(withDefault.isOk() && withSystem.isOk());
        QVERIFY(withSystem->nTextTokens > withDefault->nTextTokens);

        for (const std::string& s : {std::string(), system}) {
            chat.clear();
            chat.setSystemPrompt(s);
            QCOMPARE(chat.systemPrompt(), s);
            const auto r = replyRecorded(chat, {"Hello there.", {}}, greedy(4));
            QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
            const PromptTokens& p = s.empty() ? *withDefault : *withSystem;
            QCOMPARE(r.stats->textTokens, p.nTextTokens);
            const int heldBack = r.stats->stopReason == StopReason::MaxTokens ? 0 : 1;  // last id not decoded
            QCOMPARE(chat.contextUsed(), p.totalLength() + r.stats->generatedTokens - heldBack);
        }
        // clear() keeps the system prompt.
        chat.clear();
        QCOMPARE(chat.systemPrompt(), system);
    }

    // Invalid histories are refused and leave the session as it was.
    void restoreRejectsInvalidHistory_data() {
        QTest::addColumn<int>("defect");
        QTest::newRow("exchange without text or image") << 1;
        QTest::newRow("image with no pixels") << 2;
        QTest::newRow("image with no pixels in a later exchange") << 3;
    }
    void restoreRejectsInvalidHistory() {
        QFETCH(int, defect);
        ChatSession& chat = m_engine->session();
        QVERIFY(replyRecorded(chat, {"Hello there.", {}}, greedy(3)).stats.isOk());
        const int used = chat.contextUsed();
        std::vector<ChatExchange> history{{"First.", {}, "Answer."}, {"Second.", {}, "Answer two."}};
        if (defect == 1) history[1].user.clear();
        if (defect == 2) history[0].images.push_back(RgbImage{});
        if (defect == 3) history[1].images.push_back(RgbImage{});
        const Status s = chat.restore(history);
        QCOMPARE(s.code(), ErrorCode::InvalidArgument);
        QCOMPARE(chat.turns(), 1);
        QCOMPARE(chat.contextUsed(), used);
        QVERIFY(chat.restore({}).isOk());  // an empty history is clear()
        QCOMPARE(chat.turns(), 0);
        QCOMPARE(chat.contextUsed(), 0);
    }
};

QTEST_GUILESS_MAIN(TestHistory)
#include "tst_history.moc"
