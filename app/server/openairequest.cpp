// See openairequest.h. Field semantics follow OpenAI's chat-completions reference; extensions that vLLM
// also accepts (top_k, min_p, repetition_penalty, return_token_ids) are mapped onto llava::SamplingParams.
#include "openairequest.h"

#include <QByteArray>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace server {
namespace {

using nlohmann::json;

std::string typeName(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    return "an object";
}

ApiError invalid(std::string param, std::string message, std::string code = "invalid_value") {
    ApiError e;
    e.message = param.empty() ? message : param + ": " + message;
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

ApiError wrongType(const std::string& param, const json& v, const std::string& expected) {
    return invalid(param, "expected " + expected + ", got " + typeName(v), "invalid_type");
}

// Reads the content of a message: a string, null, or an array of text / image_url parts.
std::optional<ApiMessage> readContent(const json& content, const std::string& where, bool imagesAllowed,
                                      bool allowUrls, ApiError* error) {
    ApiMessage out;
    if (content.is_null()) return out;
    if (content.is_string()) {
        out.text = content.get<std::string>();
        return out;
    }
    if (!content.is_array()) return *error = wrongType(where, content, "a string or an array of content parts"), std::nullopt;
    bool firstText = true;
    for (std::size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const std::string at = where + "[" + std::to_string(i) + "]";
        if (!part.is_object()) return *error = wrongType(at, part, "an object"), std::nullopt;
        const auto type = part.find("type");
        if (type == part.end() || !type->is_string())
            return *error = invalid(at + ".type", "missing or not a string (\"text\" or \"image_url\")"), std::nullopt;
        if (*type == "text") {
            const auto text = part.find("text");
            if (text == part.end() || !text->is_string())
                return *error = wrongType(at + ".text", text == part.end() ? json() : *text, "a string"), std::nullopt;
            if (!firstText) out.text += "\n";
            out.text += text->get<std::string>();
            firstText = false;
        } else if (*type == "image_url") {
            if (!imagesAllowed)
                return *error = invalid(at, "only user messages can carry images", "invalid_content"), std::nullopt;
            const auto image = part.find("image_url");
            if (image == part.end()) return *error = invalid(at + ".image_url", "missing"), std::nullopt;
            const json* url = &*image;
            if (image->is_object()) {
                const auto u = image->find("url");
                if (u == image->end()) return *error = invalid(at + ".image_url.url", "missing"), std::nullopt;
                url = &*u;
            }
            const std::string urlWhere = image->is_object() ? at + ".image_url.url" : at + ".image_url";
            if (!url->is_string()) return *error = wrongType(urlWhere, *url, "a string (a data: URL)"), std::nullopt;
            auto encoded = parseImageUrl(url->get<std::string>(), urlWhere, error, allowUrls);
            if (!encoded) return std::nullopt;
            encoded->where = at;
            out.images.push_back(std::move(*encoded));
        } else {
            return *error = invalid(at + ".type", "content part type \"" + type->get<std::string>() +
                                                      "\" is not supported (text, image_url)",
                                    "unsupported_content"),
                   std::nullopt;
        }
    }
    return out;
}

struct NumberRule {
    double lo, hi;
};

// Optional number field in [lo, hi]; absent or null keeps `*out`.
bool readNumber(const json& body, const char* name, NumberRule rule, float* out, ApiError* error) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_number()) return *error = wrongType(name, *it, "a number"), false;
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < rule.lo || v > rule.hi)
        return *error = invalid(name, "must be between " + json(rule.lo).dump() + " and " + json(rule.hi).dump()), false;
    *out = static_cast<float>(v);
    return true;
}

bool readInt(const json& body, const char* name, long long lo, long long hi, std::optional<long long>* out,
             ApiError* error) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_number_integer()) return *error = wrongType(name, *it, "an integer"), false;
    const auto range = [&] {
        return *error = invalid(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi)), false;
    };
    if (it->is_number_unsigned() && it->get<unsigned long long>() > static_cast<unsigned long long>(hi)) return range();
    const long long v = it->get<long long>();
    if (v < lo || v > hi) return range();
    *out = v;
    return true;
}

