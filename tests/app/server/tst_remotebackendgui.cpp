// tst_remotebackendgui: the app's side of issue 13 against real servers on 127.0.0.1.
//   - Settings -> Backend: the API key is kept out of the settings file (own file, user-only permissions);
//     "Test connection" reports success with the served model, and a wrong key plainly.
//   - Switching at run time, no restart: a window on a local (fake) engine connects to `llava-insight-cli
//     serve` (the tiny fixture), answers through it exactly as the CLI answers locally (greedy), names the
//     server in the status bar and title, shows the server's usage next to the local count, and goes back
//     to the local model without reloading it.
//   - Models -> Serve this model: the window's own demo model served in-process on 127.0.0.1 answers a
//     raw HTTP client exactly as `llava-insight-cli chat` on the same folder, while the window keeps
//     answering; stopping closes the port.
// With LLAVA_SCREENSHOT_DIR set, the Backend page is saved there as settings-backend.png (1024x700).
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <thread>

#include "../cli/clitestutil.h"
#include "appinit.h"
#include "chat/chatcontroller.h"
#include "chat/chatmodel.h"
#include "inference/inferencecontroller.h"
#include "inference/switchingchatengine.h"
#include "mainwindow.h"
#include "serving/servecontroller.h"
#include "remotefixture.h"
#include "servetestutil.h"
#include "settings/settingsdialog.h"
#include "statuspanel.h"
#include "support/fakechatengine.h"
#include "text/testtokenizers.h"

namespace {

const QString kModel = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
const QString kImage = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/landscape_640x480.png");
const QString kPrompt = QStringLiteral("What is in this picture?");
const QString kKey = QStringLiteral("sk-gui-remote-test");

quint16 freePort() {
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// Blocking HTTP from a helper thread while this (GUI) thread keeps its event loop running: the in-process
// server lives on this thread.
servetest::HttpReply exchangeWhileSpinning(quint16 port, const QByteArray& request) {
    servetest::HttpReply reply;
    std::atomic<bool> done{false};
    std::thread client([&] {
        reply = servetest::exchange(port, request, 240000);
        done = true;
    });
    (void)QTest::qWaitFor([&] { return done.load(); }, 250000);  // the client has its own timeout
    client.join();
    return reply;
}

QString lastAnswer(MainWindow& w) {
    const int rows = w.chatModel()->rowCount();
    return rows > 0 ? w.chatModel()->message(rows - 1).text : QString();
}

}  // namespace

class TstRemoteBackendGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void apiKeyKeptOutOfTheSettingsFile();
    void settingsPageTestsTheConnection();
    void switchesBackendAtRunTime();
    void failedConnectKeepsTheEngineThatAnswered();
    void usageLineShowsAMismatch();
    void servesTheLoadedModel();

private:
    AppSettings remoteSettings() const;
    QTemporaryDir m_dir;
    QProcess m_server;
    quint16 m_port = 0;
    QString m_cliText;  // chat --json, 32 greedy tokens for the image + prompt
};

AppSettings TstRemoteBackendGui::remoteSettings() const {
    AppSettings s;
    s.engine = QStringLiteral("remote");
    s.remoteUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
    s.remoteApiKey = kKey;
    s.remoteConfig = kModel + QStringLiteral("/config.json");
    s.temperature = 0;
    s.maxNewTokens = 32;
    return s;
}

void TstRemoteBackendGui::initTestCase() {
    qputenv("LLAVA_NO_DIALOGS", "1");
    QStandardPaths::setTestModeEnabled(true);  // MainWindow saves QSettings: never into the user's own
    QCoreApplication::setOrganizationName(QStringLiteral("LlavaInsightTest-remotegui"));
    QVERIFY(m_dir.isValid());
    const QString failed = remotetest::startReferenceServer(m_server, kModel, kImage, kPrompt, kKey, &m_cliText, &m_port);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
}

void TstRemoteBackendGui::cleanupTestCase() { QVERIFY(remotetest::stopServer(m_server)); }

