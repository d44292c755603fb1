// The one inference API of Llava Insight, used by the GUI worker thread, the CLI and the tests.
//   auto engine = Engine::load(dir, options, progress);          // picks CPU or CUDA (registry)
//   ChatSession& chat = engine->session();
//   chat.reply({"What is this?", {image}}, sampling, onToken, cancel);   // streams TokenEvents
// An Engine and its session are used from exactly one thread (the inference thread); nothing here is
// global. Weights are uploaded once at load; the KV cache is sized from EngineOptions::contextLength
// and allocated once; multi-turn chats reuse the cache of earlier turns (only new tokens are prefilled).
//
// A chat continued later (another chat was active meanwhile, or the app restarted) is given back to a
// session with restore(): the next reply then runs on exactly the token sequence the live conversation
// would have had (same template rendering, same image splice), so greedy answers match.
//
// Context overflow policy: REFUSE. When a message (its text, image tokens and the reply headroom of
// one token) does not fit in the free context, reply() returns ErrorCode::OutOfRange with a message
// naming the tokens needed and free, and the session is left unchanged (the user clears the chat or
// loads with a larger context). A reply that reaches the limit while generating stops with
// StopReason::ContextFull; the text produced so far is kept in the history.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llava/anyres.h"
#include "llava/backend.h"
#include "llava/image.h"
#include "llava/modelconfig.h"
#include "llava/sampler.h"
#include "llava/status.h"

namespace llava {

// Whether Engine::load checks the memory plan (memoryplan.h) before it allocates anything on the CPU backend.
enum class MemoryCheck : std::uint8_t { Refuse, Skip };  // Refuse: OutOfMemory with the numbers when it cannot fit

struct EngineOptions {
    BackendKind backend = BackendKind::Auto;
    const BackendRegistry* registry = nullptr;   // nullptr: a CPU-only registry
    int threads = 0;                             // CPU threads, 0 = all
    WeightPrecision precision = WeightPrecision::AsStored;
    int contextLength = 4096;                    // KV cache rows; clamped to the model's max positions
    std::optional<Reference> reference;          // default: the checkpoint layout's reference
    std::string templateName;                    // empty: ModelConfig::templateName
    std::filesystem::path tokenizerPath;         // empty: <modelDir>/tokenizer.model
    // CPU backend: weights at `precision` + KV cache + scratch must fit in this many bytes, else load() fails
    // with OutOfMemory naming the numbers and the precision that would fit (never an OOM kill). 0 = the
    // host's MemAvailable. The CUDA backend checks free VRAM itself (BackendRequest::requiredBytes).
    MemoryCheck memoryCheck = MemoryCheck::Refuse;
    std::uint64_t hostMemoryBudget = 0;
};

// Called during load with bytes processed so far; return false to cancel (load -> Cancelled).
// stage: "config", "tokenizer", "weights", "kv-cache".
using LoadProgress = std::function<bool(std::uint64_t bytesDone, std::uint64_t bytesTotal, std::string_view stage)>;

struct BackendReport {
    std::string name;             // "cpu" / "cuda"
    std::string device;
    std::string fallbackReason;   // why Auto did not use CUDA; empty otherwise
    WeightPrecision precision = WeightPrecision::AsStored;
    BackendMemory memory;
};

struct UserMessage {
    std::string text;
    std::vector<RgbImage> images;   // each becomes one "<image>\n" before the text; only in the first message
                                    // of a chat (as ORIG); images in later messages -> InvalidArgument
};

// One completed exchange of an earlier conversation, for ChatSession::restore().
struct ChatExchange {
    std::string user;               // the message text as it was sent
    std::vector<RgbImage> images;   // the message's images; only the first exchange may have any
    std::string assistant;          // the reply as kept: the concatenation of its streamed pieces
};

// The concatenated pieces of a reply are exactly its kept text. A piece may be empty while a character is
// split or while text could still be the start of a stop string (held back, never shown if it completes).
// The last event of a reply may carry id -1: text flushed at the end (held-back text, U+FFFD for the bytes
// of an unfinished character); it is no token.
struct TokenEvent {
    std::int32_t id = 0;            // -1: end-of-reply flush (see above)
    std::string piece;              // UTF-8 safe text for this token
};

enum class StopReason { Eos, StopString, MaxTokens, ContextFull, Cancelled };
std::string_view stopReasonName(StopReason reason);

struct GenerationStats {
    double imageEncodeMs = 0;       // CLIP + projector + merge, all images of the message
    double prefillMs = 0;
    double prefillTokPerS = 0;
    double decodeTokPerS = 0;
    double timeToFirstTokenMs = 0;  // from reply() entry to the first TokenEvent
    int imageTokens = 0;
    int textTokens = 0;             // new prompt tokens of this turn (excluding image tokens)
    int generatedTokens = 0;
    StopReason stopReason = StopReason::Eos;
};

// Return false to stop generating (StopReason::Cancelled; the reply so far is kept).
using TokenCallback = std::function<bool(const TokenEvent&)>;
// Polled between tokens, between layers and between prefill chunks; true = stop now.
using CancelPredicate = std::function<bool()>;

// Named intermediates for parity tests: "vision.selected" (nCrops*576, dVision), "projector.out"
// (nCrops*576, dModel), "image.merged" (imageTokens, dModel), "logits" (nVocab) per step.
using DebugHook = std::function<void(std::string_view name, std::span<const float> data, const Shape& shape)>;

class ChatSession {
public:
    virtual ~ChatSession() = default;
    // Cancelled (with the partial reply kept) is reported through stats.stopReason, not as an error;
    // a cancel during image encoding or prefill returns ErrorCode::Cancelled and leaves the session
    // as it was before the call (same turns; contextUsed() may shrink to the still-valid cached prefix,
    // the next reply re-prefills the rest and gives the same result). An empty message (no text, no
    // image) -> InvalidArgument; an image with empty text is a valid message.
    virtual Result<GenerationStats> reply(const UserMessage& message, const SamplingParams& sampling,
                                          const TokenCallback& onToken, const CancelPredicate& cancel) = 0;
    virtual void clear() = 0;                   // forget all turns (KV cache reset); keeps the system prompt
    virtual int contextUsed() const = 0;        // tokens in the KV cache
    virtual int contextLimit() const = 0;
    virtual int turns() const = 0;              // completed user/assistant exchanges

