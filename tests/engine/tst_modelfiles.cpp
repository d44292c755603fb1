// Model files that do not belong together or change under a loaded model (issue 10 items 17, 18).
//  - A tokenizer whose vocabulary is not the model's is refused at load with both sizes and both files
//    (before: 400 pieces vs 1088 rows loaded and printed garbage; 32000 vs 1088 failed at the first
//    prompt). The legitimate cases of docs/spec.md §2.6 still load: llava-hf embeddings padded to 32064 /
//    64064 above image_token_index, ORIG tables of exactly the tokenizer's size, the demo model.
//  - A shard truncated (or rewritten) after load makes the next reply return ErrorCode::FileChanged
//    "model file changed on disk: <file>" instead of the process dying of SIGBUS in the mapped read.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "engine/demotokenizer.h"
#include "enginetesthelpers.h"
#include "llava/demomodel.h"

using namespace llava;
using test::greedy;
using test::replyRecorded;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(LLAVA_SOURCE_DIR) / "tests/fixtures/models";
const fs::path kTokenizers = fs::path(LLAVA_SHARED_DIR) / "assets/tokenizers";

Result<std::unique_ptr<Engine>> load(const fs::path& dir, const fs::path& tokenizer) {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = 1024;
    options.tokenizerPath = tokenizer;
    return Engine::load(dir, options);
}

void writeBytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    QVERIFY(out.good());
}

}  // namespace

class TestModelFiles : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path m_demo;

