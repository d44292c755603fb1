// See httprequestparser.h. Grammar references are RFC 9112 §2-§6 and RFC 9110 §5.6 (tokens, field values).
#include "httprequestparser.h"

#include <algorithm>

namespace server {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr int kMaxLeadingEmptyLines = 4;  // RFC 9112 §2.2: ignore at least one empty line before a request

bool isTchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isToken(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return isTchar(static_cast<unsigned char>(c)); });
}

// field-value characters: VCHAR, SP, HTAB, obs-text. No CR, LF, NUL or other controls.
bool isFieldValueChar(unsigned char c) { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7F); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) { return a.size() == b.size() && lower(a) == lower(b); }

// A comma-separated header list contains `item` (case-insensitive), e.g. Connection: keep-alive, Upgrade.
bool listContains(std::string_view list, std::string_view item) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        if (iequals(trimOws(list.substr(0, comma)), item)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view lowerName) const {
    for (const auto& [name, value] : headers)
        if (name == lowerName) return std::string_view(value);
    return std::nullopt;
}

std::string_view HttpRequest::path() const {
    const std::string_view t = target;
    return t.substr(0, t.find('?'));
}

bool HttpRequest::keepAlive() const {
    const auto connection = header("connection");
    if (minorVersion == 0) return connection && listContains(*connection, "keep-alive");
    return !(connection && listContains(*connection, "close"));
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : m_limits(limits) {}

HttpRequestParser::State HttpRequestParser::fail(int status, std::string message) {
    m_phase = Phase::Failed;
    m_error = {status, std::move(message)};
    m_buffer.clear();
    m_buffer.shrink_to_fit();
    return State::Failed;
}

HttpRequestParser::State HttpRequestParser::feed(std::string_view bytes) {
    switch (m_phase) {
    case Phase::Failed: return State::Failed;
    case Phase::Done:  // the server bounds what it keeps while a request is answered (bufferedBytes)
        m_buffer.append(bytes);
        return State::Complete;
    case Phase::Head: {
        m_buffer.append(bytes);
        // Empty lines before the request line (left over after a previous request's body) are skipped.
        while (m_buffer.compare(0, 2, kCrlf) == 0 && m_leadingEmptyLines < kMaxLeadingEmptyLines) {
            m_buffer.erase(0, 2);
            ++m_leadingEmptyLines;
            m_scanned = 0;
        }
        // Only bytes not looked at before are searched (and the 3 before them, for a split CRLFCRLF).
        const std::size_t from = m_scanned >= 3 ? m_scanned - 3 : 0;
        const std::size_t headEnd = m_buffer.find("\r\n\r\n", from);
        if (headEnd == std::string::npos) {
            for (std::size_t i = std::max<std::size_t>(from, 1); i < m_buffer.size(); ++i)
                if (m_buffer[i] == '\n' && m_buffer[i - 1] != '\r')
                    return fail(400, "bare LF in the request head (lines must end with CRLF)");
            if (!m_buffer.empty() && m_buffer.front() == '\n')
                return fail(400, "bare LF in the request head (lines must end with CRLF)");
            m_scanned = m_buffer.size();
            const std::size_t lineEnd = m_buffer.find(kCrlf);
            if ((lineEnd == std::string::npos ? m_buffer.size() : lineEnd) > m_limits.maxRequestLineBytes)
                return fail(414, "request line longer than " + std::to_string(m_limits.maxRequestLineBytes) + " bytes");
            if (m_buffer.size() > m_limits.maxHeadBytes)
                return fail(431, "request head (request line + headers) longer than " +
                                     std::to_string(m_limits.maxHeadBytes) + " bytes");
            return State::NeedMore;
        }
        m_scanned = 0;
        if (headEnd + 4 > m_limits.maxHeadBytes)
            return fail(431, "request head (request line + headers) longer than " + std::to_string(m_limits.maxHeadBytes) +
                                 " bytes");
        const State s = parseHead(headEnd);
        return s == State::Failed ? s : finishBody();
    }
    case Phase::Body:
        m_buffer.append(bytes);
        return finishBody();
    }
    return State::Failed;
}

HttpRequestParser::State HttpRequestParser::finishBody() {
    if (m_buffer.size() < m_bodyLength) return State::NeedMore;
    m_request.body = m_buffer.substr(0, m_bodyLength);
    m_buffer.erase(0, m_bodyLength);
    m_phase = Phase::Done;
    return State::Complete;
}

HttpRequestParser::State HttpRequestParser::parseHead(std::size_t headEnd) {
    const std::string_view head = std::string_view(m_buffer).substr(0, headEnd + 2);  // every line with its CRLF
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r'))
            return fail(400, "bare LF in the request head (lines must end with CRLF)");
        if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n'))
            return fail(400, "bare CR in the request head");
    }
    m_request = {};
    std::size_t pos = 0;
    int lineNo = 0;
    while (pos < head.size()) {
        const std::size_t end = head.find(kCrlf, pos);
        const std::string_view line = head.substr(pos, end - pos);
        pos = end + 2;
        if (lineNo++ == 0) {
            if (line.size() > m_limits.maxRequestLineBytes)
                return fail(414, "request line longer than " + std::to_string(m_limits.maxRequestLineBytes) + " bytes");
            if (!parseRequestLine(line)) return State::Failed;
            continue;
        }
        if (static_cast<int>(m_request.headers.size()) >= m_limits.maxHeaders)
            return fail(431, "more than " + std::to_string(m_limits.maxHeaders) + " header fields");
        if (!parseHeaderLine(line)) return State::Failed;
    }
    m_buffer.erase(0, headEnd + 4);
    return decideBody();
}

