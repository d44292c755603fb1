// libFuzzer target: arbitrary bytes as what a client sends to the API server, fed to HttpRequestParser
// (app/server, Qt-free) in pieces whose sizes come from the input itself. Invariants: never crash, never
// hold more than the head limit + body limit + one piece, a failure carries a 4xx/5xx status, a complete
// request has a method, a '/' target and exactly Content-Length body bytes, and the same bytes fed whole
// give the same requests (and fail or not) as fed in pieces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "httprequestparser.h"

namespace {

struct Outcome {
    int requests = 0;
    int failStatus = 0;
    std::string bodies;  // concatenated bodies of the complete requests
};

Outcome run(std::string_view bytes, std::size_t piece, const server::HttpLimits& limits) {
    server::HttpRequestParser parser(limits);
    Outcome out;
    std::size_t pos = 0;
    while (pos < bytes.size() && out.failStatus == 0) {
        const std::size_t n = std::min(piece, bytes.size() - pos);
        auto state = parser.feed(bytes.substr(pos, n));
        pos += n;
        if (parser.bufferedBytes() > limits.maxHeadBytes + limits.maxBodyBytes + bytes.size()) std::abort();
        while (state == server::HttpRequestParser::State::Complete && out.requests < 64) {
            server::HttpRequest r = parser.takeRequest();
            if (r.method.empty() || r.target.empty() || r.target[0] != '/') std::abort();
            // The parser accepts only 1-15 plain digits, so stoull cannot throw here.
            const auto length = r.header("content-length");
            if (r.body.size() != (length ? std::stoull(std::string(*length)) : 0)) std::abort();
            out.bodies += r.body;
            ++out.requests;
            state = parser.feed({});
        }
        if (state == server::HttpRequestParser::State::Failed) {
            out.failStatus = parser.error().status;
            if (out.failStatus < 400 || out.failStatus > 599 || parser.error().message.empty()) std::abort();
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t piece = 1 + data[0] % 64;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    server::HttpLimits limits;
    limits.maxHeadBytes = 2048;  // small limits so the fuzzer reaches them
    limits.maxRequestLineBytes = 512;
    limits.maxHeaders = 16;
    limits.maxBodyBytes = 4096;
    const Outcome whole = run(bytes, bytes.size() + 1, limits);
    const Outcome pieces = run(bytes, piece, limits);
    // Which limit trips first may depend on where the pieces end (e.g. a bare LF after the head limit),
    // so only "failed or not" is compared, with the requests and bodies before that.
    if (whole.requests != pieces.requests || (whole.failStatus != 0) != (pieces.failStatus != 0) ||
        whole.bodies != pieces.bodies)
        std::abort();
    return 0;
}
