// tst_serve: `llava-insight-cli serve` as other programs use it, on 127.0.0.1 with an OS-chosen port and
// the tiny llava-hf Mistral fixture (tests/fixtures), API key required, queue of 2.
// Guards against: answers through the API that differ from the CLI's greedy tokens for the same image and
// prompt (and from transformers' tokens in golden/manifest.json); `usage` counts that differ from
// `inspect`'s; an OpenAI client (the official `openai` package, pinned) that cannot parse our objects or
// stream; bad requests that crash, hang or get a generic error instead of their own status and code; a
// client that disconnects mid-stream leaving its generation running; 50 concurrent requests that hang or
// pile up instead of getting 429 with Retry-After; `batch --endpoint` answers that differ from `batch
// --model`; a server that stops serving after any of the above.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cmath>
#include <csignal>

#include "../cli/clitestutil.h"
#include "servetestutil.h"
#include "text/testtokenizers.h"

using servetest::HttpReply;

namespace {

const QString kModel = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
const QString kModelId = QStringLiteral("llava-v1.6-mistral-tiny-hf");
const QString kImage = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/landscape_640x480.png");
const QString kSmallImage = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/small_300x200.png");
const QString kPrompt = QStringLiteral("What is in this picture?");
const QByteArray kKey = "sk-local-test-key";
constexpr int kQueue = 2;

QString tokenizer() { return llavatest::tokenizerPath(llavatest::kMistral); }

QList<int> ints(const QJsonValue& value) {
    QList<int> out;
    for (const QJsonValue& v : value.toArray()) out.append(v.toInt());
    return out;
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QByteArray dataUrl(const QByteArray& png) { return "data:image/png;base64," + png.toBase64(); }

QByteArray chatBody(const QByteArray& imageUrl, const QByteArray& text, int maxTokens, bool stream = false,
                    const QByteArray& model = kModelId.toUtf8()) {
    QJsonArray content;
    if (!imageUrl.isEmpty())
        content.append(QJsonObject{{"type", "image_url"}, {"image_url", QJsonObject{{"url", QString::fromUtf8(imageUrl)}}}});
    content.append(QJsonObject{{"type", "text"}, {"text", QString::fromUtf8(text)}});
    const QJsonObject body{{"model", QString::fromUtf8(model)},
                           {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", content}}}},
                           {"max_tokens", maxTokens},
                           {"temperature", 0},
                           {"stream", stream}};
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

}  // namespace

class TstServe : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void healthAndModels();
    void openaiClientMatchesCli();
    void inspectEndpointMatchesCli();
    void logprobsMatchTheCli();
    void imageInTheSecondTurn();
    void badRequests_data();
    void badRequests();
    void disconnectMidStreamCancels();
    void fiftyConcurrentRequests();
    void batchAgainstServer();
    void imageUrlsWhenAllowed();
    void stillServing();

private:
    QJsonObject health();
    QJsonObject runClient(const QStringList& args);

    QTemporaryDir m_dir;
    QProcess m_server;
    quint16 m_port = 0;
    QJsonObject m_cliChat;     // chat --json of the image + prompt, 32 greedy tokens
    QJsonObject m_cliInspect;  // inspect --json with the prompt
    QJsonObject m_manifest;    // transformers' entry for (mistral-tiny-hf, landscape)
};

void TstServe::initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(llavatest::checkSha256(llavatest::kMistral).isEmpty(), qPrintable(llavatest::checkSha256(llavatest::kMistral)));
    m_manifest = clitest::parseJson(readFile(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/golden/manifest.json")))
                     .value("files").toObject().value("llava-v1.6-mistral-tiny-hf__landscape_640x480.safetensors").toObject();
    QCOMPARE(m_manifest.value("prompt").toString(), QStringLiteral("[INST] <image>\nWhat is in this picture? [/INST]"));

    const auto chat = clitest::runCli({"chat", "--model", kModel, "--tokenizer", tokenizer(), "--temperature", "0",
                                       "--max-new-tokens", "32", "--backend", "cpu", "--threads", "2", "--image", kImage,
                                       "--prompt", kPrompt, "--json"},
                                      {}, 300000);
    QVERIFY2(chat.exitCode == 0, chat.err.constData());
    m_cliChat = clitest::parseJson(chat.out);
    QCOMPARE(ints(m_cliChat.value("tokens")), ints(m_manifest.value("greedy_tokens")));
    const auto inspect = clitest::runCli({"inspect", "--model", kModel, "--tokenizer", tokenizer(), "--image", kImage,
                                          "--prompt", kPrompt, "--json"});
    QVERIFY2(inspect.exitCode == 0, inspect.err.constData());
    m_cliInspect = clitest::parseJson(inspect.out);

    QByteArray log;
    m_port = servetest::startServer(m_server, QStringLiteral(LLAVA_CLI_PATH),
                                    {"serve", "--model", kModel, "--tokenizer", tokenizer(), "--port", "0", "--backend",
                                     "cpu", "--threads", "2", "--api-key", QString::fromUtf8(kKey), "--queue",
                                     QString::number(kQueue), "--max-body-mb", "4", "--max-images", "2",
                                     "--max-image-pixels", "20000000"},
                                    &log);
    QVERIFY2(m_port != 0, log.constData());
}

void TstServe::cleanupTestCase() {
    if (m_server.state() == QProcess::NotRunning) return;
    ::kill(static_cast<pid_t>(m_server.processId()), SIGTERM);
    QVERIFY(m_server.waitForFinished(30000));
    QCOMPARE(m_server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_server.exitCode(), 0);
}

QJsonObject TstServe::health() {
    const HttpReply r = servetest::exchange(m_port, servetest::httpRequest("GET", "/health", {}, {}));
    return r.status == 200 ? r.json() : QJsonObject{};
}

QJsonObject TstServe::runClient(const QStringList& args) {
    const QString python = QStringLiteral(LLAVA_TEST_VENV "/bin/python");
    const QString base = QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
    const auto run = clitest::runProgram(python,
                                         QStringList{QStringLiteral(LLAVA_SERVER_TEST_DIR "/openai_client_check.py")} + args +
                                             QStringList{"--base-url", base, "--api-key", QString::fromUtf8(kKey), "--model",
                                                         kModelId, "--image", kImage, "--prompt", kPrompt},
                                         {}, 300000);
    if (run.exitCode != 0) qWarning("openai client: %s", run.err.constData());
    return clitest::parseJson(run.out);
}

void TstServe::healthAndModels() {
    const QJsonObject h = health();
    QCOMPARE(h.value("status").toString(), QStringLiteral("ok"));
    QCOMPARE(h.value("model").toString(), kModelId);
    QCOMPARE(h.value("queue").toObject().value("capacity").toInt(), kQueue);
    const HttpReply models = servetest::exchange(m_port, servetest::httpRequest("GET", "/v1/models", {}, kKey));
    QCOMPARE(models.status, 200);
    QCOMPARE(models.json().value("object").toString(), QStringLiteral("list"));
    QCOMPARE(models.json().value("data").toArray().at(0).toObject().value("id").toString(), kModelId);
}

// The official client: the answer's token ids, text and usage against the CLI and inspect.
void TstServe::openaiClientMatchesCli() {
    const QJsonObject result = runClient({"chat", "--max-tokens", "32"});
    QVERIFY2(!result.isEmpty(), "the openai client script failed (see the warning above)");
    QCOMPARE(result.value("models").toArray().at(0).toString(), kModelId);
    const QList<int> cliTokens = ints(m_cliChat.value("tokens"));
    const QString cliText = m_cliChat.value("text").toString();
    const int imageTokens = m_cliInspect.value("image_tokens").toInt();
    const int textTokens = m_cliInspect.value("text_tokens").toInt();
    QCOMPARE(imageTokens, m_manifest.value("n_image_tokens").toInt());
    QCOMPARE(m_cliInspect.value("total_tokens").toInt(), m_manifest.value("seq_len").toInt());
    for (const char* mode : {"nonstream", "stream"}) {
        const QJsonObject r = result.value(mode).toObject();
        QVERIFY2(!r.isEmpty(), mode);
        QCOMPARE(ints(r.value("token_ids")), cliTokens);
        QCOMPARE(r.value("content").toString(), cliText);
        QCOMPARE(r.value("finish_reason").toString(), QStringLiteral("length"));  // 32 tokens, no EOS
        const QJsonObject usage = r.value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), m_cliInspect.value("total_tokens").toInt());
        QCOMPARE(usage.value("completion_tokens").toInt(), 32);
        QCOMPARE(usage.value("total_tokens").toInt(), m_cliInspect.value("total_tokens").toInt() + 32);
        const QJsonObject details = usage.value("prompt_tokens_details").toObject();
        QCOMPARE(details.value("image_tokens").toInt(), imageTokens);
        QCOMPARE(details.value("text_tokens").toInt(), textTokens);
    }
    QCOMPARE(result.value("nonstream").toObject().value("object").toString(), QStringLiteral("chat.completion"));
    QCOMPARE(result.value("nonstream").toObject().value("role").toString(), QStringLiteral("assistant"));
    QCOMPARE(result.value("stream").toObject().value("roles").toArray(), QJsonArray{"assistant"});
    // role chunk + one chunk per token + finish chunk + usage chunk (the [DONE] line is not a chunk)
    QCOMPARE(result.value("stream").toObject().value("chunks").toInt(), 1 + 32 + 1 + 1);
}

void TstServe::inspectEndpointMatchesCli() {
    const auto cli = clitest::runCli({"inspect", "--model", kModel, "--image", kSmallImage, "--json"});
    QVERIFY2(cli.exitCode == 0, cli.err.constData());
    const QByteArray body = "{\"image_url\": {\"url\": \"" + dataUrl(readFile(kSmallImage)) + "\"}}";
    const HttpReply r = servetest::exchange(m_port, servetest::httpRequest("POST", "/v1/inspect", body, kKey));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json(), clitest::parseJson(cli.out));
    QCOMPARE(r.json().value("image_tokens").toInt(), 1464);  // fixtures README: small_300x200 under HF = 1464
}