bool readBool(const json& body, const char* name, bool* out, ApiError* error) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_boolean()) return *error = wrongType(name, *it, "a boolean"), false;
    *out = it->get<bool>();
    return true;
}

bool readSampling(const json& body, const RequestLimits& limits, llava::SamplingParams* s, ApiError* error) {
    if (!readNumber(body, "temperature", {0, 2}, &s->temperature, error)) return false;
    if (!readNumber(body, "top_p", {0, 1}, &s->topP, error)) return false;
    if (!readNumber(body, "min_p", {0, 1}, &s->minP, error)) return false;
    if (!readNumber(body, "repetition_penalty", {0.01, 100}, &s->repetitionPenalty, error)) return false;
    std::optional<long long> topK, maxTokens, maxCompletion, seed, n;
    if (!readInt(body, "top_k", -1, 1 << 20, &topK, error)) return false;
    if (topK) s->topK = *topK < 0 ? 0 : static_cast<int>(*topK);  // vLLM: -1 = off
    if (!readInt(body, "max_tokens", 1, limits.maxNewTokens, &maxTokens, error)) return false;
    if (!readInt(body, "max_completion_tokens", 1, limits.maxNewTokens, &maxCompletion, error)) return false;
    if (maxCompletion) s->maxNewTokens = static_cast<int>(*maxCompletion);  // the newer name wins
    else if (maxTokens) s->maxNewTokens = static_cast<int>(*maxTokens);
    if (!readInt(body, "seed", std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max(), &seed, error))
        return false;
    if (seed) s->seed = static_cast<std::uint64_t>(*seed);
    if (!readInt(body, "n", 1, 1, &n, error)) return *error = invalid("n", "only n = 1 is supported"), false;
    const auto stop = body.find("stop");
    if (stop != body.end() && !stop->is_null()) {
        std::vector<std::string> stops;
        if (stop->is_string()) stops.push_back(stop->get<std::string>());
        else if (stop->is_array()) {
            for (std::size_t i = 0; i < stop->size(); ++i) {
                if (!(*stop)[i].is_string()) return *error = wrongType("stop[" + std::to_string(i) + "]", (*stop)[i], "a string"), false;
                stops.push_back((*stop)[i].get<std::string>());
            }
        } else return *error = wrongType("stop", *stop, "a string or an array of strings"), false;
        if (static_cast<int>(stops.size()) > limits.maxStopStrings)
            return *error = invalid("stop", "at most " + std::to_string(limits.maxStopStrings) + " stop strings"), false;
        for (const std::string& t : stops)
            if (t.empty() || static_cast<int>(t.size()) > limits.maxStopStringBytes)
                return *error = invalid("stop", "each stop string must have 1 to " +
                                                    std::to_string(limits.maxStopStringBytes) + " bytes"),
                       false;
        s->stopStrings = std::move(stops);
    }
    return true;
}