private slots:
    void initTestCase() {
        m_demo = fs::path(m_tmp.path().toStdString()) / "demo";
        auto info = writeDemoModel(m_demo);
        QVERIFY2(info.isOk(), info.status().toString().c_str());
        // The two tokenizers of the report: trained like the demo's, with other sizes.
        auto t400 = demo::trainTokenizer(400);
        QVERIFY2(t400.isOk(), t400.status().toString().c_str());
        writeBytes(fs::path(m_tmp.path().toStdString()) / "tok400.model", *t400);
    }

    void mismatchedTokenizerRefused_data() {
        QTest::addColumn<QString>("model");      // folder (demo = the generated demo model)
        QTest::addColumn<QString>("tokenizer");  // file
        QTest::addColumn<QString>("pieces");
        QTest::addColumn<QString>("expected");
        const QString tmp = m_tmp.path();
        QTest::newRow("400 pieces vs demo 1024 text rows (vocab_size 1088)")
            << "demo" << tmp + "/tok400.model" << "400" << "1024 text tokens (vocab_size 1088, image_token_index 1024)";
        QTest::newRow("llama-2 32000 vs demo 1088 rows")
            << "demo" << QString::fromStdString((kTokenizers / "llama-2.model").string()) << "32000" << "vocab_size 1088";
        QTest::newRow("demo 1024 vs mistral-tiny-hf 32000 text rows")
            << "llava-v1.6-mistral-tiny-hf" << QString::fromStdString((m_demo / "tokenizer.model").string()) << "1024"
            << "32000 text tokens (vocab_size 32064, image_token_index 32000)";
        QTest::newRow("yi 64000 vs vicuna-tiny (ORIG) 32000 rows")
            << "llava-v1.6-vicuna-tiny" << QString::fromStdString((kTokenizers / "yi-34b.model").string()) << "64000"
            << "32000 text tokens (vocab_size 32000)";
        QTest::newRow("llama-2 32000 vs 34b-tiny-hf 64000 text rows")
            << "llava-v1.6-34b-tiny-hf" << QString::fromStdString((kTokenizers / "llama-2.model").string()) << "32000"
            << "64000 text tokens";
    }

    void mismatchedTokenizerRefused() {
        QFETCH(QString, model);
        QFETCH(QString, tokenizer);
        QFETCH(QString, pieces);
        QFETCH(QString, expected);
        const fs::path dir = model == "demo" ? m_demo : kFixtures / model.toStdString();
        auto engine = load(dir, tokenizer.toStdString());
        QVERIFY(!engine.isOk());
        const QString message = QString::fromStdString(engine.status().message());
        QCOMPARE(engine.status().code(), ErrorCode::InvalidArgument);
        QVERIFY2(message.contains(tokenizer), qPrintable(message));                              // both files
        QVERIFY2(message.contains(QString::fromStdString((dir / "config.json").string())), qPrintable(message));
        QVERIFY2(message.contains("has " + pieces + " pieces"), qPrintable(message));           // both sizes
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    // docs/spec.md §2.6: every fixture with the tokenizer of its family, and the demo model, still load.
    void matchingTokenizersLoad_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("tokenizer");
        QTest::newRow("demo (1024 + 64 padding rows)") << "demo" << "";
        for (const char* layout : {"", "-hf"}) {
            QTest::newRow(qPrintable(QString("mistral-tiny%1").arg(layout)))
                << QString("llava-v1.6-mistral-tiny%1").arg(layout) << "mistral-7b-v0.1.model";
            QTest::newRow(qPrintable(QString("vicuna-tiny%1").arg(layout)))
                << QString("llava-v1.6-vicuna-tiny%1").arg(layout) << "llama-2.model";
            QTest::newRow(qPrintable(QString("34b-tiny%1").arg(layout)))
                << QString("llava-v1.6-34b-tiny%1").arg(layout) << "yi-34b.model";
        }
    }

    void matchingTokenizersLoad() {
        QFETCH(QString, model);
        QFETCH(QString, tokenizer);
        const fs::path dir = model == "demo" ? m_demo : kFixtures / model.toStdString();
        auto engine = load(dir, tokenizer.isEmpty() ? fs::path() : kTokenizers / tokenizer.toStdString());
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
    }

    // Load from a temp copy, answer once, truncate the shard in place: the next reply is an error value.
    void truncatedShardIsAnErrorNotSigbus() {
        const fs::path dir = fs::path(m_tmp.path().toStdString()) / "truncated";
        fs::create_directories(dir);
        for (const auto& e : fs::directory_iterator(kFixtures / "llava-v1.6-vicuna-tiny-hf"))
            fs::copy(e.path(), dir / e.path().filename());
        auto engine = load(dir, kTokenizers / "llama-2.model");
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        ChatSession& session = (*engine)->session();
        auto first = replyRecorded(session, {"Hello", {}}, greedy(4));
        QVERIFY2(first.stats.isOk(), first.stats.status().toString().c_str());

        const fs::path shard = dir / "model.safetensors";
        fs::resize_file(shard, fs::file_size(shard) / 4);  // in place: the mapping's pages past it are gone
        for (int attempt = 0; attempt < 2; ++attempt) {  // and it stays an error, never a crash
            auto next = replyRecorded(session, {"And now?", {}}, greedy(4));
            QVERIFY(!next.stats.isOk());
            QCOMPARE(next.stats.status().code(), ErrorCode::FileChanged);
            const QString message = QString::fromStdString(next.stats.status().message());
            QVERIFY2(message.contains("model file changed on disk: " + QString::fromStdString(shard.string())),
                     qPrintable(message));
            QVERIFY(next.ids.empty());
        }
    }

    // Rewritten in place with the same size (another checkpoint copied over it): also refused.
    void rewrittenShardIsAnError() {
        const fs::path dir = fs::path(m_tmp.path().toStdString()) / "rewritten";
        fs::create_directories(dir);
        for (const auto& e : fs::directory_iterator(m_demo)) fs::copy(e.path(), dir / e.path().filename());
        auto engine = load(dir, {});
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        const fs::path shard = dir / "model.safetensors";
        fs::last_write_time(shard, fs::last_write_time(shard) + std::chrono::seconds(5));
        auto next = replyRecorded((*engine)->session(), {"Hello", {}}, greedy(2));
        QVERIFY(!next.stats.isOk());
        QCOMPARE(next.stats.status().code(), ErrorCode::FileChanged);
        QVERIFY2(next.stats.status().message().find("rewritten") != std::string::npos,
                 next.stats.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestModelFiles)
#include "tst_modelfiles.moc"
