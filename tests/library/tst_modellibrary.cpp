// tst_modellibrary: the model library scan (llava/modellibrary.h) on hub caches built here in the layout
// huggingface_hub writes (blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>, refs/main),
// and on plain folders. Guards against: a cache model not found, a truncated shard (interrupted copy) or
// a missing shard / tokenizer reported as complete, the cache location resolved in another order than
// huggingface_hub's constants.py, each blob counted twice in the size on disk.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <map>

#include "llava/modellibrary.h"
#include "text/testtokenizers.h"

using namespace llava;
namespace fs = std::filesystem;

namespace {

const QString kFixtures = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/");
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

QString sha256Of(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return QString::fromLatin1(h.result().toHex());
}

// Puts `folder` (a fixture) + the Mistral tokenizer into <cache>/models--ORG--NAME as huggingface_hub does.
bool writeCacheRepo(const QString& cache, const QString& repoId, const QString& folder, const std::string& commit) {
    const fs::path repo = fs::path(cache.toStdString()) / hubRepoFolderName(repoId.toStdString());
    const fs::path snapshot = repo / "snapshots" / commit;
    fs::create_directories(repo / "blobs");
    fs::create_directories(snapshot);
    fs::create_directories(repo / "refs");
    QStringList files;
    for (const QString& name : QDir(kFixtures + folder).entryList(QDir::Files)) files << kFixtures + folder + "/" + name;
    files << llavatest::tokenizerPath(llavatest::kMistral);
    for (const QString& path : files) {
        const QString blob = sha256Of(path);
        const QString name = path.endsWith(".model") ? QStringLiteral("tokenizer.model") : QFileInfo(path).fileName();
        std::error_code ec;
        fs::copy_file(path.toStdString(), repo / "blobs" / blob.toStdString(), fs::copy_options::overwrite_existing, ec);
        if (ec) return false;
        fs::create_symlink(fs::path("../../blobs") / blob.toStdString(), snapshot / name.toStdString(), ec);
        if (ec) return false;
    }
    QFile ref(QString::fromStdString((repo / "refs" / "main").string()));
    if (!ref.open(QIODevice::WriteOnly)) return false;
    ref.write(commit.c_str());  // no newline, as huggingface_hub writes it
    return true;
}

EnvLookup envOf(std::map<std::string, std::string> values) {
    return [values](const char* name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace

class TstModelLibrary : public QObject {
    Q_OBJECT
private slots:
    void cacheLocationOrder();
    void repoFolderName();
    void findsCompleteCacheModel();
    void reportsMissingAndTruncatedShards();
    void plainFoldersAndDedup();
};

void TstModelLibrary::cacheLocationOrder() {
    QCOMPARE(hubCacheDir(envOf({{"HOME", "/home/u"}})), fs::path("/home/u/.cache/huggingface/hub"));
    QCOMPARE(hubCacheDir(envOf({{"HOME", "/home/u"}, {"XDG_CACHE_HOME", "/x"}})), fs::path("/x/huggingface/hub"));
    QCOMPARE(hubCacheDir(envOf({{"HOME", "/home/u"}, {"XDG_CACHE_HOME", "/x"}, {"HF_HOME", "/h"}})), fs::path("/h/hub"));
    QCOMPARE(hubCacheDir(envOf({{"HOME", "/home/u"}, {"HF_HOME", "~/hf"}})), fs::path("/home/u/hf/hub"));
    QCOMPARE(hubCacheDir(envOf({{"HF_HOME", "/h"}, {"HUGGINGFACE_HUB_CACHE", "/legacy"}})), fs::path("/legacy"));
    QCOMPARE(hubCacheDir(envOf({{"HF_HOME", "/h"}, {"HUGGINGFACE_HUB_CACHE", "/legacy"}, {"HF_HUB_CACHE", "/c"}})),
             fs::path("/c"));
    QCOMPARE(hubCacheDir(envOf({{"HOME", "/home/u"}, {"HF_HUB_CACHE", ""}})), fs::path("/home/u/.cache/huggingface/hub"));
    QCOMPARE(hfHomeDir(envOf({{"HOME", "/home/u"}})), fs::path("/home/u/.cache/huggingface"));
}

void TstModelLibrary::repoFolderName() {
    QCOMPARE(hubRepoFolderName("llava-hf/llava-v1.6-mistral-7b-hf"), std::string("models--llava-hf--llava-v1.6-mistral-7b-hf"));
    QCOMPARE(hubRepoFolderName("gpt2"), std::string("models--gpt2"));
}

void TstModelLibrary::findsCompleteCacheModel() {
    QTemporaryDir cache;
    QVERIFY(writeCacheRepo(cache.path(), "llava-hf/llava-v1.6-mistral-tiny-hf", "llava-v1.6-mistral-tiny-hf", kCommit));
    QVERIFY(writeCacheRepo(cache.path(), "liuhaotian/llava-v1.6-mistral-tiny", "llava-v1.6-mistral-tiny", kCommit));
    QDir().mkpath(cache.path() + "/datasets--x--y/snapshots/abc");  // not a model repository
    const auto entries = scanHubCache(cache.path().toStdString());
    QCOMPARE(int(entries.size()), 2);
    const LibraryEntry& orig = entries[0];  // sorted: liuhaotian first
    const LibraryEntry& hf = entries[1];
    QCOMPARE(hf.name, std::string("llava-hf/llava-v1.6-mistral-tiny-hf"));
    QCOMPARE(hf.repoId, hf.name);
    QCOMPARE(hf.commit, kCommit);
    QCOMPARE(hf.refs, std::vector<std::string>{"main"});
    QCOMPARE(hf.source, LibrarySource::HubCache);
    QVERIFY2(hf.complete, hf.problems.empty() ? "" : hf.problems.front().c_str());
    QVERIFY(hf.layout.has_value());
    QCOMPARE(*hf.layout, CheckpointLayout::HfLegacy);
    QCOMPARE(*orig.layout, CheckpointLayout::Original);
    QCOMPARE(hf.templateName, std::string("mistral_instruct"));
    QCOMPARE(hf.storedDtype, std::string("F16"));  // the fixtures are saved in float16
    QVERIFY(orig.complete);
    // Size on disk = the blobs behind the symlinks, each once.
    std::uint64_t expected = 0;
    for (const auto& e : fs::directory_iterator(fs::path(cache.path().toStdString()) /
                                                "models--llava-hf--llava-v1.6-mistral-tiny-hf" / "blobs"))
        expected += fs::file_size(e.path());
    QCOMPARE(hf.sizeOnDisk, expected);
    QVERIFY(!hf.tensors.empty());
}

void TstModelLibrary::reportsMissingAndTruncatedShards() {
    QTemporaryDir cache;
    QVERIFY(writeCacheRepo(cache.path(), "llava-hf/tiny", "llava-v1.6-mistral-tiny-hf", kCommit));
    const fs::path snapshot = fs::path(cache.path().toStdString()) / "models--llava-hf--tiny" / "snapshots" / kCommit;
    // Truncate shard 2 (through its symlink, i.e. the blob) and drop the tokenizer.
    const fs::path shard2 = snapshot / "model-00002-of-00002.safetensors";
    const std::uint64_t fullSize = fs::file_size(shard2);
    fs::resize_file(fs::canonical(shard2), fullSize - 1000);
    fs::remove(snapshot / "tokenizer.model");
    LibraryEntry entry = inspectModelFolder(snapshot, LibrarySource::HubCache);
    QVERIFY(!entry.complete);
    QString all;
    for (const auto& p : entry.problems) all += QString::fromStdString(p) + "\n";
    QVERIFY2(all.contains("missing tokenizer.model"), qPrintable(all));
    QVERIFY2(all.contains(QString("model-00002-of-00002.safetensors is %1 bytes, its header declares %2")
                              .arg(fullSize - 1000).arg(fullSize)), qPrintable(all));
    // A shard the index names but that is not there.
    fs::remove(shard2);
    entry = inspectModelFolder(snapshot, LibrarySource::HubCache);
    all.clear();
    for (const auto& p : entry.problems) all += QString::fromStdString(p) + "\n";
    QVERIFY2(all.contains("missing model-00002-of-00002.safetensors"), qPrintable(all));
    // The plan then falls back to the config's tensors (F32 per its torch_dtype or the default BF16).
    QVERIFY(!entry.tensors.empty());
    // No config at all.
    fs::remove(snapshot / "config.json");
    entry = inspectModelFolder(snapshot, LibrarySource::HubCache);
    QVERIFY(!entry.config.has_value());
    QVERIFY(std::find(entry.problems.begin(), entry.problems.end(), "missing config.json") != entry.problems.end());
}

void TstModelLibrary::plainFoldersAndDedup() {
    QTemporaryDir app;
    const QString model = app.path() + "/llava-v1.6-vicuna-tiny-hf";
    QVERIFY(QDir().mkpath(model));
    for (const QString& name : QDir(kFixtures + "llava-v1.6-vicuna-tiny-hf").entryList(QDir::Files))
        QVERIFY(QFile::copy(kFixtures + "llava-v1.6-vicuna-tiny-hf/" + name, model + "/" + name));
    QVERIFY(QDir().mkpath(app.path() + "/not-a-model"));
    LibraryLocations where;
    where.appFolders = {app.path().toStdString()};
    where.recent = {model.toStdString(), "/nonexistent/folder"};
    const auto entries = scanLibrary(where);
    QCOMPARE(int(entries.size()), 1);  // the recent entry is the same folder: listed once
    QCOMPARE(entries[0].source, LibrarySource::AppFolder);
    QCOMPARE(entries[0].name, std::string("llava-v1.6-vicuna-tiny-hf"));
    QCOMPARE(entries[0].templateName, std::string("llava_v1"));
    QVERIFY(!entries[0].complete);  // the fixtures carry no tokenizer.model
    QCOMPARE(entries[0].problems, std::vector<std::string>{"missing tokenizer.model"});
}

QTEST_GUILESS_MAIN(TstModelLibrary)
#include "tst_modellibrary.moc"
