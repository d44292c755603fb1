// See chatcompletion.h. Response shapes follow OpenAI's chat.completion / chat.completion.chunk objects.
#include "chatcompletion.h"

#include <QByteArray>
#include <QString>

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>

#include "imagedecoder.h"

namespace server {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

llava::Status decodeImages(const ApiMessage& message, std::vector<llava::RgbImage>* out) {
    for (const EncodedImage& image : message.images) {
        const QByteArray bytes(image.bytes.data(), static_cast<qsizetype>(image.bytes.size()));
        LLAVA_ASSIGN_OR_RETURN(llava::RgbImage rgb, imageio::decodeImageBytes(bytes, QString::fromStdString(image.where)));
        out->push_back(std::move(rgb));
    }
    return llava::Status::ok();
}

ChatOutcome runChat(llava::Engine& engine, const ChatRequest& request, const std::shared_ptr<std::atomic<bool>>& cancel,
                    const ChatJobCallbacks& callbacks) {
    ChatOutcome outcome;
    auto fail = [&](llava::Status status) {
        outcome.status = std::move(status);
        return outcome;
    };
    if (cancel->load()) return fail(llava::makeError(llava::ErrorCode::Cancelled, "client disconnected while queued"));
    std::vector<llava::ChatExchange> history;
    for (const ChatRequest::Exchange& e : request.history) {
        llava::ChatExchange exchange{e.user.text, {}, e.assistant};
        if (auto s = decodeImages(e.user, &exchange.images); !s.isOk()) return fail(s);
        history.push_back(std::move(exchange));
    }
    llava::UserMessage last{request.last.text, {}};
    if (auto s = decodeImages(request.last, &last.images); !s.isOk()) return fail(s);

    llava::ChatSession& session = engine.session();
    session.setSystemPrompt(request.systemPrompt);
    // restore() drops the cache: every request is prefilled from its own messages (no state between requests).
    if (auto s = session.restore(history); !s.isOk()) return fail(s);
    auto onToken = [&](const llava::TokenEvent& event) {
        callbacks.report(event);
        return true;
    };
    auto stats = session.reply(last, request.sampling, onToken, [&cancel] { return cancel->load(); });
    if (!stats.isOk()) return fail(stats.status());
    outcome.stats = *stats;
    return outcome;
}

}  // namespace

void runChatJob(llava::Engine& engine, const ChatRequest& request, const std::shared_ptr<std::atomic<bool>>& cancel,
                const ChatJobCallbacks& callbacks) {
    ChatOutcome outcome;
    try {
        outcome = runChat(engine, request, cancel, callbacks);
    } catch (const std::exception& e) {
        outcome.status = llava::makeError(llava::ErrorCode::Internal, std::string("internal error: ") + e.what());
    }
    // The session keeps no request's conversation once it is answered (memory, privacy between clients).
    engine.session().clear();
    callbacks.finish(outcome);
}

std::string usageJson(const llava::GenerationStats& s) {
    const int prompt = s.textTokens + s.imageTokens;
    return dump({{"prompt_tokens", prompt},
                 {"completion_tokens", s.generatedTokens},
                 {"total_tokens", prompt + s.generatedTokens},
                 {"prompt_tokens_details", {{"cached_tokens", 0}, {"text_tokens", s.textTokens}, {"image_tokens", s.imageTokens}}}});
}

namespace {
json tokenLogprobJson(const llava::TokenLogprob& t) {
    auto finite = [](double v) { return std::isfinite(v) ? v : -9999.0; };
    std::vector<int> bytes(t.token.begin(), t.token.end());
    for (int& b : bytes) b &= 0xff;
    return {{"token", t.token}, {"logprob", finite(t.logprob)}, {"bytes", bytes}, {"id", t.id},
            {"raw_logprob", finite(t.rawLogprob)}};
}
}  // namespace

std::string logprobEntryJson(const llava::TokenConfidence& confidence, int top) {
    json entry = tokenLogprobJson(confidence.chosen);
    entry["top_logprobs"] = json::array();
    for (std::size_t i = 0; i < confidence.top.size() && static_cast<int>(i) < top; ++i)
        entry["top_logprobs"].push_back(tokenLogprobJson(confidence.top[i]));
    return dump(entry);
}

const char* finishReason(llava::StopReason reason) {
    switch (reason) {
    case llava::StopReason::Eos:
    case llava::StopReason::StopString: return "stop";
    case llava::StopReason::MaxTokens:
    case llava::StopReason::ContextFull: return "length";
    case llava::StopReason::Cancelled: return "cancelled";
    }
    return "stop";
}