// logprobs / top_logprobs through the official client, streamed and not: every token's id, log-probability
// and top-3 alternatives equal what the core computes for the same prompt (`chat --json --logprobs 3`).
// Both runs are the same CPU computation with the same thread count, so the only tolerance is the JSON
// round trip of a double (1e-9).
void TstServe::logprobsMatchTheCli() {
    const auto chat = clitest::runCli({"chat", "--model", kModel, "--tokenizer", tokenizer(), "--temperature", "0",
                                       "--max-new-tokens", "8", "--backend", "cpu", "--threads", "2", "--image", kImage,
                                       "--prompt", kPrompt, "--json", "--logprobs", "3"},
                                      {}, 300000);
    QVERIFY2(chat.exitCode == 0, chat.err.constData());
    const QJsonArray cli = clitest::parseJson(chat.out).value("logprobs").toObject().value("content").toArray();
    QCOMPARE(cli.size(), 8);
    const QJsonObject result = runClient({"logprobs", "--max-tokens", "8"});
    QVERIFY2(!result.isEmpty(), "the openai client script failed (see the warning above)");
    QCOMPARE(ints(result.value("nonstream").toObject().value("token_ids")), ints(m_cliChat.value("tokens")).mid(0, 8));
    for (const char* mode : {"nonstream", "stream"}) {
        const QJsonArray server = result.value(mode).toObject().value("logprobs").toArray();
        QCOMPARE(server.size(), cli.size());
        for (qsizetype i = 0; i < cli.size(); ++i) {
            const QJsonObject want = cli.at(i).toObject(), got = server.at(i).toObject();
            QCOMPARE(got.value("id").toInt(), want.value("id").toInt());
            QCOMPARE(got.value("token").toString(), want.value("token").toString());
            QVERIFY2(std::abs(got.value("logprob").toDouble() - want.value("logprob").toDouble()) < 1e-9,
                     qPrintable(QStringLiteral("%1 token %2").arg(mode).arg(i)));
            QVERIFY(got.value("logprob").toDouble() <= 0);
            const QJsonArray wantTop = want.value("top_logprobs").toArray(), gotTop = got.value("top").toArray();
            QCOMPARE(gotTop.size(), 3);
            QCOMPARE(wantTop.size(), 3);
            for (qsizetype k = 0; k < 3; ++k) {
                QCOMPARE(gotTop.at(k).toObject().value("id").toInt(), wantTop.at(k).toObject().value("id").toInt());
                QVERIFY(std::abs(gotTop.at(k).toObject().value("logprob").toDouble() -
                                 wantTop.at(k).toObject().value("logprob").toDouble()) < 1e-9);
            }
            // Greedy: the chosen token is the most likely one.
            QCOMPARE(gotTop.at(0).toObject().value("id").toInt(), got.value("id").toInt());
        }
    }
}

