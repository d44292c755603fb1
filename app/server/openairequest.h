// The OpenAI chat-completions request body -> a ChatRequest the inference thread can run, and OpenAI-style
// error objects. Pure mapping: no sockets, no engine, no image decoding (images stay encoded bytes here;
// their pixels are decoded on the inference thread). Every malformed or unsupported field gets its own
// ApiError naming the JSON path ("messages[2].content[1].image_url.url") and what was expected.
//
// Mapping onto llava::ChatSession (see docs/serving.md):
//   system / developer messages -> setSystemPrompt (joined with "\n" when there are several)
//   user/assistant pairs before the last user message -> restore(history)
//   the last message (must be a user message) -> reply()
//   a message's text parts are joined with "\n"; its image parts become that message's images (the
//   session places every image before the message's text, as LLaVA's "<image>\n" convention does).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llava/sampler.h"

namespace server {

struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";  // OpenAI's error.type
    std::string param;                           // JSON path of the offending field, or ""
    std::string code;                            // machine-readable: "invalid_json", "model_not_found", ...
};

// {"error": {"message", "type", "param", "code"}} (param/code null when empty).
std::string apiErrorJson(const ApiError& error);

struct RequestLimits {
    int maxImages = 8;          // image parts per request
    int maxMessages = 1024;
    int maxStopStrings = 4;     // as OpenAI
    int maxStopStringBytes = 256;
    int maxNewTokens = 1 << 20; // max_tokens above this -> 400 (the server passes the context length)
    int maxJsonDepth = 32;      // nesting of arrays/objects, checked before parsing (stack safety)
    bool allowImageUrls = false;  // http(s) image URLs: fetched by the server (serve --allow-image-urls)
};

struct EncodedImage {
    std::string mimeType;  // "image/png", "image/jpeg", "image/webp" ("" for a URL not fetched yet)
    std::string bytes;     // decoded from base64, or fetched from `url`
    std::string url;       // http(s) URL to fetch (only with RequestLimits::allowImageUrls); bytes empty until then
    std::string where;     // "messages[1].content[0]" for error messages
};

struct ApiMessage {
    std::string text;
    std::vector<EncodedImage> images;
};

struct ChatRequest {
    std::string model;
    std::string systemPrompt;  // "" = the template's own
    struct Exchange {
        ApiMessage user;
        std::string assistant;
    };
    std::vector<Exchange> history;  // completed exchanges before the last user message, oldest first
    ApiMessage last;
    llava::SamplingParams sampling;
    bool stream = false;
    bool includeUsage = false;    // stream_options.include_usage
    bool returnTokenIds = false;  // vLLM's extension: choices[].token_ids
    int topLogprobs = -1;         // -1: no logprobs; else logprobs: true with this many alternatives (0..20)

    int imageCount() const;
};

struct ChatRequestParse {
    std::optional<ChatRequest> request;
    ApiError error;  // meaningful when !request
};

// `defaults`: the sampling used for fields the request leaves out (temperature, top_p, max_tokens, seed).
ChatRequestParse parseChatRequest(std::string_view body, const RequestLimits& limits,
                                  const llava::SamplingParams& defaults);

// A "data:image/png;base64,...." URL -> its image; an http(s) URL -> an image to fetch when `allowUrls`;
// file and other URLs (and http(s) without `allowUrls`) are refused with an error that says why.
// `where` names the field in errors.
std::optional<EncodedImage> parseImageUrl(std::string_view url, const std::string& where, ApiError* error,
                                          bool allowUrls = false);

// Every image of the request that still has to be fetched (url set, no bytes).
std::vector<EncodedImage*> imagesToFetch(ChatRequest& request);

// Deepest nesting of [ and { outside strings; stops counting past `limit` (cheap pre-parse guard).
int jsonNestingDepth(std::string_view text, int limit);

}  // namespace server
