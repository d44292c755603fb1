// tst_remotechatengine: the app's remote backend (RemoteChatEngine) against `llava-insight-cli serve` on
// 127.0.0.1 (the same fixture model, API key required), as Settings -> Backend -> "OpenAI-compatible server"
// would use it. Guards against: a remote answer that differs from the local engine's greedy answer for the
// same image and prompt (the CLI's chat --json text), a local inspector count (image tokens from the given
// config.json) that disagrees with what the server reports, and errors (unreachable, 401, unknown model,
// context too long, no preset) that are not named plainly.
#include <QFile>
#include <QJsonArray>
#include <QTest>

#include <csignal>

#include "../cli/clitestutil.h"
#include "imagedecoder.h"
#include "inference/remotechatengine.h"
#include "remotefixture.h"
#include "servetestutil.h"
#include "text/testtokenizers.h"

namespace {

const QString kModel = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
const QString kImage = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/landscape_640x480.png");
const QString kPrompt = QStringLiteral("What is in this picture?");
const QString kKey = QStringLiteral("sk-remote-test");

}  // namespace

class TstRemoteChatEngine : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void answersLikeTheLocalEngine();
    void localTokenizerCountsMatchTheServer();
    void errorsArePlain_data();
    void errorsArePlain();
    void contextTooLong();

private:
    RemoteEndpoint endpoint() const;
    QProcess m_server;
    quint16 m_port = 0;
    QString m_cliText;
};

RemoteEndpoint TstRemoteChatEngine::endpoint() const {
    RemoteEndpoint e;
    e.url = QStringLiteral("http://127.0.0.1:%1").arg(m_port);
    e.apiKey = kKey;
    e.configPath = kModel + QStringLiteral("/config.json");
    e.timeoutMs = 120000;
    return e;
}

void TstRemoteChatEngine::initTestCase() {
    const QString failed = remotetest::startReferenceServer(m_server, kModel, kImage, kPrompt, kKey, &m_cliText, &m_port);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
}

void TstRemoteChatEngine::cleanupTestCase() { QVERIFY(remotetest::stopServer(m_server)); }

void TstRemoteChatEngine::answersLikeTheLocalEngine() {
    RemoteChatEngine engine(endpoint());
    auto info = engine.load(LoadRequest{}, {});
    QVERIFY2(info.isOk(), info.isOk() ? "" : info.status().message().c_str());
    QCOMPARE(info->name, QStringLiteral("llava-v1.6-mistral-tiny-hf"));
    QCOMPARE(info->backend, QStringLiteral("remote"));
    QCOMPARE(info->contextLimit, 4096);
    QCOMPARE(info->config.templateName, std::string("mistral_instruct"));

    auto image = imageio::decodeImageFile(kImage);
    QVERIFY(image.isOk());
    GenerationRequest request;
    request.text = kPrompt;
    request.imagePaths << kImage;  // as the chat store hands attachments over: a file
    request.sampling.temperature = 0;
    request.sampling.maxNewTokens = 32;
    QString streamed;
    int pieces = 0;
    auto stats = engine.reply(request, [&](const llava::TokenEvent& e) {
        streamed += QString::fromStdString(e.piece);
        ++pieces;
        return true;
    }, [] { return false; });
    QVERIFY2(stats.isOk(), stats.isOk() ? "" : stats.status().message().c_str());
    QCOMPARE(streamed, m_cliText);
    QCOMPARE(stats->generatedTokens, 32);
    QCOMPARE(stats->stopReason, llava::StopReason::MaxTokens);
    QCOMPARE(stats->imageTokens, 2340);                 // computed locally from config.json
    QCOMPARE(engine.lastLocalImageTokens(), 2340);
    QCOMPARE(engine.lastPromptTokens(), 2340 + 17);     // the server's count (manifest seq_len 2357)
    QCOMPARE(engine.contextUsed(), 2357 + 32);

    // A second turn sends the whole conversation again; the earlier image comes from its file.
    GenerationRequest next;
    ChatMessage asked;
    asked.text = kPrompt;
    asked.images = {kImage};
    ChatMessage answered;
    answered.role = MessageRole::Assistant;
    answered.text = streamed;
    next.history << asked << answered;
    next.text = QStringLiteral("And then?");
    next.sampling.temperature = 0;
    next.sampling.maxNewTokens = 4;
    auto again = engine.reply(next, {}, [] { return false; });
    QVERIFY2(again.isOk(), again.isOk() ? "" : again.status().message().c_str());
    QVERIFY(engine.lastPromptTokens() > 2357 + 32);
}