// A conversation whose image arrives in the second user turn: the server (restore + reply from the
// request's messages) answers exactly as the CLI's live interactive chat does (turn 1 text only, then
// /image and turn 2), and counts the same image tokens.
void TstServe::imageInTheSecondTurn() {
    const QString first = QStringLiteral("Hello there.");
    const auto one = clitest::runCli({"chat", "--model", kModel, "--tokenizer", tokenizer(), "--temperature", "0",
                                      "--max-new-tokens", "8", "--backend", "cpu", "--threads", "2", "--prompt", first, "--json"},
                                     {}, 300000);
    QVERIFY2(one.exitCode == 0, one.err.constData());
    const QString firstAnswer = clitest::parseJson(one.out).value("text").toString();
    const QByteArray input = first.toUtf8() + "\n/image " + kImage.toUtf8() + "\n" + kPrompt.toUtf8() + "\n/quit\n";
    const auto live = clitest::runCli({"chat", "--model", kModel, "--tokenizer", tokenizer(), "--temperature", "0",
                                       "--max-new-tokens", "8", "--backend", "cpu", "--threads", "2"},
                                      input, 300000);
    QVERIFY2(live.exitCode == 0, live.err.constData());
    const QString out = QString::fromUtf8(live.out);
    QVERIFY2(out.startsWith(firstAnswer + QLatin1Char('\n')), qPrintable(out));
    QVERIFY(out.endsWith(QLatin1Char('\n')));
    const QString secondAnswer = out.mid(firstAnswer.size() + 1).chopped(1);
    QVERIFY(!secondAnswer.isEmpty());
    const QList<QByteArray> stats = live.err.split('\n');
    QByteArray secondStats;
    for (const QByteArray& line : stats)
        if (line.contains(" tokens, stop ")) secondStats = line;  // the last stats line: turn 2
    QVERIFY2(secondStats.contains("image 2340 tok"), secondStats.constData());

    const QJsonObject result = runClient({"turn2", "--max-tokens", "8", "--first-prompt", first, "--first-answer", firstAnswer});
    QVERIFY2(!result.isEmpty(), "the openai client script failed (see the warning above)");
    QCOMPARE(result.value("content").toString(), secondAnswer);
    QCOMPARE(ints(result.value("token_ids")).size(), 8);
    const QJsonObject details = result.value("usage").toObject().value("prompt_tokens_details").toObject();
    QCOMPARE(details.value("image_tokens").toInt(), 2340);
}