ApiError apiErrorFor(const llava::Status& status) {
    ApiError e;
    e.message = status.message();
    switch (status.code()) {
    case llava::ErrorCode::OutOfRange: e.code = "context_length_exceeded"; break;
    case llava::ErrorCode::ParseError: e.code = "invalid_image"; break;
    case llava::ErrorCode::InvalidArgument: e.code = "invalid_request"; break;
    case llava::ErrorCode::Unsupported: e.code = "unsupported"; break;
    case llava::ErrorCode::Cancelled:
        e.status = 503;
        e.type = "server_error";
        e.code = "cancelled";
        break;
    default:
        e.status = 500;
        e.type = "server_error";
        e.code = "internal_error";
        e.message = std::string(llava::errorCodeName(status.code())) + ": " + status.message();
    }
    return e;
}

// ---- CompletionWriter ----

CompletionWriter::CompletionWriter(CompletionInfo info, std::shared_ptr<HttpExchange> exchange)
    : m_info(std::move(info)), m_exchange(std::move(exchange)) {}

std::string CompletionWriter::chunk(const std::string& choicesJson, const std::string& usage) const {
    json head = {{"id", m_info.id},
                 {"object", "chat.completion.chunk"},
                 {"created", m_info.created},
                 {"model", m_info.model},
                 {"system_fingerprint", m_info.fingerprint}};
    std::string text = dump(head);
    text.pop_back();  // splice the pre-serialised parts in before the closing brace
    text += ",\"choices\":" + choicesJson;
    if (m_info.includeUsage) text += ",\"usage\":" + usage;
    return "data: " + text + "}\n\n";
}

void CompletionWriter::startStream() {
    if (m_started) return;
    m_started = true;
    m_exchange->beginStream(200, "text/event-stream", {{"X-Accel-Buffering", "no"}});
    const json choice = {{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                         {"finish_reason", nullptr}};
    m_exchange->writeChunk(chunk(dump(json::array({choice})), "null"));
}

void CompletionWriter::onToken(const llava::TokenEvent& event) {
    if (event.id >= 0) m_tokenIds.push_back(event.id);
    // Every generated token gets its entry, also one whose text is held back (a split character).
    const bool withLogprobs = m_info.topLogprobs >= 0 && event.id >= 0 && event.confidence.has_value();
    const std::string entry = withLogprobs ? logprobEntryJson(*event.confidence, m_info.topLogprobs) : std::string();
    if (!m_info.stream) {
        m_text += event.piece;
        if (withLogprobs) m_logprobs += (m_logprobs.empty() ? "" : ",") + entry;
        return;
    }
    startStream();
    const bool withId = m_info.returnTokenIds && event.id >= 0;
    if (event.piece.empty() && !withId && !withLogprobs) return;
    json choice = {{"index", 0}, {"delta", {{"content", event.piece}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (withId) choice["token_ids"] = {event.id};
    if (withLogprobs) choice["logprobs"] = {{"content", json::array({json::parse(entry)})}};
    m_exchange->writeChunk(chunk(dump(json::array({choice})), "null"));
}

void CompletionWriter::onFinished(const ChatOutcome& outcome) {
    if (m_exchange->clientGone()) return;
    if (!outcome.status.isOk()) {
        const ApiError error = apiErrorFor(outcome.status);
        if (!m_started) {
            m_exchange->respond(error.status, "application/json", apiErrorJson(error));
        } else {  // the head is out: report in-band, as OpenAI-compatible servers do
            m_exchange->writeChunk("data: " + apiErrorJson(error) + "\n\n");
            m_exchange->endStream();
        }
        return;
    }
    const llava::GenerationStats& s = outcome.stats;
    if (!m_info.stream) {
        json choice = {{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", m_text}}},
                       {"logprobs", nullptr},
                       {"finish_reason", finishReason(s.stopReason)}};
        if (m_info.returnTokenIds) choice["token_ids"] = m_tokenIds;
        if (m_info.topLogprobs >= 0) choice["logprobs"] = {{"content", json::parse("[" + m_logprobs + "]")}};
        json body = {{"id", m_info.id},
                     {"object", "chat.completion"},
                     {"created", m_info.created},
                     {"model", m_info.model},
                     {"system_fingerprint", m_info.fingerprint},
                     {"choices", json::array({choice})},
                     {"usage", json::parse(usageJson(s))}};
        m_exchange->respond(200, "application/json", dump(body));
        return;
    }
    startStream();
    const json last = {{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr},
                       {"finish_reason", finishReason(s.stopReason)}};
    m_exchange->writeChunk(chunk(dump(json::array({last})), "null"));
    if (m_info.includeUsage) m_exchange->writeChunk(chunk("[]", usageJson(s)));
    m_exchange->writeChunk("data: [DONE]\n\n");
    m_exchange->endStream();
}

}  // namespace server
