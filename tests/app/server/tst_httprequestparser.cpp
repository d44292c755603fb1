// tst_httprequestparser: the server's HTTP/1.1 request parser (app/server/httprequestparser.h).
// Guards against: requests split at any byte boundary parsed differently from whole ones, pipelined
// requests lost or merged, request smuggling shapes (Transfer-Encoding, conflicting Content-Length, bare
// LF, obs-fold) accepted, and unbounded memory: a body larger than the limit is refused from its
// Content-Length before any body byte is kept, an endless head is refused at the head limit.
#include <QTest>

#include <string>

#include "httprequestparser.h"

using server::HttpLimits;
using server::HttpRequest;
using server::HttpRequestParser;
using State = HttpRequestParser::State;

Q_DECLARE_METATYPE(std::string)

class TstHttpRequestParser : public QObject {
    Q_OBJECT
private slots:
    void getWithHeaders();
    void postBodyByteByByte();
    void pipelinedRequests();
    void keepAliveRules_data();
    void keepAliveRules();
    void expectContinue();
    void refused_data();
    void refused();
    void oversizedBodyRefusedBeforeItArrives();
    void endlessHeadIsBounded();
    void longRequestLineRefusedBeforeTheHeadEnds();
    void leadingEmptyLinesCountedAcrossPieces();
};

void TstHttpRequestParser::getWithHeaders() {
    HttpRequestParser parser;
    QCOMPARE(parser.feed("GET /v1/models?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  spaced value \t\r\nACCEPT: */*\r\n\r\n"),
             State::Complete);
    const HttpRequest r = parser.takeRequest();
    QCOMPARE(r.method, std::string("GET"));
    QCOMPARE(r.target, std::string("/v1/models?x=1"));
    QCOMPARE(std::string(r.path()), std::string("/v1/models"));
    QCOMPARE(r.minorVersion, 1);
    QCOMPARE(std::string(r.header("x-thing").value_or("?")), std::string("spaced value"));
    QCOMPARE(std::string(r.header("accept").value_or("?")), std::string("*/*"));  // names are case-insensitive
    QVERIFY(r.body.empty());
}

void TstHttpRequestParser::postBodyByteByByte() {
    const std::string body = "{\"a\": [1, 2, 3]}\r\n\r\nnot a head";
    const std::string request =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    HttpRequestParser parser;
    for (std::size_t i = 0; i + 1 < request.size(); ++i)
        QCOMPARE(parser.feed(std::string_view(&request[i], 1)), State::NeedMore);
    QCOMPARE(parser.feed(std::string_view(&request.back(), 1)), State::Complete);
    QCOMPARE(parser.takeRequest().body, body);
}

void TstHttpRequestParser::pipelinedRequests() {
    HttpRequestParser parser;
    const std::string two = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    QCOMPARE(parser.feed(two), State::Complete);
    const HttpRequest first = parser.takeRequest();
    QCOMPARE(first.target, std::string("/a"));
    QCOMPARE(first.body, std::string("abc"));
    QCOMPARE(parser.feed(""), State::Complete);  // the second was already received
    QCOMPARE(parser.takeRequest().target, std::string("/b"));
    QCOMPARE(parser.feed(""), State::NeedMore);
    QCOMPARE(parser.bufferedBytes(), std::size_t(0));
}

void TstHttpRequestParser::keepAliveRules_data() {
    QTest::addColumn<std::string>("head");
    QTest::addColumn<bool>("keepAlive");
    QTest::newRow("1.1 default keeps") << std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << true;
    QTest::newRow("1.1 close") << std::string("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n") << false;
    QTest::newRow("1.1 list with close") << std::string("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n") << false;
    QTest::newRow("1.0 default closes") << std::string("GET / HTTP/1.0\r\n\r\n") << false;
    QTest::newRow("1.0 keep-alive") << std::string("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") << true;
}

void TstHttpRequestParser::keepAliveRules() {
    QFETCH(std::string, head);
    QFETCH(bool, keepAlive);
    HttpRequestParser parser;
    QCOMPARE(parser.feed(head), State::Complete);
    QCOMPARE(parser.takeRequest().keepAlive(), keepAlive);
}

void TstHttpRequestParser::expectContinue() {
    HttpRequestParser parser;
    QCOMPARE(parser.feed("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"), State::NeedMore);
    QVERIFY(parser.wantsContinue());
    QCOMPARE(parser.feed("ok"), State::Complete);
    QVERIFY(!parser.wantsContinue());
}