void TstServe::badRequests_data() {
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("mention");
    const QByteArray image = dataUrl(readFile(kImage));
    auto post = [](const QByteArray& body, const QByteArray& key = kKey) {
        return servetest::httpRequest("POST", "/v1/chat/completions", body, key);
    };
    QTest::newRow("malformed JSON") << post("{\"model\": ") << 400 << "invalid_json" << "not valid JSON";
    QTest::newRow("wrong type") << post("{\"model\": \"" + kModelId.toUtf8() +
                                        "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}")
                                << 400 << "invalid_type" << "temperature";
    QTest::newRow("unknown model") << post(chatBody({}, "hi", 4, false, "gpt-4o")) << 404 << "model_not_found" << "gpt-4o";
    QTest::newRow("bad base64") << post(chatBody("data:image/png;base64,@@@@", "hi", 4)) << 400 << "invalid_base64"
                                << "messages[0].content[0]";
    QTest::newRow("not an image") << post(chatBody("data:image/png;base64," + QByteArray("hello world").toBase64(), "hi", 4))
                                  << 400 << "invalid_image" << "not a PNG";
    QTest::newRow("image bomb 100000x100000")
        << post(chatBody(dataUrl(servetest::declaredSizePng(100000, 100000)), "hi", 4)) << 400 << "image_too_large"
        << "100000x100000";
    QJsonArray three;
    for (int i = 0; i < 3; ++i)
        three.append(QJsonObject{{"type", "image_url"}, {"image_url", QJsonObject{{"url", QString::fromUtf8(image)}}}});
    const QJsonObject tooMany{{"model", kModelId},
                              {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", three}}}}};
    QTest::newRow("too many images") << post(QJsonDocument(tooMany).toJson(QJsonDocument::Compact)) << 400
                                     << "too_many_images" << "limit is 2";
    QTest::newRow("body too large (413 before the body is sent)")
        << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kKey +
                      "\r\nContent-Length: 5242880\r\n\r\n")
        << 413 << "request_too_large" << "5242880";
    QTest::newRow("missing API key") << post(chatBody({}, "hi", 4), {}) << 401 << "invalid_api_key" << "Authorization";
    QTest::newRow("wrong API key") << post(chatBody({}, "hi", 4), "sk-wrong") << 401 << "invalid_api_key" << "incorrect";
    QTest::newRow("http image URL refused") << post(chatBody("http://127.0.0.1:1/a.png", "hi", 4)) << 400
                                            << "image_url_not_allowed" << "data: URL";
    QTest::newRow("prompt longer than the context")
        << post(chatBody(image, QByteArray("word ").repeated(2500), 4)) << 400 << "context_length_exceeded" << "context";
    QTest::newRow("empty messages") << post("{\"model\": \"" + kModelId.toUtf8() + "\", \"messages\": []}") << 400
                                    << "invalid_value" << "messages";
    QTest::newRow("unknown path") << servetest::httpRequest("GET", "/v2/nothing", {}, kKey) << 404 << "not_found"
                                  << "/v2/nothing";
    QTest::newRow("wrong method") << servetest::httpRequest("GET", "/v1/chat/completions", {}, kKey) << 405
                                  << "method_not_allowed" << "POST";
    QTest::newRow("chunked request body")
        << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << 501
        << "bad_http_request" << "Content-Length";
    QTest::newRow("top_logprobs without logprobs")
        << post("{\"model\": \"" + kModelId.toUtf8() +
                "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 2}")
        << 400 << "invalid_value" << "logprobs";
    QTest::newRow("top_logprobs above 20")
        << post("{\"model\": \"" + kModelId.toUtf8() +
                "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logprobs\": true, \"top_logprobs\": 21}")
        << 400 << "invalid_value" << "between 0 and 20";
    QTest::newRow("garbage request line") << QByteArray("HELLO\r\n\r\n") << 400 << "bad_http_request" << "request line";
}

void TstServe::badRequests() {
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, mention);
    const HttpReply r = servetest::exchange(m_port, request, 60000);
    QVERIFY2(r.complete, r.body.constData());
    QCOMPARE(r.status, status);
    QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(r.errorCode(), code);
    QVERIFY2(r.errorMessage().contains(mention), qPrintable(r.errorMessage()));
    const QJsonObject error = r.json().value("error").toObject();
    QVERIFY(error.contains("type") && error.contains("param"));  // OpenAI's error object shape
}

