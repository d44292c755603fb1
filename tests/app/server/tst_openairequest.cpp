// tst_openairequest: OpenAI chat-completions JSON -> ChatRequest (app/server/openairequest.h).
// Guards against: conversations mapped onto the wrong session turns (system prompt, earlier exchanges, the
// message to answer), images attached to the wrong message, sampling fields ignored or range-unchecked, and
// bad requests that get a generic (or no) error instead of their own code and the JSON path at fault.
// Expected values are written by hand from the request text.
#include <QTest>

#include <string>

#include "openairequest.h"

using server::ChatRequestParse;
using server::parseChatRequest;

Q_DECLARE_METATYPE(std::string)

namespace {

// A 1x1 PNG; only its decoded signature ("\x89PNG") is checked here, pixels are the server test's job.
const std::string kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

ChatRequestParse parse(const std::string& body) {
    llava::SamplingParams defaults;
    defaults.temperature = 0.25f;
    defaults.maxNewTokens = 77;
    server::RequestLimits limits;
    limits.maxImages = 2;
    limits.maxNewTokens = 4096;
    return parseChatRequest(body, limits, defaults);
}

}  // namespace

class TstOpenAiRequest : public QObject {
    Q_OBJECT
private slots:
    void conversationMapping();
    void defaultsAndAliases();
    void imageUrlsOnlyWhenAllowed();
    void errorJsonShape();
    void refused_data();
    void refused();
};

void TstOpenAiRequest::conversationMapping() {
    const std::string body = R"({"model": "m", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + kPng + R"("}},
                                     {"type": "text", "text": "What is it?"}, {"type": "text", "text": "Really?"}]},
        {"role": "assistant", "content": "A dot."},
        {"role": "developer", "content": [{"type": "text", "text": "No lists."}]},
        {"role": "user", "content": "And the colour?"}],
      "temperature": 0, "top_p": 0.5, "max_completion_tokens": 9, "max_tokens": 3, "seed": -1,
      "stop": ["END", "###"], "stream": true, "stream_options": {"include_usage": true}, "return_token_ids": true,
      "top_k": 5, "min_p": 0.1, "repetition_penalty": 1.1, "logprobs": true, "top_logprobs": 2})";
    const ChatRequestParse p = parse(body);
    QVERIFY2(p.request, p.error.message.c_str());
    const server::ChatRequest& r = *p.request;
    QCOMPARE(r.model, std::string("m"));
    QCOMPARE(r.systemPrompt, std::string("Be brief.\nNo lists."));
    QCOMPARE(int(r.history.size()), 1);
    QCOMPARE(r.history[0].user.text, std::string("What is it?\nReally?"));
    QCOMPARE(int(r.history[0].user.images.size()), 1);
    QCOMPARE(r.history[0].user.images[0].mimeType, std::string("image/png"));
    QCOMPARE(r.history[0].user.images[0].bytes.substr(1, 3), std::string("PNG"));
    QCOMPARE(r.history[0].user.images[0].where, std::string("messages[1].content[0]"));
    QCOMPARE(r.history[0].assistant, std::string("A dot."));
    QCOMPARE(r.last.text, std::string("And the colour?"));
    QVERIFY(r.last.images.empty());
    QCOMPARE(r.sampling.temperature, 0.0f);
    QCOMPARE(r.sampling.topP, 0.5f);
    QCOMPARE(r.sampling.maxNewTokens, 9);  // max_completion_tokens wins over the older max_tokens
    QCOMPARE(r.sampling.seed, std::uint64_t(0xFFFFFFFFFFFFFFFFull));  // -1 as two's complement
    QCOMPARE(r.sampling.stopStrings, (std::vector<std::string>{"END", "###"}));
    QCOMPARE(r.sampling.topK, 5);
    QCOMPARE(r.sampling.minP, 0.1f);
    QCOMPARE(r.sampling.repetitionPenalty, 1.1f);
    QVERIFY(r.stream && r.includeUsage && r.returnTokenIds);
    QCOMPARE(r.imageCount(), 1);
}

void TstOpenAiRequest::defaultsAndAliases() {
    const ChatRequestParse p = parse(R"({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": "DATA:image/JPG;BASE64,/9j/"}]}], "stop": "x", "max_tokens": 5})");
    QVERIFY2(p.request, p.error.message.c_str());
    QCOMPARE(p.request->sampling.temperature, 0.25f);  // the server's default
    QCOMPARE(p.request->sampling.maxNewTokens, 5);
    QCOMPARE(p.request->sampling.stopStrings, std::vector<std::string>{"x"});
    QCOMPARE(p.request->last.images[0].mimeType, std::string("image/jpeg"));  // image/jpg alias, scheme case-insensitive
    QVERIFY(p.request->last.text.empty());  // an image alone is a valid message
    QVERIFY(!p.request->stream);
}

