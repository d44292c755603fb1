// Bounded reads and bounded configs (issue 10 items 8 and 9). Every file core reads whole goes through
// readCheckedFile: a FIFO must fail at once (not block until a writer appears), a device or a huge sparse
// file must fail before a byte is read, with an error naming the file, what it is and the cap. Configs
// whose values size allocations (pinpoints, patches per crop) are refused at load with the rule.
// The caps asserted here are the ones docs/limits.md lists.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llava/checkedfile.h"
#include "llava/modelconfig.h"
#include "llava/safetensors.h"
#include "llava/tokenizer.h"

using namespace llava;
namespace fs = std::filesystem;

namespace {

const fs::path kTokenizer = fs::path(LLAVA_SHARED_DIR) / "assets/tokenizers/mistral-7b-v0.1.model";

// A FIFO that no one writes to. If the code under test blocks in open() (the defect), a helper thread
// opens the write end after 3 s, so the test then fails on its time check instead of hanging forever.
class Fifo {
public:
    explicit Fifo(fs::path path) : m_path(std::move(path)) {
        m_ok = ::mkfifo(m_path.c_str(), 0600) == 0;
        m_thread = std::thread([this] {
            std::unique_lock lock(m_mutex);
            if (m_cv.wait_for(lock, std::chrono::seconds(3), [this] { return m_done; })) return;
            const int fd = ::open(m_path.c_str(), O_WRONLY | O_NONBLOCK);  // succeeds only with a reader
            if (fd >= 0) ::close(fd);
        });
    }
    ~Fifo() {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    bool ok() const { return m_ok; }

private:
    fs::path m_path;
    bool m_ok = false;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    std::thread m_thread;
};

void writeText(const fs::path& path, const std::string& text) {
    QFile f(QString::fromStdString(path.string()));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text.data(), qint64(text.size()));
}

// A sparse file of `bytes` (no disk blocks, so a 3 GB one is free to make).
void makeSparse(const fs::path& path, std::uintmax_t bytes) {
    writeText(path, "\x89PNG\r\n\x1a\n");
    fs::resize_file(path, bytes);
}

constexpr std::uintmax_t k3GB = 3ull << 30;

template <typename T>
QString messageOf(const Result<T>& r) { return QString::fromStdString(r.status().message()); }
QString messageOf(const Status& s) { return QString::fromStdString(s.message()); }

// The hf-style 336-px config of tst_config with `pinpoints` (JSON text) and the vision sizes given.
std::string hfConfig(const std::string& pinpoints, int imageSize = 336, int patchSize = 14) {
    return R"({"model_type": "llava_next", "image_token_index": 32000, "image_grid_pinpoints": )" + pinpoints +
           R"(, "text_config": {"model_type": "mistral", "vocab_size": 32064},
           "vision_config": {"hidden_size": 1024, "image_size": )" + std::to_string(imageSize) +
           R"(, "intermediate_size": 4096, "model_type": "clip_vision_model", "num_attention_heads": 16,
           "num_hidden_layers": 24, "patch_size": )" + std::to_string(patchSize) + "}}";
}

}  // namespace

class TestInputLimits : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path dir(const char* name) {
        const fs::path d = fs::path(m_tmp.path().toStdString()) / name;
        fs::create_directories(d);
        return d;
    }