// A streaming client that goes away after the first tokens: its generation stops at the next token
// (counted by /health as cancelled), and the next request is served normally.
void TstServe::disconnectMidStreamCancels() {
    const qint64 before = health().value("requests").toObject().value("cancelled_by_disconnect").toInteger();
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
    QVERIFY(socket.waitForConnected(10000));
    // The fixture's greedy answer cycles without EOS (manifest), so ~1700 tokens would fill the context.
    socket.write(servetest::httpRequest("POST", "/v1/chat/completions", chatBody(dataUrl(readFile(kImage)), kPrompt.toUtf8(), 1700, true), kKey));
    QByteArray received;
    QElapsedTimer timer;
    timer.start();
    while (received.count("\"content\":\"") < 3 && timer.elapsed() < 120000)
        if (socket.waitForReadyRead(500)) received += socket.readAll();
    QVERIFY2(received.startsWith("HTTP/1.1 200"), received.constData());
    QVERIFY2(received.contains("text/event-stream"), received.constData());
    socket.abort();
    qint64 after = before;
    timer.restart();
    while (after == before && timer.elapsed() < 30000) {
        QThread::msleep(100);
        after = health().value("requests").toObject().value("cancelled_by_disconnect").toInteger();
    }
    QCOMPARE(after, before + 1);
    const HttpReply next = servetest::exchange(
        m_port, servetest::httpRequest("POST", "/v1/chat/completions", chatBody({}, "Hi", 3), kKey));
    QCOMPARE(next.status, 200);
    QCOMPARE(next.json().value("usage").toObject().value("completion_tokens").toInt(), 3);
}

