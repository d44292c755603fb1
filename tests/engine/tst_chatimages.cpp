// Chat-session rules of issue 9 item 3 and issue 10 items 4, 5, 10, 12 on the demo model (random weights,
// real topology). Guards against: images refused after the first message; a restored conversation with
// images in several turns (or an unanswered turn) that runs on other ids than the live one; earlier
// images encoded again in later turns; typed "<image>" text turned into an image slot; a message whose
// images cannot fit being refused only after every image went through CLIP; an oversized text tokenised
// (gigabytes, minutes) before being refused; a context plan that disagrees with what reply() runs.
#include <QtTest>

#include <numeric>

#include <sys/resource.h>

#include "enginetesthelpers.h"
#include "llava/chattemplate.h"
#include "llava/demomodel.h"
#include "llava/tokenizer.h"

using namespace llava;
using test::greedy;
using test::replyRecorded;

// Images per user turn, e.g. {0, 1} = a text message, then a message with one image.
using TurnImages = std::vector<int>;
Q_DECLARE_METATYPE(TurnImages)

namespace {

std::unique_ptr<Engine> loadOrFail(const std::filesystem::path& dir) {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = 8192;  // room for four images in one conversation
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) qWarning("%s", engine.status().toString().c_str());
    return engine.isOk() ? std::move(*engine) : nullptr;
}

long peakRssKiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // KiB on Linux
}

UserMessage message(std::size_t turn, int images) {
    static const char* kTexts[] = {"What is this?", "And now this one?", "Compare them.", "Anything else?"};
    UserMessage m{kTexts[turn % 4], {}};
    for (int i = 0; i < images; ++i)
        m.images.push_back(test::patternImage(120 + 70 * static_cast<int>(turn) + 30 * i, 90 + 25 * i));
    return m;
}

}  // namespace

class TestChatImages : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_demo;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<Tokenizer> m_tokenizer;
    int m_encodes = 0;  // images run through CLIP (debug hook "vision.selected", once per image)

