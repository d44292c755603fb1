// Images in a later chat turn vs HF transformers (issue 9 item 3): tests/fixtures/golden/*__multiturn_*.json,
// made by `tests/reference/gen_fixtures.py --multiturn`, hold per turn the question, its images and the
// greedy tokens transformers' generate() gives on the whole re-rendered conversation (llava-hf chat
// template for mistral -hf; ORIG conversation.py rendering, emulated on the same weights, for the ORIG
// folders). The engine must give the same tokens
//   live:     reply(turn 1), reply(turn 2) on one session (KV cache reused, earlier image rows kept), and
//   restored: restore(turn 1 as kept) + reply(turn 2), after another conversation filled the cache.
// Token ids exact (greedy; the goldens record no step where EOS was the argmax). Every turn's reply
// text must equal the golden's (sentencepiece decode), since the next turn's prompt is built from it.
#include <QtTest>
#include <QImage>

#include "enginetesthelpers.h"
#include "fixtureimage.h"
#include "llava/engine.h"

using namespace llava;
using test::loadFixtureRgb;
using test::greedy;
using test::replyRecorded;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);

std::vector<std::int32_t> ids(const QJsonValue& v) {
    std::vector<std::int32_t> out;
    for (const auto& x : v.toArray()) out.push_back(x.toInt());
    return out;
}

struct GoldenTurn {
    UserMessage message;
    std::vector<std::int32_t> greedy;
    std::string replyText;
    int conversationImageTokens = 0;  // sum over every image of the conversation so far
};

// The recorded ids without the end-of-reply flush event (id -1: text, no token).
std::vector<std::int32_t> tokens(const test::Recorded& r) {
    std::vector<std::int32_t> out;
    for (std::int32_t id : r.ids)
        if (id >= 0) out.push_back(id);
    return out;
}

std::vector<GoldenTurn> readTurns(const QJsonObject& golden) {
    std::vector<GoldenTurn> turns;
    for (const auto& t : golden["turns"].toArray()) {
        const QJsonObject o = t.toObject();
        GoldenTurn turn;
        turn.message.text = o["question"].toString().toStdString();
        for (const auto& path : o["images"].toArray()) turn.message.images.push_back(loadFixtureRgb(kRoot + "/" + path.toString()));
        turn.greedy = ids(o["greedy_tokens"]);
        turn.replyText = o["reply_text"].toString().toStdString();
        for (const auto& n : o["conversation_image_tokens"].toArray()) turn.conversationImageTokens += n.toInt();
        turns.push_back(std::move(turn));
    }
    return turns;
}

}  // namespace

class TestMultiTurnGolden : public QObject {
    Q_OBJECT
private slots:
    void liveAndRestored_data() {
        QTest::addColumn<QString>("file");
        const QDir dir(kRoot + "/tests/fixtures/golden");
        const auto files = dir.entryList({"*__multiturn_*.json"}, QDir::Files, QDir::Name);
        if (files.size() < 2) QFAIL("no multi-turn goldens (tests/reference/gen_fixtures.py --multiturn writes them)");
        for (const auto& f : files) QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }
    void liveAndRestored() {
        QFETCH(QString, file);
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject golden = QJsonDocument::fromJson(f.readAll()).object();
        const std::vector<GoldenTurn> turns = readTurns(golden);
        QVERIFY(turns.size() >= 2);
        QVERIFY2(!turns.back().message.images.empty(), "the last turn of a multi-turn golden has images");

        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.contextLength = 4096;
        options.kvCache = KvCacheFormat::F32;  // the fp32 path HF is compared with (tst_f16kvengine: the F16 cache)
        options.reference = golden["flavour"].toString() == QLatin1String("hf") ? Reference::Transformers : Reference::Original;
        options.tokenizerPath = (QStringLiteral(LLAVA_SHARED_DIR "/assets/tokenizers/") + golden["tokenizer"].toString()).toStdString();
        auto engine = Engine::load((kRoot + "/" + golden["model_folder"].toString()).toStdString(), options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        ChatSession& chat = (*engine)->session();
        int encodes = 0;  // CLIP runs: earlier turns' images must not be encoded again
        (*engine)->setDebugHook([&](std::string_view name, std::span<const float>, const Shape&) {
            if (name == "vision.selected") ++encodes;
        });

        // Live: one session, turn after turn.
        int imagesSoFar = 0;
        std::vector<ChatExchange> history;
        for (std::size_t t = 0; t < turns.size(); ++t) {
            const GoldenTurn& turn = turns[t];
            const int before = encodes;
            const auto r = replyRecorded(chat, turn.message, greedy(static_cast<int>(turn.greedy.size())));
            QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
            QCOMPARE(tokens(r), turn.greedy);
            QCOMPARE(r.text, turn.replyText);
            QCOMPARE(r.stats->imageTokens, turn.conversationImageTokens);
            imagesSoFar += static_cast<int>(turn.message.images.size());
            QCOMPARE(encodes - before, static_cast<int>(turn.message.images.size()));
            QCOMPARE(r.stats->imagesEncoded, static_cast<int>(turn.message.images.size()));
            history.push_back({turn.message.text, turn.message.images, r.text});
        }
        const int liveUsed = chat.contextUsed();

        // Restored: another conversation first (its image rows sit in the cache), then the history.
        chat.clear();
        QVERIFY(replyRecorded(chat, {"Something else.", {test::patternImage(90, 70)}}, greedy(3)).stats.isOk());
        history.pop_back();
        QVERIFY(chat.restore(history).isOk());
        const int before = encodes;
        const GoldenTurn& last = turns.back();
        const auto r = replyRecorded(chat, last.message, greedy(static_cast<int>(last.greedy.size())));
        QVERIFY2(r.stats.isOk(), r.stats.status().toString().c_str());
        QCOMPARE(tokens(r), last.greedy);
        QCOMPARE(r.stats->imageTokens, last.conversationImageTokens);
        QCOMPARE(encodes - before, imagesSoFar);  // every image of the restored conversation, once
        QCOMPARE(chat.contextUsed(), liveUsed);
    }
};

QTEST_GUILESS_MAIN(TestMultiTurnGolden)
#include "tst_multiturngolden.moc"