// serve --allow-image-urls: http(s) URLs become images to fetch (no bytes yet), in the message they were in.
void TstOpenAiRequest::imageUrlsOnlyWhenAllowed() {
    const std::string body = R"({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + kPng + R"("}}]}]})";
    server::RequestLimits limits;
    QCOMPARE(parseChatRequest(body, limits, {}).error.code, std::string("image_url_not_allowed"));
    limits.allowImageUrls = true;
    ChatRequestParse p = parseChatRequest(body, limits, {});
    QVERIFY2(p.request, p.error.message.c_str());
    const std::vector<server::EncodedImage*> fetch = server::imagesToFetch(*p.request);
    QCOMPARE(int(fetch.size()), 1);
    QCOMPARE(fetch[0]->url, std::string("https://example.com/a.jpg"));
    QVERIFY(fetch[0]->bytes.empty());
    QCOMPARE(fetch[0]->where, std::string("messages[0].content[0]"));
    fetch[0]->bytes = "fetched";
    QVERIFY(server::imagesToFetch(*p.request).empty());
    limits.allowImageUrls = true;  // file: and paths stay refused
    const std::string local = R"({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": "file:///etc/passwd"}]}]})";
    QCOMPARE(parseChatRequest(local, limits, {}).error.code, std::string("invalid_image_url"));
}

void TstOpenAiRequest::errorJsonShape() {
    server::ApiError e;
    e.message = "messages[0]: bad \"quote\"";
    e.param = "messages[0]";
    e.code = "invalid_value";
    QCOMPARE(server::apiErrorJson(e),
             std::string(R"({"error":{"code":"invalid_value","message":"messages[0]: bad \"quote\"",)"
                         R"("param":"messages[0]","type":"invalid_request_error"}})"));
    e.param.clear();
    e.code.clear();
    QVERIFY(server::apiErrorJson(e).find(R"("code":null)") != std::string::npos);
    QVERIFY(server::apiErrorJson(e).find(R"("param":null)") != std::string::npos);
}

