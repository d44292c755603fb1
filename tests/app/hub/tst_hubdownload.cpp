// tst_hubdownload: HubDownloader against the fake Hub (fakehub.py on 127.0.0.1, started per test).
// Each test names the defect it guards against:
//  * fullDownloadSurvivesDrop: a connection dropped half-way through a shard must be resumed with a Range
//    request and end with the exact bytes; files land in the hub cache layout (blobs by hash, relative
//    snapshot symlinks, refs/main) and only the files the app needs are fetched; progress reaches 100%;
//    the folder is then opened and chatted with: greedy tokens == transformers' goldens (manifest.json).
//  * resumesAfterRestart: a .incomplete left by an earlier run is continued (Range from its size), not
//    restarted, and the result is still verified.
//  * corruptBlobRejected: a blob whose sha256 differs from the LFS metadata is reported (both hashes),
//    deleted, and never linked into the snapshot.
//  * gatedRepoNeedsToken: 401 -> "this repo needs a token"; with a token it works, and the token is never
//    sent to the CDN host the files redirect to.
//  * diskShortfallRefused: not enough free space -> refused before any byte is written.
//  * nonMainRevision: a branch other than main -> its own commit snapshot and refs/<branch>; a missing
//    revision -> "revision not found".
//  * cancelKeepsPartial: cancel stops at once, keeps the partial, and the next start completes it.
//  * proxyFromEnvironment: http_proxy is honoured (the fake Hub is the proxy for an unreachable host).
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

#include "fakehubprocess.h"
#include "imagedecoder.h"
#include "llava/engine.h"
#include "llava/modellibrary.h"

using hubtest::FakeHub;
using hubtest::kFixtureRepo;