private slots:
    void initTestCase() {
        m_demo = std::filesystem::path(m_tmp.path().toStdString()) / "demo";
        auto info = writeDemoModel(m_demo);
        QVERIFY2(info.isOk(), info.status().toString().c_str());
        m_engine = loadOrFail(m_demo);
        QVERIFY(m_engine);
        m_engine->setDebugHook([this](std::string_view name, std::span<const float>, const Shape&) {
            if (name == "vision.selected") ++m_encodes;
        });
        auto tok = Tokenizer::loadFile(m_demo / "tokenizer.model");
        QVERIFY(tok.isOk());
        m_tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
    }
    void init() { m_engine->session().clear(); }

    // Issue 10 item 10: a 40 MB message is refused before it is tokenised: OutOfRange naming the sizes,
    // and (first test of the process, so the peak is still low) no allocation beyond a few MB. Before,
    // tokenising took ~110 bytes per byte (4.5 GB) and minutes.
    void oversizedTextRefusedBeforeTokenising() {
        std::string huge;
        huge.reserve(40u << 20);
        while (huge.size() + 64 < (40u << 20)) huge += "The cat sleeps on a blue blanket near the window.\n";
        const std::size_t bytes = huge.size();
        const UserMessage m{std::move(huge), {}};
        const long before = peakRssKiB();
        ChatSession& chat = m_engine->session();
        const auto r = replyRecorded(chat, m, greedy(2));
        const long grownKiB = peakRssKiB() - before;
        QCOMPARE(r.stats.status().code(), ErrorCode::OutOfRange);
        const std::string text = r.stats.status().message();
        QVERIFY2(text.find(std::to_string(bytes) + " bytes") != std::string::npos, text.c_str());
        const std::string cap = std::to_string(static_cast<std::uint64_t>(chat.contextLimit()) *
                                               static_cast<std::uint64_t>(m_tokenizer->maxBytesPerToken()));
        QVERIFY2(text.find(cap) != std::string::npos, text.c_str());
        QVERIFY2(grownKiB < 8 * 1024, qPrintable(QStringLiteral("peak RSS grew by %1 KiB").arg(grownKiB)));
        QCOMPARE(chat.turns(), 0);
        QCOMPARE(r.ids.size(), std::size_t{0});
        QCOMPARE(chat.plan(m).status().code(), ErrorCode::OutOfRange);
    }

    void laterTurnImagesRestoreExactly_data() {
        QTest::addColumn<TurnImages>("images");
        QTest::addColumn<bool>("nextHasImage");
        QTest::newRow("image in turn 2") << TurnImages{0, 1} << false;
        QTest::newRow("images in turns 1 and 2") << TurnImages{1, 1} << false;
        QTest::newRow("turn 1 image, turn 3 two images, next message an image") << TurnImages{1, 0, 2} << true;
    }
    // Live turns (images in any of them) + one more message vs restore(those turns) + the same message
    // after another conversation filled the cache: same ids, text, image tokens and contextUsed. Live,
    // each image is encoded once (in its own turn); restored, every image once in the next reply.
    void laterTurnImagesRestoreExactly() {
        QFETCH(TurnImages, images);
        QFETCH(bool, nextHasImage);
        ChatSession& chat = m_engine->session();
        std::vector<ChatExchange> history;
        int total = 0;
        for (std::size_t t = 0; t < images.size(); ++t) {
            const UserMessage m = message(t, images[t]);
            const auto planned = chat.plan(m);
            QVERIFY2(planned.isOk(), planned.status().toString().c_str());
            const int encodesBefore = m_encodes;
            const auto r = replyRecorded(chat, m, greedy(5));
            QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
            QCOMPARE(m_encodes - encodesBefore, images[t]);
            QCOMPARE(r.stats->imagesEncoded, images[t]);
            total += images[t];
            QCOMPARE(static_cast<int>(planned->imageTokens.size()), total);
            QCOMPARE(r.stats->imageTokens, std::accumulate(planned->imageTokens.begin(), planned->imageTokens.end(), 0));
            // KV reuse: only what follows the cached prefix is prefilled: of the image rows only this
            // message's (earlier images' rows come from the cache), and text from at most the previous reply
            // on (its text may re-tokenise differently from the ids it was generated as).
            const int newImageTokens = std::accumulate(planned->imageTokens.end() - images[t], planned->imageTokens.end(), 0);
            QCOMPARE(r.stats->prefillTokens, r.stats->textTokens + newImageTokens);
            if (t > 0) QVERIFY(r.stats->prefillTokens < planned->conversationTokens - planned->earlierTokens + 40);
            QCOMPARE(chat.contextUsed(), planned->conversationTokens + r.stats->generatedTokens -
                                             (r.stats->stopReason == StopReason::MaxTokens ? 0 : 1));
            history.push_back({m.text, m.images, r.text});
        }
        const UserMessage next = message(images.size(), nextHasImage ? 1 : 0);
        const auto expected = replyRecorded(chat, next, greedy(8));
        QVERIFY2(expected.stats.isOk(), expected.stats.status().toString().c_str());
        const int expectedUsed = chat.contextUsed();

        chat.clear();
        QVERIFY(replyRecorded(chat, {"Something else entirely.", {test::patternImage(150, 260)}}, greedy(3)).stats.isOk());
        QVERIFY(chat.restore(history).isOk());
        QCOMPARE(chat.turns(), static_cast<int>(history.size()));
        const int encodesBefore = m_encodes;
        const auto restored = replyRecorded(chat, next, greedy(8));
        QVERIFY2(restored.stats.isOk(), restored.stats.status().toString().c_str());
        QCOMPARE(restored.ids, expected.ids);
        QCOMPARE(restored.text, expected.text);
        QCOMPARE(restored.stats->imageTokens, expected.stats->imageTokens);
        QCOMPARE(chat.contextUsed(), expectedUsed);
        QCOMPARE(m_encodes - encodesBefore, total + (nextHasImage ? 1 : 0));
        QCOMPARE(restored.stats->imagesEncoded, total + (nextHasImage ? 1 : 0));
    }

    // Issue 10 item 4: an exchange whose reply is "" (a user message never answered) is accepted and
    // renders exactly as a live reply that produced no text (here: a stop string that matches at once).
    void unansweredTurnRestoresInPlace() {
        ChatSession& chat = m_engine->session();
        const UserMessage first = message(0, 1);
        const auto probe = replyRecorded(chat, first, greedy(1));
        QVERIFY2(probe.stats.isOk() && !probe.text.empty(), "the demo model's first piece is text");
        chat.clear();
        SamplingParams stopAtOnce = greedy(4);
        stopAtOnce.stopStrings = {probe.text};
        const auto empty = replyRecorded(chat, first, stopAtOnce);
        QVERIFY2(empty.stats.isOk(), empty.stats.status().toString().c_str());
        QCOMPARE(empty.text, std::string());
        QCOMPARE(empty.stats->stopReason, StopReason::StopString);
        const UserMessage second = message(1, 1);
        const auto expected = replyRecorded(chat, second, greedy(6));
        QVERIFY2(expected.stats.isOk(), expected.stats.status().toString().c_str());

        chat.clear();
        QVERIFY(chat.restore({{first.text, first.images, ""}}).isOk());
        QCOMPARE(chat.turns(), 1);
        const auto restored = replyRecorded(chat, second, greedy(6));
        QVERIFY2(restored.stats.isOk(), restored.stats.status().toString().c_str());
        QCOMPARE(restored.ids, expected.ids);
        QCOMPARE(restored.text, expected.text);
        QCOMPARE(chat.turns(), 2);
    }

    // Issue 10 item 5: typed "<image>" is text. The prompt's ids equal the tokenizer's encoding of the
    // rendered text with the characters in it (one string, no image split); with one attached image only
    // that image becomes image tokens.
    void typedImageMarkerIsText() {
        ChatSession& chat = m_engine->session();
        const std::string text = "what does <image> mean";
        RenderOptions render;
        render.nImages = 0;
        render.flavour = m_engine->reference() == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
        auto rendered = renderChat(m_engine->config().templateName, {{ChatRole::User, text}}, render);
        QVERIFY(rendered.isOk());
        const std::vector<int> expectedIds = m_tokenizer->encode(*rendered, m_tokenizer->defaultAddBos());
        const auto planned = chat.plan({text, {}});
        QVERIFY2(planned.isOk(), planned.status().toString().c_str());
        QCOMPARE(planned->conversationTokens, static_cast<int>(expectedIds.size()));
        QVERIFY(planned->imageTokens.empty());
        const auto r = replyRecorded(chat, {text, {}}, greedy(3));
        QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
        QCOMPARE(r.stats->imageTokens, 0);
        QCOMPARE(r.stats->textTokens, static_cast<int>(expectedIds.size()));
        // Later turns still work (the GUI failed every later message).
        const RgbImage image = test::patternImage(200, 120);
        const auto later = replyRecorded(chat, {text, {image}}, greedy(3));
        QVERIFY2(later.stats.isOk(), later.stats.status().toString().c_str());
        QCOMPARE(later.stats->imageTokens, m_engine->planImage(200, 120)->imageTokens);
        QCOMPARE(later.stats->imagesEncoded, 1);
    }

    // Issue 10 item 12: 20 images that cannot fit are refused before any CLIP work, naming the tokens
    // needed (each image's count) and free; the session is unchanged. plan() says the same.
    void manyImagesRefusedBeforeEncoding() {
        ChatSession& chat = m_engine->session();
        QVERIFY(replyRecorded(chat, {"Hello there.", {}}, greedy(3)).stats.isOk());
        const int used = chat.contextUsed(), encodesBefore = m_encodes;
        UserMessage m{"Describe all of them.", {}};
        for (int i = 0; i < 20; ++i) m.images.push_back(test::patternImage(300 + i, 200));
        const auto planned = chat.plan(m);
        QVERIFY2(planned.isOk(), planned.status().toString().c_str());
        QVERIFY(!planned->fits());
        QCOMPARE(planned->messageImages, 20);
        QCOMPARE(static_cast<int>(planned->imageTokens.size()), 20);
        const int perImage = m_engine->planImage(300, 200)->imageTokens;
        QCOMPARE(planned->imageTokens.front(), perImage);

        const auto r = replyRecorded(chat, m, greedy(3));
        QCOMPARE(r.stats.status().code(), ErrorCode::OutOfRange);
        QCOMPARE(m_encodes, encodesBefore);  // no image went through CLIP
        const std::string text = r.stats.status().message();
        for (const std::string& part : {std::string("20 images"), std::to_string(perImage) + " + ",
                                        std::to_string(planned->messageTokens()), std::to_string(planned->freeTokens()),
                                        std::to_string(planned->neededTokens()), std::to_string(chat.contextLimit())})
            QVERIFY2(text.find(part) != std::string::npos, (part + " missing in: " + text).c_str());
        QCOMPARE(chat.turns(), 1);
        QCOMPARE(chat.contextUsed(), used);
        QVERIFY(replyRecorded(chat, {"Still here?", {}}, greedy(3)).stats.isOk());
    }
};

QTEST_GUILESS_MAIN(TestChatImages)
#include "tst_chatimages.moc"
