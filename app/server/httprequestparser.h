// An incremental, strict HTTP/1.1 request parser for the local API server (RFC 9112 subset). Qt-free and
// allocation-bounded so it can be fuzzed alone: every byte a client sends is counted against HttpLimits
// before it is kept, so a hostile client can make the server hold at most maxHeadBytes + maxBodyBytes per
// connection. Deliberately NOT supported (each refused with its own status): chunked or any other
// Transfer-Encoding on requests (501), obsolete line folding (400), absolute-form targets (400),
// HTTP/2 or other versions (505). Bodies need Content-Length (clients of an OpenAI-style API always send it).
// It does not route, authenticate or look at the body: that is the server's job.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace server {

struct HttpLimits {
    std::size_t maxHeadBytes = 32 * 1024;         // request line + all header lines + the empty line
    std::size_t maxRequestLineBytes = 8 * 1024;   // 414 above
    int maxHeaders = 100;                          // 431 above
    std::size_t maxBodyBytes = 32 * 1024 * 1024;  // 413 above, decided from Content-Length before reading
};

struct HttpRequest {
    std::string method;   // "GET", "POST", ... (case-sensitive token)
    std::string target;   // origin-form: "/v1/models?x=1"
    int minorVersion = 1; // HTTP/1.<minorVersion>
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
    std::string body;

    // The first header with this (lower-case) name.
    std::optional<std::string_view> header(std::string_view lowerName) const;
    // The target without its query string.
    std::string_view path() const;
    // HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0 only with "keep-alive".
    bool keepAlive() const;
};

struct HttpParseError {
    int status = 400;     // 400, 413, 414, 431, 501, 505
    std::string message;  // names what was wrong, for the error body
};

class HttpRequestParser {
public:
    enum class State { NeedMore, Complete, Failed };

    explicit HttpRequestParser(HttpLimits limits = {});

    // Appends received bytes and parses as far as possible. After Complete, takeRequest() hands out the
    // request and parsing continues with the bytes that followed it (pipelined requests) on the next
    // feed() (possibly with no new bytes). After Failed the connection must be answered and closed.
    State feed(std::string_view bytes);
    HttpRequest takeRequest();
    const HttpParseError& error() const { return m_error; }
    // True once the head of a request with "Expect: 100-continue" is parsed and its body is still missing.
    bool wantsContinue() const { return m_phase == Phase::Body && m_expectContinue; }
    // Bytes held for requests not yet complete (for tests of the memory bound).
    std::size_t bufferedBytes() const { return m_buffer.size(); }

private:
    enum class Phase { Head, Body, Done, Failed };
    State fail(int status, std::string message);
    State parseHead(std::size_t headEnd);
    bool parseRequestLine(std::string_view line);
    bool parseHeaderLine(std::string_view line);
    State decideBody();
    State finishBody();

    HttpLimits m_limits;
    Phase m_phase = Phase::Head;
    std::string m_buffer;       // unparsed bytes (head, then body)
    std::size_t m_scanned = 0;  // head bytes of m_buffer already searched for the empty line
    int m_leadingEmptyLines = 0;  // skipped before this request's line, over every feed() (a per-call count
                                  // let pieces skip more than a whole feed: fuzz_http_request finding)
    std::size_t m_bodyLength = 0;
    bool m_expectContinue = false;
    HttpRequest m_request;
    HttpParseError m_error;
};

}  // namespace server