private slots:
    // ---- item 8: files are sniffed before they are read ---------------------------------------------

    void fifoFailsAtOnce() {
        const fs::path path = dir("fifo") / "config.json";
        Fifo fifo(path);
        QVERIFY(fifo.ok());
        QElapsedTimer timer;
        timer.start();
        auto text = readCheckedFile(path, "model config", kMaxConfigFileBytes);
        QVERIFY(!text.isOk());
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(text.status().code(), ErrorCode::InvalidArgument);
        QVERIFY2(messageOf(text).contains("FIFO") && messageOf(text).contains(QString::fromStdString(path.string())),
                 qPrintable(messageOf(text)));
    }

    // Each reader of a model folder, fed a FIFO, a device and a sparse 3 GB file in its file's place.
    void modelFolderReaders_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("kind");   // fifo | device | sparse
        QTest::addColumn<QString>("expect"); // part of the message
        for (const char* file : {"config.json", "tokenizer.model", "tokenizer_config.json",
                                 "model.safetensors.index.json", "preprocessor_config.json"}) {
            QTest::newRow(qPrintable(QString("%1 fifo").arg(file))) << file << "fifo" << "FIFO";
            QTest::newRow(qPrintable(QString("%1 /dev/zero").arg(file))) << file << "device" << "character device";
            QTest::newRow(qPrintable(QString("%1 sparse 3 GB").arg(file))) << file << "sparse" << "above the cap";
        }
        QTest::newRow("model.safetensors fifo") << "model.safetensors" << "fifo" << "FIFO";
        QTest::newRow("model.safetensors /dev/zero") << "model.safetensors" << "device" << "character device";
    }

    void modelFolderReaders() {
        QFETCH(QString, file);
        QFETCH(QString, kind);
        QFETCH(QString, expect);
        static int counter = 0;
        const fs::path model = dir(qPrintable(QString("model%1").arg(++counter)));
        // A valid folder around the hostile file, so nothing else fails first.
        writeText(model / "config.json", hfConfig("[[336, 672], [672, 336]]"));
        const fs::path path = model / file.toStdString();
        fs::remove(path);
        std::unique_ptr<Fifo> fifo;
        if (kind == "fifo") {
            fifo = std::make_unique<Fifo>(path);
            QVERIFY(fifo->ok());
        } else if (kind == "device") {
            fs::create_symlink("/dev/zero", path);
        } else {
            makeSparse(path, k3GB);
        }
        QElapsedTimer timer;
        timer.start();
        Status status;
        if (file == "config.json" || file == "preprocessor_config.json") {
            status = loadModelConfig(model).status();
        } else if (file == "tokenizer.model") {
            status = Tokenizer::loadFile(path).status();
        } else if (file == "tokenizer_config.json") {
            auto tok = Tokenizer::loadFile(kTokenizer);
            QVERIFY2(tok.isOk(), tok.status().toString().c_str());
            status = tok->applyTokenizerConfig(model);
        } else {
            status = ShardSet::open(model).status();
        }
        QVERIFY(!status.isOk());
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY2(messageOf(status).contains(expect), qPrintable(messageOf(status)));
        QVERIFY2(messageOf(status).contains(file), qPrintable(messageOf(status)));
    }

    // The cap is in the message, and files at the cap are still read (the check is not off by one).
    void capIsNamedAndInclusive() {
        const fs::path path = dir("cap") / "tokenizer_config.json";
        writeText(path, std::string(100, ' '));
        QVERIFY(readCheckedFile(path, "tokenizer config", 100).isOk());
        auto over = readCheckedFile(path, "tokenizer config", 99);
        QVERIFY(!over.isOk());
        QCOMPARE(over.status().code(), ErrorCode::OutOfRange);
        QVERIFY2(messageOf(over).contains("100 bytes") && messageOf(over).contains("cap of 99 bytes"),
                 qPrintable(messageOf(over)));
        auto tok = readCheckedFile(path, "tokenizer model", kMaxTokenizerModelBytes);
        QVERIFY(tok.isOk());
        QCOMPARE(tok->size(), std::size_t(100));
    }

    void folderAndMissingFile() {
        const fs::path d = dir("adir");
        auto folder = readCheckedFile(d, "model config", kMaxConfigFileBytes);
        QVERIFY(!folder.isOk());
        QVERIFY2(messageOf(folder).contains("a folder"), qPrintable(messageOf(folder)));
        auto missing = readCheckedFile(d / "nope.json", "model config", kMaxConfigFileBytes);
        QCOMPARE(missing.status().code(), ErrorCode::NotFound);
    }

    // ---- item 9: config values that size allocations are bounded at load ----------------------------

    void pinpointRules_data() {
        QTest::addColumn<QString>("pinpoints");
        QTest::addColumn<int>("imageSize");
        QTest::addColumn<QString>("expect");  // empty: must load
        QTest::newRow("real v1.6 list") << "[[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]" << 336 << "";
        QTest::newRow("4x4 grid (17 crops, 786 MB of CLIP-L scratch)") << "[[1344, 1344]]" << 336 << "";
        QTest::newRow("16128x16128: 2304 tiles") << "[[16128, 16128]]" << 336
                                                 << "48x48 grid of 336-px tiles: with the base crop 2305 crops";
        QTest::newRow("1x25 strip (26 crops, 1.2 GB)") << "[[336, 8400]]" << 336 << "above the limit of 1 GiB";
        QTest::newRow("tiny tower, real pinpoints (433 tiny crops)") << "[[336, 672], [1008, 336]]" << 28 << "";
        QTest::newRow("500 not a multiple of 336") << "[[500, 672]]" << 336 << "not a multiple of the tile size 336";
        QTest::newRow("smaller than a tile") << "[[168, 336]]" << 336 << "not a multiple of the tile size 336";
        QTest::newRow("tile size follows image_size") << "[[336, 672]]" << 224 << "not a multiple of the tile size 224";
        std::string many = "[";
        for (int i = 0; i < 65; ++i) many += std::string(i ? "," : "") + "[336, 336]";
        QTest::newRow("65 pinpoints") << QString::fromStdString(many + "]") << 336 << "at most 64";
    }

    void pinpointRules() {
        QFETCH(QString, pinpoints);
        QFETCH(int, imageSize);
        QFETCH(QString, expect);
        auto config = parseModelConfig(hfConfig(pinpoints.toStdString(), imageSize), "x");
        if (expect.isEmpty()) {
            QVERIFY2(config.isOk(), config.status().toString().c_str());
            return;
        }
        QVERIFY(!config.isOk());
        QVERIFY2(messageOf(config).contains(expect), qPrintable(messageOf(config)));
        QVERIFY2(messageOf(config).contains("image_grid_pinpoints"), qPrintable(messageOf(config)));
    }

    // Patches per crop size the CLIP position table and the image token count (int arithmetic).
    void patchesPerCropBounded() {
        auto huge = parseModelConfig(hfConfig("[[4096, 4096]]", 4096, 1), "x");
        QVERIFY(!huge.isOk());
        QVERIFY2(messageOf(huge).contains("patches per side"), qPrintable(messageOf(huge)));
        QVERIFY2(messageOf(huge).contains("4096"), qPrintable(messageOf(huge)));
        QVERIFY(parseModelConfig(hfConfig("[[448, 896]]", 448, 14), "x").isOk());  // 32 per side: fine
    }

    // The other sizes keep their ranges (fields named in the message).
    void otherSizesBounded_data() {
        QTest::addColumn<QString>("textField");
        QTest::addColumn<QString>("expect");
        QTest::newRow("hidden_size") << R"("hidden_size": 1000000)" << "hidden_size";
        QTest::newRow("num_hidden_layers") << R"("num_hidden_layers": 100000)" << "num_hidden_layers";
        QTest::newRow("vocab_size") << R"("vocab_size": 100000000)" << "vocab_size";
        QTest::newRow("max_position_embeddings") << R"("max_position_embeddings": 2000000000)" << "max_position_embeddings";
    }

    void otherSizesBounded() {
        QFETCH(QString, textField);
        QFETCH(QString, expect);
        const std::string json = R"({"model_type": "llava_next", "image_token_index": 32000,
            "text_config": {"model_type": "mistral", )" + textField.toStdString() + "}}";
        auto config = parseModelConfig(json, "x");
        QVERIFY(!config.isOk());
        QVERIFY2(messageOf(config).contains(expect), qPrintable(messageOf(config)));
    }

    // Every shipped preset and fixture still loads under the new rules.
    void shippedConfigsStillLoad() {
        for (const std::string& name : presetNames()) {
            auto preset = loadPreset(name);
            QVERIFY2(preset.isOk(), preset.status().toString().c_str());
        }
        const fs::path fixtures = fs::path(LLAVA_SOURCE_DIR) / "tests/fixtures/models";
        int n = 0;
        for (const auto& e : fs::directory_iterator(fixtures)) {
            auto config = loadModelConfig(e.path());
            QVERIFY2(config.isOk(), config.status().toString().c_str());
            ++n;
        }
        QVERIFY(n >= 6);
    }
};

QTEST_GUILESS_MAIN(TestInputLimits)
#include "tst_inputlimits.moc"