// 50 requests at once through the official client (no retries): one runs, kQueue wait, the rest are
// refused at once with 429 + Retry-After; nothing hangs and nothing else happens.
void TstServe::fiftyConcurrentRequests() {
    const qint64 rejectedBefore = health().value("requests").toObject().value("rejected_busy").toInteger();
    const QJsonObject result = runClient({"busy", "--count", "50", "--max-tokens", "4", "--timeout", "120"});
    QVERIFY2(!result.isEmpty(), "the openai client script failed (see the warning above)");
    QCOMPARE(result.value("alive_threads").toInt(), 0);
    const QJsonArray outcomes = result.value("outcomes").toArray();
    QCOMPARE(outcomes.size(), 50);
    int ok = 0, busy = 0;
    for (const QJsonValue& v : outcomes) {
        const QJsonObject o = v.toObject();
        const int status = o.value("status").toInt();
        QVERIFY2(status == 200 || status == 429, qPrintable(QJsonDocument(o).toJson()));
        if (status == 200) ++ok;
        if (status != 429) continue;
        ++busy;
        QVERIFY2(o.value("retry_after").toString().toInt() >= 1, qPrintable(QJsonDocument(o).toJson()));
        QVERIFY2(o.value("seconds").toDouble() < 10, "a 429 must come at once, not after waiting");
    }
    QVERIFY2(ok >= 1 + kQueue, qPrintable(QString("ok %1 busy %2").arg(ok).arg(busy)));
    QVERIFY2(busy >= 1, qPrintable(QString("ok %1 busy %2").arg(ok).arg(busy)));
    const QJsonObject after = health();
    QCOMPARE(after.value("requests").toObject().value("rejected_busy").toInteger() - rejectedBefore, qint64(busy));
    QCOMPARE(after.value("queue").toObject().value("waiting").toInt(), 0);
}

// batch --endpoint against this server gives the same lines (answers, settings id) as batch --model,
// so a local rerun over the endpoint's results file has nothing left to do.
void TstServe::batchAgainstServer() {
    const QString images = m_dir.filePath("images");
    QVERIFY(QDir().mkpath(images));
    QVERIFY(QFile::copy(kImage, images + "/a.png"));
    QVERIFY(QFile::copy(kSmallImage, images + "/b.png"));
    const QString remoteOut = m_dir.filePath("remote.jsonl");
    const QStringList common{"--images", images, "--prompt", kPrompt, "--max-new-tokens", "8"};
    const auto remote = clitest::runCli(QStringList{"batch", "--endpoint", QStringLiteral("http://127.0.0.1:%1").arg(m_port),
                                                    "--api-key", QString::fromUtf8(kKey), "--concurrency", "2",
                                                    "--out", remoteOut} + common,
                                        {}, 300000);
    QVERIFY2(remote.exitCode == 0, remote.err.constData());
    const QString localOut = m_dir.filePath("local.jsonl");
    const QStringList local{"batch", "--model", kModel, "--tokenizer", tokenizer(), "--backend", "cpu", "--threads", "2"};
    const auto localRun = clitest::runCli(local + QStringList{"--out", localOut} + common, {}, 300000);
    QVERIFY2(localRun.exitCode == 0, localRun.err.constData());
    QMap<QString, QJsonObject> remoteLines, localLines;
    for (const QByteArray& line : readFile(remoteOut).split('\n'))
        if (!line.isEmpty()) remoteLines.insert(clitest::parseJson(line).value("file").toString(), clitest::parseJson(line));
    for (const QByteArray& line : readFile(localOut).split('\n'))
        if (!line.isEmpty()) localLines.insert(clitest::parseJson(line).value("file").toString(), clitest::parseJson(line));
    QCOMPARE(remoteLines.keys(), localLines.keys());
    QCOMPARE(remoteLines.size(), 2);
    for (const QString& file : remoteLines.keys()) {
        const QJsonObject r = remoteLines[file], l = localLines[file];
        QVERIFY2(r.value("error").isNull(), qPrintable(r.value("error").toString()));
        QCOMPARE(r.value("answer").toString(), l.value("answer").toString());
        QCOMPARE(r.value("sha256").toString(), l.value("sha256").toString());
        QCOMPARE(r.value("settings").toString(), l.value("settings").toString());
        QCOMPARE(r.value("tokens").toObject(), l.value("tokens").toObject());
    }
    const auto resumed = clitest::runCli(local + QStringList{"--out", remoteOut} + common, {}, 300000);
    QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
    QVERIFY2(resumed.err.contains("0 answered, 0 errors, 2 skipped"), resumed.err.constData());
}