// Splits the messages into system prompt, completed exchanges and the last user message.
bool readMessages(const json& messages, const RequestLimits& limits, ChatRequest* out, ApiError* error) {
    if (!messages.is_array()) return *error = wrongType("messages", messages, "an array of messages"), false;
    if (messages.empty()) return *error = invalid("messages", "must contain at least one user message"), false;
    if (static_cast<int>(messages.size()) > limits.maxMessages)
        return *error = invalid("messages", "more than " + std::to_string(limits.maxMessages) + " messages"), false;
    std::vector<std::string> systemTexts;
    std::optional<ApiMessage> pendingUser;  // a user message waiting for its assistant answer
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string at = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return *error = wrongType(at, m, "an object"), false;
        const auto role = m.find("role");
        if (role == m.end() || !role->is_string())
            return *error = invalid(at + ".role", "missing or not a string (system, user, assistant)"), false;
        const auto content = m.find("content");
        const json contentValue = content == m.end() ? json() : *content;
        const std::string r = role->get<std::string>();
        const bool isUser = r == "user";
        if (r != "system" && r != "developer" && r != "user" && r != "assistant")
            return *error = invalid(at + ".role", "role \"" + r + "\" is not supported (system, user, assistant)",
                                    "unsupported_role"),
                   false;
        if ((r == "user" || r == "system" || r == "developer") && content == m.end())
            return *error = invalid(at + ".content", "missing"), false;
        auto parsed = readContent(contentValue, at + ".content", isUser, limits.allowImageUrls, error);
        if (!parsed) return false;
        if (r == "system" || r == "developer") {
            systemTexts.push_back(std::move(parsed->text));
        } else if (isUser) {
            if (pendingUser)
                return *error = invalid(at, "two user messages in a row: messages must alternate user and assistant "
                                            "(merge them into one message)",
                                        "invalid_message_order"),
                       false;
            if (parsed->text.empty() && parsed->images.empty())
                return *error = invalid(at + ".content", "empty user message (no text and no image)"), false;
            pendingUser = std::move(*parsed);
        } else {
            if (!pendingUser)
                return *error = invalid(at, "an assistant message must follow a user message", "invalid_message_order"),
                       false;
            out->history.push_back({std::move(*pendingUser), std::move(parsed->text)});
            pendingUser.reset();
        }
    }
    if (!pendingUser)
        return *error = invalid("messages", "the last message must be a user message (the one to answer)",
                                "invalid_message_order"),
               false;
    out->last = std::move(*pendingUser);
    for (std::size_t i = 0; i < systemTexts.size(); ++i) out->systemPrompt += (i ? "\n" : "") + systemTexts[i];
    if (out->imageCount() > limits.maxImages)
        return *error = invalid("messages", std::to_string(out->imageCount()) + " images in one request; the limit is " +
                                                std::to_string(limits.maxImages),
                                "too_many_images"),
               false;
    return true;
}

}  // namespace

int ChatRequest::imageCount() const {
    std::size_t n = last.images.size();
    for (const Exchange& e : history) n += e.user.images.size();
    return static_cast<int>(n);
}

std::string apiErrorJson(const ApiError& e) {
    const json error = {{"message", e.message},
                        {"type", e.type},
                        {"param", e.param.empty() ? json() : json(e.param)},
                        {"code", e.code.empty() ? json() : json(e.code)}};
    return json{{"error", error}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

int jsonNestingDepth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') inString = true;
        else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if (c == ']' || c == '}') --depth;
    }
    return deepest;
}

std::vector<EncodedImage*> imagesToFetch(ChatRequest& request) {
    std::vector<EncodedImage*> out;
    auto collect = [&](ApiMessage& m) {
        for (EncodedImage& image : m.images)
            if (!image.url.empty() && image.bytes.empty()) out.push_back(&image);
    };
    for (ChatRequest::Exchange& e : request.history) collect(e.user);
    collect(request.last);
    return out;
}

std::optional<EncodedImage> parseImageUrl(std::string_view url, const std::string& where, ApiError* error,
                                          bool allowUrls) {
    auto startsWith = [&](std::string_view p) {
        if (url.size() < p.size()) return false;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(url[i])) != p[i]) return false;
        return true;
    };
    if (startsWith("http://") || startsWith("https://")) {
        if (allowUrls) {
            EncodedImage out;
            out.url = std::string(url);
            return out;
        }
        return *error = invalid(where, "image URLs are not fetched (the server works offline unless started with "
                                       "--allow-image-urls); send the image as a data: URL, e.g. data:image/png;base64,...",
                                "image_url_not_allowed"),
               std::nullopt;
    }
    if (!startsWith("data:"))
        return *error = invalid(where, "only data: URLs with base64 PNG, JPEG or WebP images are accepted (no local "
                                       "paths or file: URLs)",
                                "invalid_image_url"),
               std::nullopt;
    const std::size_t comma = url.find(',');
    if (comma == std::string_view::npos)
        return *error = invalid(where, "malformed data: URL (no ',' before the data)", "invalid_image_url"), std::nullopt;
    std::string header(url.substr(5, comma - 5));
    for (char& c : header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t semi = header.find(";base64");
    if (semi == std::string::npos || semi + 7 != header.size())
        return *error = invalid(where, "data: URL must be base64 (data:image/png;base64,...)", "invalid_image_url"),
               std::nullopt;
    EncodedImage out;
    out.mimeType = header.substr(0, semi);
    if (out.mimeType == "image/jpg") out.mimeType = "image/jpeg";
    if (out.mimeType != "image/png" && out.mimeType != "image/jpeg" && out.mimeType != "image/webp")
        return *error = invalid(where, "image type \"" + out.mimeType + "\" is not supported (image/png, image/jpeg, image/webp)",
                                "unsupported_image_type"),
               std::nullopt;
    const std::string_view data = url.substr(comma + 1);
    auto decoded = QByteArray::fromBase64Encoding(QByteArray::fromRawData(data.data(), static_cast<qsizetype>(data.size())),
                                                  QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.isEmpty())
        return *error = invalid(where, "the data: URL's base64 is invalid or empty", "invalid_base64"), std::nullopt;
    out.bytes.assign(decoded.decoded.constData(), static_cast<std::size_t>(decoded.decoded.size()));
    return out;
}