namespace {

const QString kFixtureDir = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
const QString kTokenizer = QStringLiteral(LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model");
const QString kRepoFolder = QStringLiteral("models--llava-hf--llava-v1.6-mistral-tiny-hf");

hub::HubConfig configFor(const FakeHub& server, const QString& cache, const QString& token = {}) {
    hub::HubConfig config;
    config.endpoint = server.endpoint();
    config.cacheDir = cache;
    config.token = token;
    return config;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString sha256(const QByteArray& data) {
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

QStringList neededNames() {
    QStringList names = QDir(kFixtureDir).entryList(QDir::Files);
    names.removeAll(QStringLiteral("TOKENIZER.md"));  // not a file the app asks for
    names << QStringLiteral("tokenizer.model");
    names.sort();
    return names;
}

// Every needed file of the snapshot is a relative symlink into ../../blobs with the fixture's bytes.
void checkSnapshot(const QString& snapshot, bool v2 = false) {
    QDir dir(snapshot);
    QStringList present = dir.entryList(QDir::Files | QDir::System);
    present.sort();
    QCOMPARE(present, neededNames());
    for (const QString& name : present) {
        const QFileInfo link(dir.filePath(name));
        QVERIFY2(link.isSymLink(), qPrintable(name));
        const std::string target = std::filesystem::read_symlink(link.filePath().toStdString()).string();
        QVERIFY2(QString::fromStdString(target).startsWith(QStringLiteral("../../blobs/")), target.c_str());
        const QByteArray expected = name == QStringLiteral("tokenizer.model") ? readAll(kTokenizer)
                                                                               : readAll(kFixtureDir + "/" + name);
        if (v2 && name == QStringLiteral("config.json")) continue;  // the branch's config differs
        QVERIFY2(readAll(link.filePath()) == expected, qPrintable(name + " differs from the fixture"));
        if (name.endsWith(QStringLiteral(".safetensors")) || name.endsWith(QStringLiteral(".model")))
            QCOMPARE(QFileInfo(QString::fromStdString(target)).fileName(), sha256(expected));  // blob = sha256
    }
}

QStringList incompleteFiles(const QString& cache) {
    return QDir(cache + "/" + kRepoFolder + "/blobs").entryList({QStringLiteral("*.incomplete")}, QDir::Files);
}

}  // namespace

class TstHubDownload : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void fullDownloadSurvivesDrop();
    void resumesAfterRestart();
    void corruptBlobRejected();
    void gatedRepoNeedsToken();
    void diskShortfallRefused();
    void nonMainRevision();
    void cancelKeepsPartial();
    void proxyFromEnvironment();
    void tokenAndEndpointFromEnvironment();
};

void TstHubDownload::initTestCase() {
    // The tests talk to 127.0.0.1 directly unless a test sets a proxy itself.
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
        qunsetenv(name);
}

void TstHubDownload::fullDownloadSurvivesDrop() {
    FakeHub server({QStringLiteral("--drop-once"), QStringLiteral("model-00001-of-00002.safetensors")});
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader downloader(configFor(server, cache.path()));
    downloader.setRetryPolicy(5, 10);
    const auto out = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("main"));
    QVERIFY2(out.finished, qPrintable(out.error + out.messages.join("\n")));
    QVERIFY2(out.messages.join("\n").contains(QStringLiteral("model-00001-of-00002.safetensors: connection lost")),
             qPrintable(out.messages.join("\n")));
    // The resume asked for the rest of the file only.
    bool ranged = false;
    for (const QJsonValue& v : server.log()) {
        const QJsonObject r = v.toObject();
        if (r.value("path").toString().contains("model-00001-of-00002") && r.value("range").toString().startsWith("bytes=")) {
            const qint64 from = r.value("range").toString().mid(6).chopped(1).toLongLong();
            ranged = from > 0 && from < QFileInfo(kFixtureDir + "/model-00001-of-00002.safetensors").size();
        }
    }
    QVERIFY2(ranged, "no Range request resumed model-00001-of-00002.safetensors");
    checkSnapshot(out.snapshotDir);
    QVERIFY(incompleteFiles(cache.path()).isEmpty());
    const QString commit = QFileInfo(out.snapshotDir).fileName();
    QCOMPARE(readAll(cache.path() + "/" + kRepoFolder + "/refs/main"), commit.toLatin1());
    QVERIFY(!QFileInfo::exists(out.snapshotDir + "/README.md"));
    QVERIFY(!QFileInfo::exists(out.snapshotDir + "/pytorch_model.bin"));
    // Progress: byte totals add up, a speed was measured.
    QVERIFY(!out.progress.isEmpty());
    const hub::DownloadProgress last = out.progress.last();
    QCOMPARE(last.total.doneBytes, last.total.totalBytes);
    qint64 expectedTotal = 0;
    for (const QString& name : neededNames())
        expectedTotal += QFileInfo(name == "tokenizer.model" ? kTokenizer : kFixtureDir + "/" + name).size();
    QCOMPARE(last.total.totalBytes, expectedTotal);
    QCOMPARE(last.fileCount, int(neededNames().size()));

    // The library sees it, complete, under its repo id.
    const auto entries = llava::scanHubCache(cache.path().toStdString());
    QCOMPARE(int(entries.size()), 1);
    QCOMPARE(entries[0].name, kFixtureRepo.toStdString());
    QVERIFY2(entries[0].complete, entries[0].problems.empty() ? "" : entries[0].problems[0].c_str());

    // Open the downloaded folder and chat: greedy tokens == transformers' (tests/fixtures/golden/manifest.json).
    const QJsonObject manifest = QJsonDocument::fromJson(readAll(LLAVA_SOURCE_DIR "/tests/fixtures/golden/manifest.json")).object();
    const QJsonObject golden = manifest.value("files").toObject()
                                   .value("llava-v1.6-mistral-tiny-hf__landscape_640x480.safetensors").toObject();
    QList<int> expected;
    for (const QJsonValue& v : golden.value("greedy_tokens").toArray()) expected << v.toInt();
    QCOMPARE(expected.size(), 32);
    llava::EngineOptions options;
    options.backend = llava::BackendKind::Cpu;
    options.threads = 2;
    auto engine = llava::Engine::load(out.snapshotDir.toStdString(), options);
    QVERIFY2(engine.isOk(), engine.isOk() ? "" : engine.status().message().c_str());
    auto image = imageio::decodeImageFile(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/landscape_640x480.png"));
    QVERIFY2(image.isOk(), image.isOk() ? "" : image.status().message().c_str());
    llava::SamplingParams greedy;
    greedy.temperature = 0;
    greedy.maxNewTokens = 32;
    QList<int> tokens;
    auto stats = (*engine)->session().reply({"What is in this picture?", {std::move(*image)}}, greedy,
                                            [&](const llava::TokenEvent& e) {
                                                if (e.id >= 0) tokens << e.id;
                                                return true;
                                            },
                                            [] { return false; });
    QVERIFY2(stats.isOk(), stats.isOk() ? "" : stats.status().message().c_str());
    QCOMPARE(stats->imageTokens, golden.value("n_image_tokens").toInt());
    QCOMPARE(tokens, expected);
}

void TstHubDownload::resumesAfterRestart() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    // An earlier run stopped after 1,000,000 bytes of shard 2.
    const QByteArray shard = readAll(kFixtureDir + "/model-00002-of-00002.safetensors");
    const QString blobs = cache.path() + "/" + kRepoFolder + "/blobs";
    QVERIFY(QDir().mkpath(blobs));
    QFile partial(blobs + "/" + sha256(shard) + ".incomplete");
    QVERIFY(partial.open(QIODevice::WriteOnly));
    partial.write(shard.left(1000000));
    partial.close();
    hub::HubDownloader downloader(configFor(server, cache.path()));
    const auto out = hubtest::runDownload(downloader, kFixtureRepo, QString());
    QVERIFY2(out.finished, qPrintable(out.error));
    QVERIFY2(out.messages.join("\n").contains("model-00002-of-00002.safetensors: resuming at"), qPrintable(out.messages.join("\n")));
    bool resumed = false;
    for (const QJsonValue& v : server.log())
        resumed |= v.toObject().value("range").toString() == QStringLiteral("bytes=1000000-");
    QVERIFY2(resumed, "the partial file was not resumed with Range: bytes=1000000-");
    checkSnapshot(out.snapshotDir);
}

void TstHubDownload::corruptBlobRejected() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader downloader(configFor(server, cache.path()));
    const auto out = hubtest::runDownload(downloader, QStringLiteral("llava-hf/corrupt-tiny"), QStringLiteral("main"));
    QVERIFY(out.failed);
    const QString good = sha256(readAll(kFixtureDir + "/model-00002-of-00002.safetensors"));
    QVERIFY2(out.error.contains("model-00002-of-00002.safetensors: sha256 mismatch: expected " + good + ", got "),
             qPrintable(out.error));
    QVERIFY2(out.error.contains("partial file was deleted"), qPrintable(out.error));
    const QString repo = cache.path() + "/models--llava-hf--corrupt-tiny";
    QVERIFY(!QFileInfo::exists(repo + "/blobs/" + good));
    QVERIFY(!QFileInfo::exists(repo + "/blobs/" + good + ".incomplete"));
    const QStringList snapshots = QDir(repo + "/snapshots").entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    QCOMPARE(snapshots.size(), 1);
    QVERIFY(!QFileInfo(repo + "/snapshots/" + snapshots[0] + "/model-00002-of-00002.safetensors").isSymLink());
    // The library does not call that snapshot complete.
    const auto entries = llava::scanHubCache(cache.path().toStdString());
    QCOMPARE(int(entries.size()), 1);
    QVERIFY(!entries[0].complete);
}

