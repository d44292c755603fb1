// One chat completion from start to answer, in two halves that meet through queued calls:
//   runChatJob()       on the inference thread: decodes the images, gives the conversation to the session
//                      (restore + reply) and reports each TokenEvent and the outcome;
//   CompletionWriter   on the server thread: turns those reports into OpenAI's response object, or into
//                      server-sent "chat.completion.chunk" events when the request streams.
// The writer delays the response head until the first report, so an error found before any token (bad
// image, context too long) is still a plain JSON error with its own status.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "httpserver.h"
#include "llava/engine.h"
#include "openairequest.h"

namespace server {

struct ChatOutcome {
    llava::Status status;            // not ok: nothing was generated (or decoding failed mid-way)
    llava::GenerationStats stats;
};

struct CompletionInfo {
    std::string id;           // "chatcmpl-..."
    std::int64_t created = 0; // unix seconds
    std::string model;
    std::string fingerprint;  // system_fingerprint
    bool stream = false;
    bool includeUsage = false;
    bool returnTokenIds = false;
    int topLogprobs = -1;     // -1: "logprobs": null; else choices[].logprobs.content with this many top_logprobs
};

class CompletionWriter {
public:
    CompletionWriter(CompletionInfo info, std::shared_ptr<HttpExchange> exchange);
    void onToken(const llava::TokenEvent& event);
    void onFinished(const ChatOutcome& outcome);
    const std::shared_ptr<HttpExchange>& exchange() const { return m_exchange; }

private:
    void startStream();
    std::string chunk(const std::string& choicesJson, const std::string& usageJson) const;

    CompletionInfo m_info;
    std::shared_ptr<HttpExchange> m_exchange;
    std::string m_text;
    std::vector<std::int32_t> m_tokenIds;
    std::string m_logprobs;  // non-streamed answer: the comma-separated entries of logprobs.content
    bool m_started = false;  // stream head and the role chunk sent
};

// One token of OpenAI's choices[].logprobs.content: {token, logprob, bytes, top_logprobs: [{token, logprob,
// bytes}...]} (`top` alternatives), plus "id" and "raw_logprob" (the model's own log-softmax before
// temperature/top-k/top-p) as in `chat --json --logprobs`. A log-probability of -inf (a token the sampling
// filters removed) is written as -9999.0, OpenAI's own stand-in, so clients that expect a number parse it.
std::string logprobEntryJson(const llava::TokenConfidence& confidence, int top);

// OpenAI's usage object: prompt = text + image tokens (split in prompt_tokens_details), completion tokens.
std::string usageJson(const llava::GenerationStats& stats);
// "stop" (EOS, stop string) | "length" (max tokens, context full).
const char* finishReason(llava::StopReason reason);
// A non-ok core Status -> the HTTP error to send (context overflow, bad image, internal error...).
ApiError apiErrorFor(const llava::Status& status);

// Inference-thread side. `report` and `finish` are called on the inference thread; the caller makes
// them post to the server thread. Never throws.
struct ChatJobCallbacks {
    std::function<void(const llava::TokenEvent&)> report;
    std::function<void(const ChatOutcome&)> finish;
};
void runChatJob(llava::Engine& engine, const ChatRequest& request, const std::shared_ptr<std::atomic<bool>>& cancel,
                const ChatJobCallbacks& callbacks);

}  // namespace server
