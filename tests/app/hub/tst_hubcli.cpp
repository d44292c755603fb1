// tst_hubcli: the CLI face of issue 11 against the fake Hub. Guards against: `pull` that does not honour
// HF_ENDPOINT / --revision or prints no progress, `models` that misses a pulled model or misreports its
// completeness, and `chat --plan-only` / `models` without the memory table.
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "fakehubprocess.h"

namespace {

struct CliRun {
    int exitCode = -1;
    QString out, err;
};

CliRun runCli(const QStringList& args, const QProcessEnvironment& env) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(LLAVA_CLI_PATH), args);
    CliRun run;
    if (!p.waitForStarted(10000) || !p.waitForFinished(120000)) return run;
    run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.out = QString::fromUtf8(p.readAllStandardOutput());
    run.err = QString::fromUtf8(p.readAllStandardError());
    return run;
}

}  // namespace

class TstHubCli : public QObject {
    Q_OBJECT
private slots:
    void pullThenListThenPlan();
    void pullErrors();
};

void TstHubCli::pullThenListThenPlan() {
    hubtest::FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache, home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "HF_TOKEN"}) env.remove(name);
    env.insert("HF_ENDPOINT", server.endpoint().toString());
    env.insert("HF_HUB_CACHE", cache.path());
    env.insert("HOME", home.path());  // no recent folders, no app models folder of the user running the tests
    env.insert("XDG_DATA_HOME", home.path() + "/share");
    env.insert("XDG_CONFIG_HOME", home.path() + "/config");

    const CliRun pull = runCli({"pull", hubtest::kFixtureRepo, "--revision", "v2"}, env);
    QVERIFY2(pull.exitCode == 0, qPrintable(pull.err));
    const QString snapshot = pull.out.trimmed();
    QVERIFY2(snapshot.startsWith(cache.path() + "/models--llava-hf--llava-v1.6-mistral-tiny-hf/snapshots/"), qPrintable(snapshot));
    QVERIFY(QFileInfo::exists(snapshot + "/model-00002-of-00002.safetensors"));
    QVERIFY2(pull.err.contains("100%") && pull.err.contains("file 9/9"), qPrintable(pull.err));
    QVERIFY2(pull.err.contains("from " + server.endpoint().toString()), qPrintable(pull.err));

    const CliRun list = runCli({"models", "--json", "--backend", "cpu", "--context", "2048"}, env);
    QVERIFY2(list.exitCode == 0, qPrintable(list.err));
    const QJsonArray models = QJsonDocument::fromJson(list.out.toUtf8()).array();
    QCOMPARE(models.size(), 1);
    const QJsonObject m = models[0].toObject();
    QCOMPARE(m.value("name").toString(), hubtest::kFixtureRepo);
    QCOMPARE(m.value("source").toString(), QStringLiteral("hf-cache"));
    QCOMPARE(m.value("refs").toArray().first().toString(), QStringLiteral("v2"));
    QCOMPARE(m.value("layout").toString(), QStringLiteral("llava-hf"));
    QCOMPARE(m.value("template").toString(), QStringLiteral("mistral_instruct"));
    QCOMPARE(m.value("dtype").toString(), QStringLiteral("F16"));
    QVERIFY(m.value("complete").toBool());
    const QJsonObject plan = m.value("plan").toObject();
    QCOMPARE(plan.value("context").toInt(), 2048);
    QCOMPARE(plan.value("rows").toArray().size(), 4);
    QCOMPARE(plan.value("recommended").toString(), QStringLiteral("as-stored"));

    const CliRun text = runCli({"models", "--backend", "cpu"}, env);
    QVERIFY2(text.out.contains("complete   yes") && text.out.contains("recommended: as-stored") &&
                 text.out.contains("precision    weights"),
             qPrintable(text.out));

    const CliRun planOnly = runCli({"chat", "--model", snapshot, "--plan-only", "--backend", "cpu", "--precision", "q8"}, env);
    QVERIFY2(planOnly.exitCode == 0, qPrintable(planOnly.err));
    QVERIFY2(planOnly.out.contains("memory plan (cpu, context 4096 tokens") && planOnly.out.contains("\nq8 ") &&
                 planOnly.out.contains("recommended: "),
             qPrintable(planOnly.out));
    QVERIFY2(!planOnly.err.contains("backend: cpu"), "--plan-only must not load the model");
}

void TstHubCli::pullErrors() {
    hubtest::FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache, home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "HF_TOKEN", "HF_TOKEN_PATH"})
        env.remove(name);
    env.insert("HF_ENDPOINT", server.endpoint().toString());
    env.insert("HF_HOME", home.path());
    const CliRun gated = runCli({"pull", "llava-hf/gated-tiny", "--cache-dir", cache.path()}, env);
    QCOMPARE(gated.exitCode, 1);
    QVERIFY2(gated.err.contains("this repo needs a token"), qPrintable(gated.err));
    // The token file huggingface_hub's login writes ($HF_HOME/token) is used.
    QFile token(home.path() + "/token");
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("hf_fake_test_token");
    token.close();
    const CliRun withToken = runCli({"pull", "llava-hf/gated-tiny", "--cache-dir", cache.path()}, env);
    QVERIFY2(withToken.exitCode == 0, qPrintable(withToken.err));
    QVERIFY2(withToken.err.contains("token from " + home.path() + "/token"), qPrintable(withToken.err));
    const CliRun bad = runCli({"pull", "../etc"}, env);
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.err.contains("is not a repository id"), qPrintable(bad.err));
}

QTEST_GUILESS_MAIN(TstHubCli)
#include "tst_hubcli.moc"