void TstHubDownload::gatedRepoNeedsToken() {
    // The CDN on another host name ("localhost" vs the endpoint's 127.0.0.1): the token must stay at the Hub.
    FakeHub server({QStringLiteral("--token"), QStringLiteral("hf_secret"), QStringLiteral("--cdn-host"),
                    QStringLiteral("localhost")});
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader anonymous(configFor(server, cache.path()));
    auto out = hubtest::runDownload(anonymous, QStringLiteral("llava-hf/gated-tiny"), QStringLiteral("main"));
    QVERIFY(out.failed);
    QVERIFY2(out.error.contains("this repo needs a token") && out.error.contains("401") && out.error.contains("HF_TOKEN"),
             qPrintable(out.error));
    hub::HubDownloader wrong(configFor(server, cache.path(), QStringLiteral("hf_wrong")));
    out = hubtest::runDownload(wrong, QStringLiteral("llava-hf/gated-tiny"), QStringLiteral("main"));
    QVERIFY2(out.failed && out.error.contains("no access"), qPrintable(out.error));
    hub::HubDownloader authorised(configFor(server, cache.path(), QStringLiteral("hf_secret")));
    out = hubtest::runDownload(authorised, QStringLiteral("llava-hf/gated-tiny"), QStringLiteral("main"));
    QVERIFY2(out.finished, qPrintable(out.error));
    for (const QJsonValue& v : server.log())
        QVERIFY2(!v.toObject().value("auth_at_cdn").toBool(), "the token was sent to the CDN host");
}

void TstHubDownload::diskShortfallRefused() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader downloader(configFor(server, cache.path()));
    downloader.setDiskSpaceProbe([](const QString&) { return qint64(3000000); });  // the model needs ~4.8 MB
    const auto out = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("main"));
    QVERIFY(out.failed);
    QVERIFY2(out.error.contains("not enough disk space") && out.error.contains("free"), qPrintable(out.error));
    QVERIFY(!QFileInfo::exists(cache.path() + "/" + kRepoFolder + "/blobs"));
}

