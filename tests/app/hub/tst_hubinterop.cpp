// tst_hubinterop: one cache for transformers and this app. Guards against a cache layout that only our own
// reader understands (wrong blob names, absolute symlinks, missing refs/, refs with a newline):
//  * appCacheReadByHuggingfaceHub: what HubDownloader wrote is found by huggingface_hub's
//    snapshot_download / hf_hub_download with local_files_only=True (HF_HUB_OFFLINE=1), for main and for a
//    branch, and yields the same snapshot folder and bytes;
//  * huggingfaceHubCacheFoundByLibrary: what huggingface_hub downloads from the fake Hub is listed by
//    llava::scanHubCache as complete, under its repo id and ref.
// The venv (build/<preset>/venv-hub, huggingface_hub pinned in requirements-hub.txt) is created by the test
// on its first run (needs PyPI once) and reused after.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "fakehubprocess.h"
#include "llava/modellibrary.h"

using hubtest::FakeHub;
using hubtest::kFixtureRepo;

namespace {

struct PyRun {
    int exitCode = -1;
    QString out, err;
};

}  // namespace

class TstHubInterop : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void appCacheReadByHuggingfaceHub();
    void huggingfaceHubCacheFoundByLibrary();

private:
    PyRun python(const QString& code, const QProcessEnvironment& env);
    QString m_python;
};

void TstHubInterop::initTestCase() {
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
        qunsetenv(name);
    QProcess setup;
    setup.start(QStringLiteral("/usr/bin/python3"),
                {QStringLiteral(LLAVA_HUB_TEST_DIR "/ensure_venv.py"), QStringLiteral(LLAVA_HUB_VENV_DIR),
                 QStringLiteral(LLAVA_HUB_TEST_DIR "/requirements-hub.txt")});
    QVERIFY(setup.waitForStarted(10000));
    QVERIFY2(setup.waitForFinished(500000), "creating the huggingface_hub venv took too long");
    QVERIFY2(setup.exitCode() == 0, qPrintable("cannot create the test venv " LLAVA_HUB_VENV_DIR ": " +
                                               QString::fromUtf8(setup.readAllStandardError())));
    m_python = QString::fromUtf8(setup.readAllStandardOutput()).trimmed();
    QVERIFY(QFileInfo::exists(m_python));
}

PyRun TstHubInterop::python(const QString& code, const QProcessEnvironment& env) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(m_python, {QStringLiteral("-c"), code});
    PyRun run;
    if (!p.waitForStarted(10000) || !p.waitForFinished(120000)) return run;
    run.exitCode = p.exitCode();
    run.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    run.err = QString::fromUtf8(p.readAllStandardError());
    return run;
}

void TstHubInterop::appCacheReadByHuggingfaceHub() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubConfig config;
    config.endpoint = server.endpoint();
    config.cacheDir = cache.path();
    hub::HubDownloader downloader(config);
    const auto main = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("main"));
    const auto v2 = hubtest::runDownload(downloader, kFixtureRepo, QStringLiteral("v2"));
    QVERIFY2(main.finished && v2.finished, qPrintable(main.error + v2.error));

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_HUB_OFFLINE", "1");           // no network: only the cache may answer
    env.insert("HF_HUB_DISABLE_TELEMETRY", "1");
    env.insert("HF_ENDPOINT", "http://127.0.0.1:9");  // unreachable, in case anything tried
    const QString code = QStringLiteral(
        "import hashlib, sys\n"
        "from huggingface_hub import snapshot_download, hf_hub_download\n"
        "c = %1\n"
        "for rev in ('main', 'v2'):\n"
        "    p = snapshot_download('%2', revision=rev, cache_dir=c, local_files_only=True)\n"
        "    f = hf_hub_download('%2', 'model-00001-of-00002.safetensors', revision=rev, cache_dir=c, local_files_only=True)\n"
        "    print(p); print(hashlib.sha256(open(f, 'rb').read()).hexdigest())\n")
                             .arg(QStringLiteral("'") + cache.path() + QStringLiteral("'"), kFixtureRepo);
    const PyRun run = python(code, env);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = run.out.split('\n');
    QCOMPARE(lines.size(), 4);
    QCOMPARE(QFileInfo(lines[0]).canonicalFilePath(), QFileInfo(main.snapshotDir).canonicalFilePath());
    QCOMPARE(QFileInfo(lines[2]).canonicalFilePath(), QFileInfo(v2.snapshotDir).canonicalFilePath());
    QFile shard(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf/model-00001-of-00002.safetensors"));
    QVERIFY(shard.open(QIODevice::ReadOnly));
    const QString expected = QString::fromLatin1(QCryptographicHash::hash(shard.readAll(), QCryptographicHash::Sha256).toHex());
    QCOMPARE(lines[1], expected);
    QCOMPARE(lines[3], expected);
}

void TstHubInterop::huggingfaceHubCacheFoundByLibrary() {
    FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_ENDPOINT", server.endpoint().toString());
    env.insert("HF_HUB_DISABLE_TELEMETRY", "1");
    env.remove("HF_HUB_OFFLINE");
    const QString code = QStringLiteral(
        "from huggingface_hub import snapshot_download\n"
        "print(snapshot_download('%1', cache_dir='%2', allow_patterns=['*.json', '*.safetensors', 'tokenizer.model']))\n")
                             .arg(kFixtureRepo, cache.path());
    const PyRun run = python(code, env);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto entries = llava::scanHubCache(cache.path().toStdString());
    QCOMPARE(int(entries.size()), 1);
    const llava::LibraryEntry& e = entries[0];
    QCOMPARE(e.name, kFixtureRepo.toStdString());
    QCOMPARE(QFileInfo(QString::fromStdString(e.dir.string())).canonicalFilePath(), QFileInfo(run.out).canonicalFilePath());
    QCOMPARE(e.refs, std::vector<std::string>{"main"});
    QVERIFY2(e.complete, e.problems.empty() ? "" : e.problems[0].c_str());
    QCOMPARE(e.templateName, std::string("mistral_instruct"));
}

QTEST_GUILESS_MAIN(TstHubInterop)
#include "tst_hubinterop.moc"