    // Replaces the conversation with `exchanges` (oldest first), as if each had been sent with reply()
    // and answered with exactly its `assistant` text. Lazy: nothing is encoded or prefilled here; the
    // next reply() encodes the first exchange's images (counted in its imageEncodeMs) and prefills the
    // whole rendered conversation, so turns() == exchanges.size() at once but contextUsed() is 0 until
    // then. That reply renders and tokenises the conversation exactly like the live session did at the
    // same turn (its cache held the same ids, with the same image rows), hence the same greedy tokens
    // and contextUsed(). A conversation longer than the context is refused by that reply (OutOfRange).
    // An empty list is clear(). A cancelled or failed reply keeps the restored turns for a retry.
    // Errors (the session is left unchanged): images in a later exchange, an exchange with neither
    // text nor images, an invalid image -> InvalidArgument.
    virtual Status restore(const std::vector<ChatExchange>& exchanges) = 0;

    // The template's system slot for every following reply; "" (the default) = the template's own
    // prompt. llava_v1 / vicuna_v1 / chatml_direct replace their built-in prompt; the Llama-2 style
    // templates (mistral_instruct, llava_llama_2) put it in a <<SYS>> block of the first [INST], as ORIG
    // conversation.py does. Changing it mid-chat re-renders the whole conversation: the next reply
    // re-prefills from the first token that differs (usually all of it). Survives clear() and restore().
    virtual void setSystemPrompt(std::string prompt) = 0;
    virtual const std::string& systemPrompt() const = 0;
};

class Engine {
public:
    static Result<std::unique_ptr<Engine>> load(const std::filesystem::path& modelDir, const EngineOptions& options,
                                                const LoadProgress& progress = {});
    virtual ~Engine() = default;

    virtual const ModelConfig& config() const = 0;
    virtual BackendReport backendReport() const = 0;
    virtual Reference reference() const = 0;
    // The anyres layout (canvas, tiles, unpadded map, token count) an image of this size would get.
    virtual Result<ImageLayout> planImage(int width, int height) const = 0;
    virtual ChatSession& session() = 0;
    virtual void setDebugHook(DebugHook hook) = 0;
};

}  // namespace llava
