// The built-in demo model (demomodel.h). Guards against: a demo folder our own loader rejects (weight
// table, config, tokenizer/config vocab mismatch), non-deterministic output (the trainer or the PRNG
// producing different bytes run to run), a tokenizer that cannot round-trip ordinary text, and a demo
// that is not labelled as random everywhere the user can see it.
#include <QtTest>

#include <chrono>
#include <fstream>
#include <sstream>

#include "enginetesthelpers.h"
#include "llava/checkpoint.h"
#include "llava/demomodel.h"
#include "llava/tokenizer.h"

using namespace llava;

namespace {

std::string readAll(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

class TestDemoModel : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_dir;

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_dir = std::filesystem::path(m_tmp.path().toStdString()) / "demo";
        std::vector<std::string> stages;
        const auto t0 = std::chrono::steady_clock::now();
        auto info = writeDemoModel(m_dir, [&](int, int, std::string_view stage) {
            stages.emplace_back(stage);
            return true;
        });
        QVERIFY2(info.isOk(), info.status().toString().c_str());
        qInfo("demo model written in %.0f ms, %llu bytes",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
              static_cast<unsigned long long>(info->bytesWritten));
        QCOMPARE(info->name, std::string(kDemoModelName));
        QVERIFY(stages.size() >= 3);
    }

    // Every file the user can open says the weights are random.
    void labelledRandom() {
        QVERIFY(readAll(m_dir / "README.txt").find("RANDOM WEIGHTS") != std::string::npos);
        QVERIFY(readAll(m_dir / "config.json").find("llava-insight-demo (random weights)") != std::string::npos);
        QVERIFY(demoCorpus().size() > 10000);
    }

    // The loader's own validation (weight table: names, shapes, dtypes) accepts the folder, and the
    // vocab sizes line up: tokenizer pieces == image_token_index == nVocabText < embed rows.
    void checkpointValidates() {
        auto checkpoint = Checkpoint::open(m_dir);
        QVERIFY2(checkpoint.isOk(), checkpoint.status().toString().c_str());
        const ModelConfig& c = (*checkpoint)->config();
        auto tokenizer = Tokenizer::loadFile(m_dir / "tokenizer.model");
        QVERIFY2(tokenizer.isOk(), tokenizer.status().toString().c_str());
        QCOMPARE(tokenizer->vocabSize(), 1024);
        QCOMPARE(c.imageTokenId, tokenizer->vocabSize());
        QCOMPARE(c.text.nVocabText, tokenizer->vocabSize());
        QCOMPARE(c.text.nVocab, 1088);
        QCOMPARE(c.vision.imageSize, 336);
        QCOMPARE(c.vision.patchSize, 14);
        QVERIFY(c.text.nKvHeads < c.text.nHeads);  // GQA
        QCOMPARE(c.text.family, LlmFamily::Mistral);
        QVERIFY(!tokenizer->pieceToId("<image>").has_value());
        QCOMPARE(tokenizer->bosId(), 1);
        QCOMPARE(tokenizer->eosId(), 2);
    }

    // Byte fallback + identity normalisation: any UTF-8 text survives encode/decode.
    void tokenizerRoundTrip() {
        auto tokenizer = Tokenizer::loadFile(m_dir / "tokenizer.model");
        QVERIFY(tokenizer.isOk());
        for (const std::string text : {"The cat sleeps on a blue blanket.", "Zebra 123 ü → 日本", "two  spaces"}) {
            const auto ids = tokenizer->encodePlain(text);
            QVERIFY(!ids.empty());
            QCOMPARE(tokenizer->decode(ids), text);
        }
        // Trained on English: a corpus sentence takes far fewer pieces than bytes.
        const std::string sentence = "The dog is catching a frisbee in mid-air on a sunny beach.";
        const auto pieces = tokenizer->encodePlain(sentence).size();
        qInfo("%zu pieces for %zu bytes", pieces, sentence.size());
        QVERIFY(pieces * 2 < sentence.size());
    }

    // Same bytes every run (trainer with one thread, seeded PRNG).
    void deterministicFiles() {
        const auto other = std::filesystem::path(m_tmp.path().toStdString()) / "demo2";
        QVERIFY(writeDemoModel(other).isOk());
        for (const char* f : {"config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json", "README.txt"}) {
            const std::string a = readAll(m_dir / f), b = readAll(other / f);
            QVERIFY2(!a.empty(), f);
            QVERIFY2(a == b, f);
        }
    }

    // Engine::load + a greedy reply to a message with an image, twice (fresh chat) -> identical ids.
    void greedyReplyTwice() {
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        auto engine = Engine::load(m_dir, options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        ChatSession& chat = (*engine)->session();
        const UserMessage message{"What is in this picture?", {test::patternImage(320, 240)}};
        const auto t0 = std::chrono::steady_clock::now();
        const auto first = test::replyRecorded(chat, message, test::greedy(16));
        QVERIFY2(first.stats.isOk(), first.stats.status().toString().c_str());
        qInfo("demo reply: %.0f ms (image %.0f ms, prefill %d+%d tokens %.0f ms), %d tokens",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
              first.stats->imageEncodeMs, first.stats->imageTokens, first.stats->textTokens, first.stats->prefillMs,
              first.stats->generatedTokens);
        auto layout = (*engine)->planImage(320, 240);
        QVERIFY(layout.isOk());
        QCOMPARE(first.stats->imageTokens, layout->imageTokens);
        QVERIFY(first.stats->generatedTokens > 0);
        chat.clear();
        const auto second = test::replyRecorded(chat, message, test::greedy(16));
        QVERIFY(second.stats.isOk());
        QCOMPARE(second.ids, first.ids);
        QCOMPARE(second.text, first.text);
    }
};

QTEST_GUILESS_MAIN(TestDemoModel)
#include "tst_demomodel.moc"