void TstRemoteBackendGui::apiKeyKeptOutOfTheSettingsFile() {
    const QString ini = m_dir.filePath(QStringLiteral("keytest.ini"));
    {
        QSettings qs(ini, QSettings::IniFormat);
        remoteSettings().save(qs);
    }
    QFile file(ini);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    QVERIFY2(text.contains("engine"), text.constData());
    QVERIFY2(!text.contains(kKey.toUtf8()), text.constData());
    QSettings qs(ini, QSettings::IniFormat);
    const QString keyPath = AppSettings::apiKeyPath(qs);
    QVERIFY(QFile::exists(keyPath));
    const QFileDevice::Permissions p = QFile::permissions(keyPath);
    QVERIFY(p.testFlag(QFileDevice::ReadOwner));
    QVERIFY(!(p & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther)));
    const AppSettings back = AppSettings::load(qs);
    QCOMPARE(back.remoteApiKey, kKey);
    QVERIFY(back.usesServer());
    QCOMPARE(back.remoteUrl, remoteSettings().remoteUrl);
    // No key: no key file left behind.
    AppSettings none = back;
    none.remoteApiKey.clear();
    none.save(qs);
    QVERIFY(!QFile::exists(keyPath));
}

void TstRemoteBackendGui::settingsPageTestsTheConnection() {
    SettingsDialog dialog(remoteSettings());
    dialog.resize(1024, 700);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QCOMPARE(dialog.tabs()->currentIndex(), 0);  // the Backend page opens first
    auto* server = dialog.findChild<QRadioButton*>(QStringLiteral("engineServer"));
    QVERIFY(server && server->isChecked());
    QVERIFY(dialog.findChild<QLineEdit*>(QStringLiteral("remoteApiKey"))->echoMode() == QLineEdit::Password);

    QSignalSpy tested(&dialog, &SettingsDialog::connectionTested);
    auto* result = dialog.findChild<QLabel*>(QStringLiteral("connectionResult"));
    QVERIFY(result);
    QTest::mouseClick(dialog.findChild<QPushButton*>(QStringLiteral("testConnection")), Qt::LeftButton);
    QVERIFY(tested.wait(30000));
    QVERIFY2(tested.first().at(0).toBool(), qPrintable(tested.first().at(1).toString()));
    QVERIFY2(result->text().contains(QStringLiteral("llava-v1.6-mistral-tiny-hf")), qPrintable(result->text()));
    if (qEnvironmentVariableIsSet("LLAVA_SCREENSHOT_DIR"))
        QVERIFY(dialog.grab().save(qEnvironmentVariable("LLAVA_SCREENSHOT_DIR") + QStringLiteral("/settings-backend.png")));

    auto* key = dialog.findChild<QLineEdit*>(QStringLiteral("remoteApiKey"));
    key->setText(QStringLiteral("sk-wrong"));
    tested.clear();
    dialog.testConnection();
    QVERIFY(tested.wait(30000));
    QVERIFY(!tested.first().at(0).toBool());
    QVERIFY2(result->text().contains(QStringLiteral("refused the API key")), qPrintable(result->text()));
    QVERIFY(result->text().startsWith(QStringLiteral("✘")));
    QCOMPARE(dialog.settings().remoteApiKey, QStringLiteral("sk-wrong"));
    QCOMPARE(dialog.settings().engine, QStringLiteral("remote"));
}