// serve --allow-image-urls fetches http(s) images (here from a Python http.server on 127.0.0.1 serving the
// fixture folder): the answer equals the data: URL answer; a URL that does not resolve to an image is a 400.
void TstServe::imageUrlsWhenAllowed() {
    QProcess files;
    files.start(QStringLiteral("/usr/bin/python3"), {"-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
                                                     QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images")});
    QVERIFY(files.waitForStarted(30000));
    QByteArray banner;
    static const QRegularExpression kPort(QStringLiteral("port (\\d+)"));
    QElapsedTimer timer;
    timer.start();
    while (!kPort.match(QString::fromUtf8(banner)).hasMatch() && timer.elapsed() < 30000)
        if (files.waitForReadyRead(200)) banner += files.readAllStandardOutput();
    const int filesPort = kPort.match(QString::fromUtf8(banner)).captured(1).toInt();
    QVERIFY2(filesPort > 0, banner.constData());

    QProcess server;
    QByteArray log;
    const quint16 port = servetest::startServer(server, QStringLiteral(LLAVA_CLI_PATH),
                                                {"serve", "--model", kModel, "--tokenizer", tokenizer(), "--port", "0",
                                                 "--backend", "cpu", "--threads", "2", "--allow-image-urls"},
                                                &log);
    QVERIFY2(port != 0, log.constData());
    const QByteArray base = "http://127.0.0.1:" + QByteArray::number(filesPort) + "/";
    const HttpReply ok = servetest::exchange(
        port, servetest::httpRequest("POST", "/v1/chat/completions", chatBody(base + "landscape_640x480.png", kPrompt.toUtf8(), 32), {}));
    const HttpReply missing = servetest::exchange(
        port, servetest::httpRequest("POST", "/v1/chat/completions", chatBody(base + "nothing.png", kPrompt.toUtf8(), 4), {}));
    ::kill(static_cast<pid_t>(server.processId()), SIGTERM);
    files.kill();
    QVERIFY(server.waitForFinished(30000));
    files.waitForFinished(10000);
    QCOMPARE(ok.status, 200);
    QCOMPARE(ok.json().value("choices").toArray().at(0).toObject().value("message").toObject().value("content").toString(),
             m_cliChat.value("text").toString());
    QCOMPARE(ok.json().value("usage").toObject().value("prompt_tokens").toInt(), m_cliInspect.value("total_tokens").toInt());
    QCOMPARE(missing.status, 400);
    QCOMPARE(missing.errorCode(), QStringLiteral("image_fetch_failed"));
    QVERIFY2(missing.errorMessage().contains("nothing.png"), qPrintable(missing.errorMessage()));
}

void TstServe::stillServing() {
    QCOMPARE(health().value("status").toString(), QStringLiteral("ok"));
    const HttpReply r = servetest::exchange(
        m_port, servetest::httpRequest("POST", "/v1/chat/completions", chatBody(dataUrl(readFile(kImage)), kPrompt.toUtf8(), 32), kKey));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value("choices").toArray().at(0).toObject().value("message").toObject().value("content").toString(),
             m_cliChat.value("text").toString());
}

QTEST_GUILESS_MAIN(TstServe)
#include "tst_serve.moc"