void TstHttpRequestParser::refused_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<int>("status");
    const std::string host = "Host: x\r\n";
    QTest::newRow("no version") << std::string("GET /\r\n\r\n") << 400;
    QTest::newRow("two spaces") << std::string("GET  / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("HTTP/2.0") << std::string("GET / HTTP/2.0\r\n\r\n") << 505;
    QTest::newRow("HTTP/1.x garbage") << std::string("GET / HTTP/1.x\r\n\r\n") << 400;
    QTest::newRow("absolute-form target") << std::string("GET http://a/ HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("space in target") << std::string("GET /a b HTTP/1.1\r\n" + host + "\r\n") << 400;
    static const char kNul[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
    QTest::newRow("NUL in target") << std::string(kNul, sizeof kNul - 1) << 400;
    QTest::newRow("bad method") << std::string("G(T / HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("bare LF") << std::string("GET / HTTP/1.1\nHost: x\n\n") << 400;
    QTest::newRow("bare LF inside head") << std::string("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << std::string("GET / HTTP/1.1\r\n" + host + " folded\r\n\r\n") << 400;
    QTest::newRow("space before colon") << std::string("GET / HTTP/1.1\r\nHost : x\r\n\r\n") << 400;
    QTest::newRow("no colon") << std::string("GET / HTTP/1.1\r\n" + host + "junk\r\n\r\n") << 400;
    QTest::newRow("control byte in value") << std::string("GET / HTTP/1.1\r\n" + host + "A: b\x01\r\n\r\n") << 400;
    QTest::newRow("1.1 without Host") << std::string("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("chunked request body")
        << std::string("POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n") << 501;
    QTest::newRow("TE and CL (smuggling shape)")
        << std::string("POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") << 501;
    QTest::newRow("CL with sign") << std::string("POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\n") << 400;
    QTest::newRow("CL list") << std::string("POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\n") << 400;
    QTest::newRow("CL huge digits") << std::string("POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n")
                                    << 400;
    QTest::newRow("conflicting CL")
        << std::string("POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n") << 400;
    std::string manyHeaders = "GET / HTTP/1.1\r\n" + host;
    for (int i = 0; i < 101; ++i) manyHeaders += "X-" + std::to_string(i) + ": v\r\n";
    QTest::newRow("101 headers") << manyHeaders + "\r\n" << 431;
    QTest::newRow("request line over 8 KiB") << "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + host + "\r\n" << 414;
    QTest::newRow("head over 32 KiB") << "GET / HTTP/1.1\r\n" + host + "X: " + std::string(33000, 'v') + "\r\n\r\n" << 431;
}

void TstHttpRequestParser::refused() {
    QFETCH(std::string, bytes);
    QFETCH(int, status);
    HttpRequestParser parser;
    QCOMPARE(parser.feed(bytes), State::Failed);
    QCOMPARE(parser.error().status, status);
    QVERIFY(!parser.error().message.empty());
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), State::Failed);  // stays failed: the connection closes
}

void TstHttpRequestParser::oversizedBodyRefusedBeforeItArrives() {
    HttpLimits limits;
    limits.maxBodyBytes = 1000;
    HttpRequestParser parser(limits);
    QCOMPARE(parser.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"), State::NeedMore);
    HttpRequestParser over(limits);
    QCOMPARE(over.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"), State::Failed);
    QCOMPARE(over.error().status, 413);
    QVERIFY2(over.error().message.find("1001") != std::string::npos, over.error().message.c_str());
}

void TstHttpRequestParser::endlessHeadIsBounded() {
    HttpRequestParser parser;
    const std::string chunk(4096, 'A');
    State state = State::NeedMore;
    int fed = 0;
    while (state == State::NeedMore && fed < 1000) {
        state = parser.feed(chunk);
        ++fed;
        QVERIFY(parser.bufferedBytes() <= HttpLimits{}.maxHeadBytes + chunk.size());
    }
    QCOMPARE(state, State::Failed);
    QCOMPARE(parser.error().status, 414);  // no line end at all: the request line is what is too long
    QVERIFY(fed <= 3);
    QCOMPARE(parser.bufferedBytes(), std::size_t(0));
}

// Found by fuzz_http_request: a request line over the limit whose CRLF had arrived was only refused once the
// whole head was in (the check looked for "no CRLF at all"), so fed whole and fed in pieces disagreed.
void TstHttpRequestParser::longRequestLineRefusedBeforeTheHeadEnds() {
    HttpLimits limits;
    limits.maxRequestLineBytes = 512;
    HttpRequestParser parser(limits);
    QCOMPARE(parser.feed("GET /" + std::string(600, 'a') + " HTTP/1.1\r\nHost: x\r\n"), State::Failed);
    QCOMPARE(parser.error().status, 414);
}

// fuzz_http_request finding (tests/fuzz/seeds/http/finding_leading_empty_lines_in_pieces): the cap on empty
// lines before a request line was counted per feed() call, so 7 CRLFs sent in 4-byte pieces were all
// skipped while the same bytes sent at once were refused.
void TstHttpRequestParser::leadingEmptyLinesCountedAcrossPieces() {
    const std::string bytes = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n!";
    HttpRequestParser whole;
    QCOMPARE(whole.feed(bytes), State::Failed);
    QCOMPARE(whole.error().status, 400);
    HttpRequestParser pieces;
    State last = State::NeedMore;
    for (std::size_t i = 0; i < bytes.size() && last == State::NeedMore; i += 4)
        last = pieces.feed(std::string_view(bytes).substr(i, 4));
    QCOMPARE(last, State::Failed);
    QCOMPARE(pieces.error().status, 400);
    // Up to the cap, empty lines before a request are still skipped, whole or in pieces.
    const std::string four = "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    HttpRequestParser ok;
    for (std::size_t i = 0; i + 1 < four.size(); ++i) QCOMPARE(ok.feed(std::string_view(&four[i], 1)), State::NeedMore);
    QCOMPARE(ok.feed(std::string_view(&four.back(), 1)), State::Complete);
    QCOMPARE(ok.takeRequest().target, std::string("/"));
}

QTEST_APPLESS_MAIN(TstHttpRequestParser)
#include "tst_httprequestparser.moc"