void TstHubDownload::nonMainRevision() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader downloader(configFor(server, cache.path()));
    const auto main = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("main"));
    const auto v2 = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("v2"));
    QVERIFY2(main.finished && v2.finished, qPrintable(main.error + v2.error));
    QVERIFY(main.snapshotDir != v2.snapshotDir);
    checkSnapshot(v2.snapshotDir, true);
    QVERIFY(readAll(v2.snapshotDir + "/config.json").contains("_fake_hub_revision"));
    QCOMPARE(readAll(cache.path() + "/" + kRepoFolder + "/refs/v2"), QFileInfo(v2.snapshotDir).fileName().toLatin1());
    // The shards are shared: one blob per content.
    QCOMPARE(QFileInfo(v2.snapshotDir + "/model-00001-of-00002.safetensors").symLinkTarget(),
             QFileInfo(main.snapshotDir + "/model-00001-of-00002.safetensors").symLinkTarget());
    // A commit hash as the revision writes no ref.
    const QString commit = QFileInfo(v2.snapshotDir).fileName();
    const auto byCommit = hubtest::runDownload(downloader, kFixtureRepo, commit);
    QVERIFY(byCommit.finished);
    QVERIFY(!QFileInfo::exists(cache.path() + "/" + kRepoFolder + "/refs/" + commit));
    const auto missing = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("no-such-branch"));
    QVERIFY2(missing.failed && missing.error.contains("revision not found"), qPrintable(missing.error));
    const auto entries = llava::scanHubCache(cache.path().toStdString());
    QCOMPARE(int(entries.size()), 2);
}

void TstHubDownload::cancelKeepsPartial() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubDownloader downloader(configFor(server, cache.path()));
    const QString repoFolder = cache.path() + "/models--llava-hf--slow-tiny";
    auto out = hubtest::runDownload(downloader, QStringLiteral("llava-hf/slow-tiny"), QStringLiteral("main"),
                                    [](hub::HubDownloader& d, const hub::DownloadProgress& p) {
                                        if (p.file.endsWith(".safetensors") && p.current.doneBytes > 0) d.cancel();
                                    });
    QVERIFY2(out.cancelled, qPrintable(out.error));
    QVERIFY(!downloader.isRunning());
    const QStringList partials = QDir(repoFolder + "/blobs").entryList({QStringLiteral("*.incomplete")}, QDir::Files);
    QCOMPARE(partials.size(), 1);
    const qint64 kept = QFileInfo(repoFolder + "/blobs/" + partials[0]).size();
    QVERIFY(kept > 0);
    // Speed and ETA were reported while it ran.
    bool rated = false;
    for (const auto& p : out.progress) rated |= p.total.bytesPerSecond > 0 && p.total.etaSeconds >= 0;
    QVERIFY(rated || out.progress.size() < 2);
    out = hubtest::runDownload(downloader, QStringLiteral("llava-hf/slow-tiny"), QStringLiteral("main"));
    QVERIFY2(out.finished, qPrintable(out.error));
    QVERIFY2(out.messages.join("\n").contains("resuming at"), qPrintable(out.messages.join("\n")));
    checkSnapshot(out.snapshotDir);
}

void TstHubDownload::proxyFromEnvironment() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubConfig config = configFor(server, cache.path());
    config.endpoint = QUrl(QStringLiteral("http://hub.invalid"));  // reachable only through the proxy
    qputenv("http_proxy", server.endpoint().toString().toUtf8());
    hub::HubDownloader downloader(config);
    const auto out = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("main"));
    qunsetenv("http_proxy");
    QVERIFY2(out.finished, qPrintable(out.error));
    int proxied = 0;
    for (const QJsonValue& v : server.log()) proxied += v.toObject().value("proxied").toBool() ? 1 : 0;
    QVERIFY2(proxied >= 3, "the requests did not go through http_proxy");
    checkSnapshot(out.snapshotDir);
}

void TstHubDownload::tokenAndEndpointFromEnvironment() {
    QTemporaryDir home;
    QFile token(home.path() + "/token");
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("hf_from_file\n");
    token.close();
    std::map<std::string, std::string> env = {{"HF_HOME", home.path().toStdString()},
                                              {"HF_ENDPOINT", "http://mirror.example:8080/"}};
    auto lookup = [&env](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    hub::HubConfig config = hub::hubConfigFromEnvironment(lookup);
    QCOMPARE(config.token, QStringLiteral("hf_from_file"));
    QCOMPARE(config.tokenSource, home.path() + "/token");
    QCOMPARE(config.endpoint.toString(), QStringLiteral("http://mirror.example:8080"));
    QCOMPARE(config.cacheDir, home.path() + "/hub");
    env["HF_TOKEN"] = "hf_from_env";
    config = hub::hubConfigFromEnvironment(lookup);
    QCOMPARE(config.token, QStringLiteral("hf_from_env"));
    QCOMPARE(config.tokenSource, QStringLiteral("HF_TOKEN"));
    QCOMPARE(hub::repoInfoUrl(config.endpoint, "a/b", "refs/pr/1").toString(),
             QStringLiteral("http://mirror.example:8080/api/models/a/b/revision/refs%2Fpr%2F1?blobs=true"));
}

QTEST_GUILESS_MAIN(TstHubDownload)
#include "tst_hubdownload.moc"