bool HttpRequestParser::parseRequestLine(std::string_view line) {
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return fail(400, "malformed request line (expected \"METHOD /path HTTP/1.1\")"), false;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!isToken(method)) return fail(400, "malformed request method"), false;
    if (target.empty() || target.front() != '/')
        return fail(400, "request target must be a path starting with '/' (origin-form)"), false;
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
            return fail(400, "request target contains a control, space or non-ASCII byte"), false;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9')
        return fail(400, "malformed HTTP version"), false;
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return fail(505, "HTTP version " + std::string(version.substr(5)) + " is not supported (use HTTP/1.1)"), false;
    m_request.method = std::string(method);
    m_request.target = std::string(target);
    m_request.minorVersion = version[7] - '0';
    return true;
}

bool HttpRequestParser::parseHeaderLine(std::string_view line) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
        return fail(400, "obsolete header line folding is not accepted"), false;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400, "header line without ':'"), false;
    const std::string_view name = line.substr(0, colon);
    if (!isToken(name)) return fail(400, "malformed header name (no spaces before ':')"), false;
    const std::string_view value = trimOws(line.substr(colon + 1));
    for (char c : value)
        if (!isFieldValueChar(static_cast<unsigned char>(c)))
            return fail(400, "header " + std::string(name) + " contains a control byte"), false;
    m_request.headers.emplace_back(lower(name), std::string(value));
    return true;
}

HttpRequestParser::State HttpRequestParser::decideBody() {
    if (m_request.minorVersion == 1 && !m_request.header("host"))
        return fail(400, "HTTP/1.1 request without a Host header");
    if (m_request.header("transfer-encoding"))
        return fail(501, "Transfer-Encoding on requests is not supported; send the body with Content-Length");
    std::optional<std::size_t> length;
    for (const auto& [name, value] : m_request.headers) {
        if (name != "content-length") continue;
        if (value.empty() || value.size() > 15 ||
            !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fail(400, "Content-Length is not a plain decimal number: \"" + value.substr(0, 32) + "\"");
        const std::size_t n = std::stoull(value);
        if (length && *length != n) return fail(400, "conflicting Content-Length headers");
        length = n;
    }
    m_bodyLength = length.value_or(0);
    if (m_bodyLength > m_limits.maxBodyBytes)
        return fail(413, "request body of " + std::to_string(m_bodyLength) + " bytes is larger than the limit of " +
                             std::to_string(m_limits.maxBodyBytes) + " bytes");
    const auto expect = m_request.header("expect");
    m_expectContinue = expect && iequals(*expect, "100-continue") && m_bodyLength > 0;
    m_phase = Phase::Body;
    return State::NeedMore;  // feed() continues with the body bytes already buffered
}

HttpRequest HttpRequestParser::takeRequest() {
    HttpRequest out = std::move(m_request);
    m_request = {};
    m_bodyLength = 0;
    m_expectContinue = false;
    m_leadingEmptyLines = 0;
    if (m_phase == Phase::Done) m_phase = Phase::Head;
    return out;
}

}  // namespace server