ChatRequestParse parseChatRequest(std::string_view body, const RequestLimits& limits,
                                  const llava::SamplingParams& defaults) {
    ChatRequestParse result;
    ApiError& error = result.error;
    if (jsonNestingDepth(body, limits.maxJsonDepth) > limits.maxJsonDepth) {
        error = invalid("", "JSON nested deeper than " + std::to_string(limits.maxJsonDepth) + " levels", "invalid_json");
        return result;
    }
    const json parsed = json::parse(body.begin(), body.end(), nullptr, false);
    if (parsed.is_discarded()) {
        error = invalid("", "the request body is not valid JSON", "invalid_json");
        return result;
    }
    if (!parsed.is_object()) {
        error = wrongType("", parsed, "a JSON object");
        error.message = "the request body must be a JSON object, got " + typeName(parsed);
        return result;
    }
    ChatRequest request;
    request.sampling = defaults;
    const auto model = parsed.find("model");
    if (model == parsed.end() || !model->is_string()) {
        error = invalid("model", "missing or not a string (GET /v1/models lists the served model)",
                        model == parsed.end() ? "missing_model" : "invalid_type");
        return result;
    }
    request.model = model->get<std::string>();
    const auto messages = parsed.find("messages");
    if (messages == parsed.end()) {
        error = invalid("messages", "missing", "missing_messages");
        return result;
    }
    if (!readMessages(*messages, limits, &request, &error)) return result;
    if (!readSampling(parsed, limits, &request.sampling, &error)) return result;
    if (!readBool(parsed, "stream", &request.stream, &error)) return result;
    if (!readBool(parsed, "return_token_ids", &request.returnTokenIds, &error)) return result;
    const auto options = parsed.find("stream_options");
    if (options != parsed.end() && !options->is_null()) {
        if (!options->is_object()) {
            error = wrongType("stream_options", *options, "an object");
            return result;
        }
        if (!readBool(*options, "include_usage", &request.includeUsage, &error)) {
            error.param = "stream_options.include_usage";
            return result;
        }
    }
    const auto tools = parsed.find("tools");
    if (tools != parsed.end() && !tools->is_null() && !(tools->is_array() && tools->empty())) {
        error = invalid("tools", "tool calling is not supported by this server", "unsupported_parameter");
        return result;
    }
    // logprobs / top_logprobs (OpenAI: top_logprobs needs logprobs: true). The engine computes N alternatives
    // per token (SamplingParams::logprobs); at least 1 so the chosen token's own log-probability is there.
    bool logprobs = false;
    if (!readBool(parsed, "logprobs", &logprobs, &error)) return result;
    std::optional<long long> top;
    if (!readInt(parsed, "top_logprobs", 0, 20, &top, &error)) return result;
    if (top && !logprobs) {
        error = invalid("top_logprobs", "needs \"logprobs\": true", "invalid_value");
        return result;
    }
    if (logprobs) {
        request.topLogprobs = static_cast<int>(top.value_or(0));
        request.sampling.logprobs = std::max(1, request.topLogprobs);
    }
    result.request = std::move(request);
    return result;
}

}  // namespace server