void TstOpenAiRequest::refused_data() {
    QTest::addColumn<std::string>("body");
    QTest::addColumn<std::string>("code");
    QTest::addColumn<std::string>("mention");
    const std::string user = R"("messages": [{"role": "user", "content": "hi"}])";
    auto withUser = [&](const std::string& extra) { return R"({"model": "m", )" + user + extra + "}"; };
    auto withImage = [](const std::string& url) {
        return R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ")" +
               url + R"("}}]}]})";
    };
    QTest::newRow("malformed JSON") << std::string(R"({"model": "m", "messages": [)") << std::string("invalid_json")
                                    << std::string("not valid JSON");
    QTest::newRow("not an object") << std::string("[1, 2]") << std::string("invalid_type") << std::string("JSON object");
    QTest::newRow("nesting bomb") << std::string(5000, '[') << std::string("invalid_json") << std::string("nested");
    QTest::newRow("missing model") << std::string("{" + user + "}") << std::string("missing_model") << std::string("model");
    QTest::newRow("model not a string") << std::string(R"({"model": 3, )" + user + "}") << std::string("invalid_type")
                                        << std::string("model");
    QTest::newRow("missing messages") << std::string(R"({"model": "m"})") << std::string("missing_messages")
                                      << std::string("messages");
    QTest::newRow("messages not an array") << std::string(R"({"model": "m", "messages": "hi"})")
                                           << std::string("invalid_type") << std::string("an array");
    QTest::newRow("empty messages") << std::string(R"({"model": "m", "messages": []})") << std::string("invalid_value")
                                    << std::string("at least one");
    QTest::newRow("unknown role") << std::string(R"({"model": "m", "messages": [{"role": "tool", "content": "x"}]})")
                                  << std::string("unsupported_role") << std::string("messages[0].role");
    QTest::newRow("content wrong type") << std::string(R"({"model": "m", "messages": [{"role": "user", "content": 5}]})")
                                        << std::string("invalid_type") << std::string("messages[0].content");
    QTest::newRow("audio part") << std::string(R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]})")
                                << std::string("unsupported_content") << std::string("messages[0].content[0].type");
    QTest::newRow("image in assistant message")
        << std::string(R"({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "image_url", "image_url": "data:image/png;base64,AA=="}]}, {"role": "user", "content": "b"}]})")
        << std::string("invalid_content") << std::string("messages[1].content[0]");
    QTest::newRow("two users in a row")
        << std::string(R"({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})")
        << std::string("invalid_message_order") << std::string("messages[1]");
    QTest::newRow("last is assistant")
        << std::string(R"({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})")
        << std::string("invalid_message_order") << std::string("last message");
    QTest::newRow("empty user message") << std::string(R"({"model": "m", "messages": [{"role": "user", "content": ""}]})")
                                        << std::string("invalid_value") << std::string("empty user message");
    QTest::newRow("http image URL") << withImage("https://example.com/a.png") << std::string("image_url_not_allowed")
                                    << std::string("not fetched");
    QTest::newRow("local path") << withImage("/etc/passwd") << std::string("invalid_image_url") << std::string("local");
    QTest::newRow("file URL") << withImage("file:///etc/passwd") << std::string("invalid_image_url") << std::string("local");
    QTest::newRow("data URL not base64") << withImage("data:image/png,abc") << std::string("invalid_image_url")
                                         << std::string("base64");
    QTest::newRow("bad base64") << withImage("data:image/png;base64,iVBOR*w0K") << std::string("invalid_base64")
                                << std::string("messages[0].content[0].image_url.url");
    QTest::newRow("empty base64") << withImage("data:image/png;base64,") << std::string("invalid_base64")
                                  << std::string("invalid or empty");
    QTest::newRow("svg") << withImage("data:image/svg+xml;base64,PHN2Zz4=") << std::string("unsupported_image_type")
                         << std::string("image/svg+xml");
    const std::string img = R"({"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + kPng + R"("}})";
    QTest::newRow("too many images") << std::string(R"({"model": "m", "messages": [{"role": "user", "content": [)" + img + "," +
                                                    img + "," + img + "]}]}")
                                     << std::string("too_many_images") << std::string("3 images");
    QTest::newRow("temperature string") << withUser(R"(, "temperature": "hot")") << std::string("invalid_type")
                                        << std::string("temperature");
    QTest::newRow("temperature 3") << withUser(R"(, "temperature": 3)") << std::string("invalid_value")
                                   << std::string("must be between");
    QTest::newRow("top_p 1.5") << withUser(R"(, "top_p": 1.5)") << std::string("invalid_value") << std::string("top_p");
    QTest::newRow("max_tokens 0") << withUser(R"(, "max_tokens": 0)") << std::string("invalid_value")
                                  << std::string("max_tokens");
    QTest::newRow("max_tokens over context") << withUser(R"(, "max_tokens": 4097)") << std::string("invalid_value")
                                             << std::string("4096");
    QTest::newRow("max_tokens float") << withUser(R"(, "max_tokens": 2.5)") << std::string("invalid_type")
                                      << std::string("integer");
    QTest::newRow("seed too big") << withUser(R"(, "seed": 18446744073709551615)") << std::string("invalid_value")
                                  << std::string("seed");
    QTest::newRow("n = 2") << withUser(R"(, "n": 2)") << std::string("invalid_value") << std::string("n = 1");
    QTest::newRow("stream not bool") << withUser(R"(, "stream": "yes")") << std::string("invalid_type")
                                     << std::string("stream");
    QTest::newRow("five stop strings") << withUser(R"(, "stop": ["a", "b", "c", "d", "e"])") << std::string("invalid_value")
                                       << std::string("at most 4");
    QTest::newRow("empty stop string") << withUser(R"(, "stop": "")") << std::string("invalid_value") << std::string("stop");
    QTest::newRow("stop not string") << withUser(R"(, "stop": [1])") << std::string("invalid_type") << std::string("stop[0]");
    QTest::newRow("tools") << withUser(R"(, "tools": [{"type": "function"}])") << std::string("unsupported_parameter")
                           << std::string("tool");
    QTest::newRow("stream_options not object") << withUser(R"(, "stream_options": 1)") << std::string("invalid_type")
                                               << std::string("stream_options");
}

void TstOpenAiRequest::refused() {
    QFETCH(std::string, body);
    QFETCH(std::string, code);
    QFETCH(std::string, mention);
    const ChatRequestParse p = parse(body);
    QVERIFY(!p.request);
    QCOMPARE(p.error.status, 400);
    QCOMPARE(p.error.code, code);
    QVERIFY2(p.error.message.find(mention) != std::string::npos, p.error.message.c_str());
}

QTEST_APPLESS_MAIN(TstOpenAiRequest)
#include "tst_openairequest.moc"