void TstRemoteBackendGui::switchesBackendAtRunTime() {
    QTemporaryDir data;
    MainWindowOptions options;
    options.dataDir = data.path();
    options.openSample = false;
    options.engineFactory = [] { return std::make_unique<SwitchingChatEngine>(std::make_unique<FakeChatEngine>()); };
    AppSettings settings = remoteSettings();
    settings.engine = QStringLiteral("local");
    MainWindow w(settings, options);
    QSignalSpy loaded(w.controller(), &InferenceController::loadFinished);
    QSignalSpy failed(w.controller(), &InferenceController::loadFailed);
    w.loadModel(kModel, false);
    QVERIFY(loaded.wait(20000));
    QVERIFY(!w.statusPanel()->modelText().contains(QStringLiteral("via server")));
    w.send(QStringLiteral("hi"), {});
    QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 20000));
    QCOMPARE(lastAnswer(w), QStringLiteral("Hello, world!"));  // the fake's script

    w.models()->connectToServer();
    QVERIFY(loaded.wait(30000));
    QVERIFY(failed.isEmpty());
    QCOMPARE(w.statusPanel()->model()->backend, QStringLiteral("remote"));
    const QString url = remoteSettings().remoteUrl;
    QVERIFY2(w.statusPanel()->modelText().contains(QStringLiteral("via server ") + url), qPrintable(w.statusPanel()->modelText()));
    QVERIFY2(w.windowTitle().contains(QStringLiteral("via server")), qPrintable(w.windowTitle()));
    w.newChat();  // a first message with the image, as the CLI's one-shot chat
    w.send(kPrompt, {kImage});
    QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 240000));
    QCOMPARE(lastAnswer(w), m_cliText);  // the server's greedy answer = the CLI's local one
    // The server's usage (2357 = 17 text + 2340 image tokens, manifest seq_len) next to the local count:
    // the fixture folder has no tokenizer.model, so only the local image count is known.
    QVERIFY(QTest::qWaitFor([&] { return !w.statusPanel()->serverUsageText().isEmpty(); }, 5000));
    QCOMPARE(w.statusPanel()->serverUsageText(),
             QStringLiteral("server: 2357 prompt tokens (local: 2340 image tokens, no tokenizer for the text)"));

    // Back to local without reloading: the fake's load count does not change (no progress, same info).
    QSignalSpy progress(w.controller(), &InferenceController::loadProgressChanged);
    const int repliesBefore = FakeChatEngine::replyCount().load();
    LoadRequest back;
    back.reuseLocal = true;
    w.controller()->loadModel(back);
    QVERIFY(loaded.wait(20000));
    QCOMPARE(progress.size(), 0);
    QCOMPARE(w.statusPanel()->model()->backend, QStringLiteral("cpu"));
    QVERIFY(w.statusPanel()->serverUsageText().isEmpty());
    w.send(QStringLiteral("again"), {});
    QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 20000));
    QCOMPARE(lastAnswer(w), QStringLiteral("Hello, world!"));
    QCOMPARE(FakeChatEngine::replyCount().load(), repliesBefore + 1);
}

// An unreachable server or a wrong key: the load fails with a plain message and the local engine that
// answered before still answers (no model lost by a typo in Settings).
void TstRemoteBackendGui::failedConnectKeepsTheEngineThatAnswered() {
    SwitchingChatEngine engine(std::make_unique<FakeChatEngine>());
    LoadRequest local;
    local.modelDir = kModel;
    QVERIFY(engine.load(local, {}).isOk());
    for (const QString& url : {QStringLiteral("http://127.0.0.1:1/v1"), remoteSettings().remoteUrl}) {
        LoadRequest remote;
        remote.remote = remoteEndpointOf(remoteSettings());
        remote.remote->url = url;
        remote.remote->apiKey = QStringLiteral("sk-wrong");
        auto info = engine.load(remote, {});
        QVERIFY(!info.isOk());
        const QString message = QString::fromStdString(info.status().message());
        QVERIFY2(message.contains(url.endsWith(QLatin1String(":1/v1")) ? QStringLiteral("cannot reach") : QStringLiteral("refused the API key")),
                 qPrintable(message));
        QVERIFY(engine.isLoaded());
        QVERIFY(!engine.remoteActive());
        GenerationRequest request;
        request.text = QStringLiteral("hi");
        QString text;
        auto stats = engine.reply(request, [&](const llava::TokenEvent& e) {
            text += QString::fromStdString(e.piece);
            return true;
        }, [] { return false; });
        QVERIFY(stats.isOk());
        QCOMPARE(text, QStringLiteral("Hello, world!"));
        QVERIFY(!engine.lastServerUsage().has_value());
    }
}