// With a local tokenizer the app counts the whole prompt itself (template + tokenizer + anyres layout) and
// shows it next to the server's usage: for the same checkpoint both must agree, on the first turn (2357 =
// manifest seq_len) and on a second turn whose image comes with the second message.
void TstRemoteChatEngine::localTokenizerCountsMatchTheServer() {
    RemoteEndpoint e = endpoint();
    e.tokenizerPath = llavatest::tokenizerPath(llavatest::kMistral);
    RemoteChatEngine engine(e);
    QVERIFY(engine.load(LoadRequest{}, {}).isOk());
    QVERIFY(engine.hasLocalTokenizer());
    GenerationRequest first;
    first.text = QStringLiteral("Hello there.");
    first.sampling.temperature = 0;
    first.sampling.maxNewTokens = 4;
    QString answer;
    auto one = engine.reply(first, [&](const llava::TokenEvent& ev) {
        answer += QString::fromStdString(ev.piece);
        return true;
    }, [] { return false; });
    QVERIFY2(one.isOk(), one.isOk() ? "" : one.status().message().c_str());
    QVERIFY(engine.lastServerUsage().has_value());
    QCOMPARE(engine.lastServerUsage()->localPromptTokens, engine.lastServerUsage()->promptTokens);
    QCOMPARE(engine.lastServerUsage()->localImageTokens, 0);

    GenerationRequest second;
    ChatMessage asked;
    asked.text = first.text;
    ChatMessage answered;
    answered.role = MessageRole::Assistant;
    answered.text = answer;
    second.history << asked << answered;
    second.text = kPrompt;
    second.imagePaths << kImage;
    second.sampling.temperature = 0;
    second.sampling.maxNewTokens = 4;
    auto two = engine.reply(second, {}, [] { return false; });
    QVERIFY2(two.isOk(), two.isOk() ? "" : two.status().message().c_str());
    const ServerUsage usage = *engine.lastServerUsage();
    QCOMPARE(usage.localImageTokens, 2340);
    QVERIFY(usage.promptTokens > 2340);
    QCOMPARE(usage.localPromptTokens, usage.promptTokens);
    QCOMPARE(usage.completionTokens, 4);

    // Without a tokenizer the local text count is unknown (-1), never a guess.
    RemoteChatEngine plain(endpoint());
    QVERIFY(plain.load(LoadRequest{}, {}).isOk());
    QVERIFY(!plain.hasLocalTokenizer());
    QVERIFY(plain.reply(first, {}, [] { return false; }).isOk());
    QCOMPARE(plain.lastServerUsage()->localPromptTokens, -1);
}

void TstRemoteChatEngine::errorsArePlain_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("mention");
    const QString config = kModel + QStringLiteral("/config.json");
    QTest::newRow("unreachable") << QStringLiteral("http://127.0.0.1:1") << kKey << QString() << config << "cannot reach";
    QTest::newRow("wrong key") << QString() << QStringLiteral("sk-wrong") << QString() << config << "refused the API key";
    QTest::newRow("unknown model") << QString() << kKey << QStringLiteral("llava-v1.6-34b") << config
                                   << "it serves: llava-v1.6-mistral-tiny-hf";
    QTest::newRow("no preset matches") << QString() << kKey << QString() << QString() << "choose the model's config.json";
}

void TstRemoteChatEngine::errorsArePlain() {
    QFETCH(QString, url);
    QFETCH(QString, key);
    QFETCH(QString, model);
    QFETCH(QString, config);
    QFETCH(QString, mention);
    RemoteEndpoint e = endpoint();
    if (!url.isEmpty()) e.url = url;
    e.apiKey = key;
    e.modelName = model;
    e.configPath = config;
    RemoteChatEngine engine(e);
    auto info = engine.load(LoadRequest{}, {});
    QVERIFY(!info.isOk());
    QVERIFY2(QString::fromStdString(info.status().message()).contains(mention), info.status().message().c_str());
    QVERIFY(!engine.isLoaded());
}

void TstRemoteChatEngine::contextTooLong() {
    RemoteChatEngine engine(endpoint());
    QVERIFY(engine.load(LoadRequest{}, {}).isOk());
    auto image = imageio::decodeImageFile(kImage);
    QVERIFY(image.isOk());
    GenerationRequest request;
    request.text = QStringLiteral("word ").repeated(2500);
    request.imagePaths << kImage;  // as the chat store hands attachments over: a file
    auto stats = engine.reply(request, {}, [] { return false; });
    QVERIFY(!stats.isOk());
    QCOMPARE(stats.status().code(), llava::ErrorCode::OutOfRange);
    QVERIFY2(QString::fromStdString(stats.status().message()).contains("context"), stats.status().message().c_str());
}

QTEST_MAIN(TstRemoteChatEngine)
#include "tst_remotechatengine.moc"