// The status bar's usage line for the three cases: counts agree, differ (both numbers shown), or no local
// tokenizer (said, never a guessed number); cleared when the next answer starts.
void TstRemoteBackendGui::usageLineShowsAMismatch() {
    QMainWindow window;
    StatusPanel panel(window.statusBar());
    QVERIFY(panel.serverUsageText().isEmpty());
    panel.setServerUsage(ServerUsage{2357, 32, 2340, 2357});
    QCOMPARE(panel.serverUsageText(), QStringLiteral("server: 2357 prompt tokens (= local count)"));
    panel.setServerUsage(ServerUsage{2361, 32, 2340, 2357});
    QCOMPARE(panel.serverUsageText(), QStringLiteral("server: 2361 prompt tokens ≠ local 2357"));
    auto* label = window.statusBar()->findChild<QLabel*>(QStringLiteral("serverUsage"));
    QVERIFY(label);
    QCOMPARE(label->text(), panel.serverUsageText());
    panel.setServerUsage(ServerUsage{2361, 32, 2340, -1});
    QVERIFY(panel.serverUsageText().contains(QStringLiteral("no tokenizer")));
    panel.clearAnswerStats();
    QVERIFY(panel.serverUsageText().isEmpty());
    QVERIFY(label->text().isEmpty());
}

void TstRemoteBackendGui::servesTheLoadedModel() {
    QTemporaryDir data;
    MainWindowOptions options;
    options.dataDir = data.path();
    options.openSample = false;
    options.engineFactory = defaultEngineFactory();
    AppSettings settings;
    settings.servePort = freePort();
    settings.temperature = 0;
    settings.maxNewTokens = 8;
    settings.threads = 2;
    settings.backend = QStringLiteral("cpu");
    MainWindow w(settings, options);
    QSignalSpy loaded(w.controller(), &InferenceController::loadFinished);
    const QString demo = data.filePath(QStringLiteral("demo-model"));
    w.loadModel(demo, true);
    QVERIFY(loaded.wait(240000));

    const auto cli = clitest::runCli({"chat", "--model", demo, "--temperature", "0", "--max-new-tokens", "8", "--backend",
                                      "cpu", "--threads", "2", "--prompt", "Hello", "--json"},
                                     {}, 300000);
    QVERIFY2(cli.exitCode == 0, cli.err.constData());
    const QJsonObject want = clitest::parseJson(cli.out);

    w.setServing(true);
    QVERIFY(w.serveController()->isRunning());
    QCOMPARE(w.serveController()->url(), QStringLiteral("http://127.0.0.1:%1/v1").arg(settings.servePort));
    const QByteArray body = QJsonDocument(QJsonObject{{"model", w.serveController()->modelId()},
                                                      {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", "Hello"}}}},
                                                      {"max_tokens", 8},
                                                      {"temperature", 0},
                                                      {"return_token_ids", true}})
                                .toJson(QJsonDocument::Compact);
    // The window answers too, in the same minute: both share the one engine, one after the other.
    w.send(QStringLiteral("Hello"), {});
    const servetest::HttpReply r =
        exchangeWhileSpinning(settings.servePort, servetest::httpRequest("POST", "/v1/chat/completions", body, {}));
    QCOMPARE(r.status, 200);
    const QJsonObject choice = r.json().value("choices").toArray().at(0).toObject();
    QCOMPARE(choice.value("message").toObject().value("content").toString(), want.value("text").toString());
    QCOMPARE(choice.value("token_ids").toArray(), want.value("tokens").toArray());
    QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 240000));
    QCOMPARE(lastAnswer(w), want.value("text").toString());

    // The served request used (and cleared) the engine's session: the window's next message must find its
    // chat restored, answering as the CLI's live two-turn chat does.
    const auto live = clitest::runCli({"chat", "--model", demo, "--temperature", "0", "--max-new-tokens", "8", "--backend",
                                       "cpu", "--threads", "2"},
                                      "Hello\nHello again\n/quit\n", 300000);
    QVERIFY2(live.exitCode == 0, live.err.constData());
    const QString first = want.value("text").toString();
    const QString out = QString::fromUtf8(live.out);
    QVERIFY2(out.startsWith(first + QLatin1Char('\n')), qPrintable(out));
    w.send(QStringLiteral("Hello again"), {});
    QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 240000));
    QCOMPARE(lastAnswer(w), out.mid(first.size() + 1).chopped(1));

    w.setServing(false);
    QVERIFY(!w.serveController()->isRunning());
    const servetest::HttpReply gone = exchangeWhileSpinning(settings.servePort, servetest::httpRequest("GET", "/health", {}, {}));
    QCOMPARE(gone.status, 0);  // nothing listens any more
}

QTEST_MAIN(TstRemoteBackendGui)
#include "tst_remotebackendgui.moc"
