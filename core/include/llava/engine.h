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
// Images may be attached to any user message: each renders as "<image>\n" at the start of its message
// (docs/chat-session.md: the rendering per template and reference). Text is text: a typed "<image>"
// is tokenised as characters; only attached images become image tokens.
//
// Context overflow policy: REFUSE, before any expensive work. A message's text longer than the context
// could ever hold (bytes > context x Tokenizer::maxBytesPerToken()) is refused before it is tokenised;
// otherwise the whole conversation is tokenised with every image's planned token count (anyres layout
// only, no image encoding) and, when it (plus the reply headroom of one token) does not fit, reply()
// returns ErrorCode::OutOfRange naming the tokens needed (text and each image) and free, with nothing
// encoded and the session unchanged (the user removes images, clears the chat or loads with a larger
// context). plan() gives the same numbers without replying. A reply that reaches the limit while
// generating stops with StopReason::ContextFull; the text produced so far is kept in the history.
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
#include "llava/machineceilings.h"
#include "llava/modelconfig.h"
#include "llava/sampler.h"
#include "llava/stages.h"
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
    // KV cache storage (backend.h): Auto = F16 where the weights are 16-bit or quantised and the backend reads
    // a 16-bit cache (CUDA, the CPU backend), else F32. F32 keeps exact fp32 keys/values (HF parity checks).
    KvCacheFormat kvCache = KvCacheFormat::Auto;
    std::optional<Reference> reference;          // default: the checkpoint layout's reference
    std::string templateName;                    // empty: ModelConfig::templateName
    std::filesystem::path tokenizerPath;         // empty: <modelDir>/tokenizer.model
    // Scan every weight for NaN/Inf before uploading (weightscan.h; reads every byte once): a bad tensor
    // fails the load with ParseError naming it. Off by default; without it, non-finite weights are caught
    // at the first reply as non-finite logits (ErrorCode::Internal naming the first bad stage).
    bool checkWeights = false;
    // Compare a CUDA backend op by op with the CPU before using it (selfcheck.h, ~0.1-0.5 s at load);
    // Skip for benchmarks (--no-selfcheck).
    SelfCheck selfCheck = SelfCheck::Run;
    // CPU backend: weights at `precision` + KV cache + scratch must fit in this many bytes, else load() fails
    // with OutOfMemory naming the numbers and the precision that would fit (never an OOM kill). 0 = the
    // host's MemAvailable. The CUDA backend checks free VRAM itself (BackendRequest::requiredBytes).
    MemoryCheck memoryCheck = MemoryCheck::Refuse;
    std::uint64_t hostMemoryBudget = 0;
    // q8/q4: keep the quantised weights in "<model>/llava-insight-<q8|q4>.qcache" (or under
    // weightCacheDir when the model folder is not writable) and read them from there at later loads
    // (docs/weight-cache.md). Off by default: library users and tests opt in; the CLI turns it on.
    bool weightCache = false;
    std::filesystem::path weightCacheDir;
};

// Called during load with bytes processed so far; return false to cancel (load -> Cancelled).
// stage: "config", "tokenizer", "check-weights" (only with EngineOptions::checkWeights), "weights", "kv-cache".
using LoadProgress = std::function<bool(std::uint64_t bytesDone, std::uint64_t bytesTotal, std::string_view stage)>;

struct BackendReport {
    std::string name;             // "cpu" / "cuda"
    std::string device;
    std::string fallbackReason;   // why Auto did not use CUDA; empty otherwise
    std::string notice;           // BackendInfo::notice ("threads 1000 clamped to 2: ..."); empty when none
    std::string selfCheckReport;  // the CUDA self-check's text when one ran (attach it to a bug report)
    WeightPrecision precision = WeightPrecision::AsStored;
    StorageFormat kvCacheFormat = StorageFormat::F32;  // what EngineOptions::kvCache resolved to: F32 or F16
    BackendMemory memory;
    std::string weightCache;      // q8/q4 with EngineOptions::weightCache: what the cache did; empty otherwise
};

struct UserMessage {
    std::string text;               // as typed; "<image>" in it is text
    std::vector<RgbImage> images;   // each becomes one "<image>\n" before the text, in any message of a chat
};

// One exchange of an earlier conversation, for ChatSession::restore().
struct ChatExchange {
    std::string user;               // the message text as it was sent
    std::vector<RgbImage> images;   // the message's images (any exchange may have some)
    std::string assistant;          // the reply as kept: the concatenation of its streamed pieces; "" for a
                                    // user message that was never answered (it stays in place, rendered
                                    // with an empty reply, exactly as a live reply that produced no text)
};

// What a conversation plus one more message occupies in the context, computed without encoding any
// image (anyres layouts and text tokenisation only): the numbers reply() checks before it encodes.
struct ContextPlan {
    int contextLimit = 0;           // KV cache rows
    int earlierTokens = 0;          // the conversation before the message (template, text, images)
    int conversationTokens = 0;     // the whole prompt of the next reply, this message included
    int textTokens = 0;             // text and template tokens of that prompt
    std::vector<int> imageTokens;   // per image of the conversation, oldest first; this message's last
    int messageImages = 0;          // how many of imageTokens belong to this message
    int neededTokens() const { return conversationTokens + 1; }   // + one token of reply headroom
    int messageTokens() const { return neededTokens() - earlierTokens; }
    int freeTokens() const { return contextLimit - earlierTokens; }
    bool fits() const { return neededTokens() <= contextLimit; }
};

// The concatenated pieces of a reply are exactly its kept text. A piece may be empty while a character is
// split or while text could still be the start of a stop string (held back, never shown if it completes).
// The last event of a reply may carry id -1: text flushed at the end (held-back text, U+FFFD for the bytes
// of an unfinished character); it is no token.
struct TokenEvent {
    std::int32_t id = 0;            // -1: end-of-reply flush (see above)
    std::string piece;              // UTF-8 safe text for this token
    // Only when SamplingParams::logprobs > 0 (and never on the id -1 flush): how sure the model was.
    std::optional<TokenConfidence> confidence;
};

enum class StopReason { Eos, StopString, MaxTokens, ContextFull, Cancelled };
std::string_view stopReasonName(StopReason reason);

struct GenerationStats {
    double imageEncodeMs = 0;       // CLIP + projector + merge, all images of the message
    double prefillMs = 0;
    double prefillTokPerS = 0;
    double decodeTokPerS = 0;
    double timeToFirstTokenMs = 0;  // from reply() entry to the first TokenEvent
    int imageTokens = 0;            // image tokens of the whole prompt (every image of the conversation)
    int imagesEncoded = 0;          // images run through CLIP by this reply (new or restored ones)
    int textTokens = 0;             // new prompt tokens of this turn (excluding image tokens)
    int prefillTokens = 0;          // prompt positions prefilled by this reply (new text and image rows);
                                    // the rest of the prompt was reused from the KV cache
    int generatedTokens = 0;
    StopReason stopReason = StopReason::Eos;
    std::vector<StageTiming> stages;  // the waterfall of this answer, in time order (llava/stages.h)
    // This machine's ceilings for the backend the answer ran on, when the caller attached them (the app on
    // the CPU backend, machineceilings.h); reply() leaves it empty: measuring is the caller's choice.
    std::optional<MachineCeilings> ceilings;
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
    // image) -> InvalidArgument; an image with empty text is a valid message. Images of earlier messages
    // are never encoded again: their cached rows are reused, only the new tokens are prefilled.
    virtual Result<GenerationStats> reply(const UserMessage& message, const SamplingParams& sampling,
                                          const TokenCallback& onToken, const CancelPredicate& cancel) = 0;
    virtual void clear() = 0;                   // forget all turns (KV cache reset); keeps the system prompt
    virtual int contextUsed() const = 0;        // tokens in the KV cache
    virtual int contextLimit() const = 0;
    virtual int turns() const = 0;              // completed user/assistant exchanges

    // Replaces the conversation with `exchanges` (oldest first), as if each had been sent with reply()
    // and answered with exactly its `assistant` text ("" included). Lazy: nothing is encoded or prefilled
    // here (only each image's anyres layout is planned); the next reply() encodes every restored image
    // (counted in its imageEncodeMs / imagesEncoded) and prefills the whole rendered conversation, so
    // turns() == exchanges.size() at once but contextUsed() is 0 until then. That reply renders and
    // tokenises the conversation exactly like the live session did at the same turn (its cache held the
    // same ids, with the same image rows), hence the same greedy tokens and contextUsed(). A conversation
    // longer than the context is refused by that reply (OutOfRange). An empty list is clear(). A
    // cancelled or failed reply keeps the restored turns (and any image it already encoded) for a retry.
    // Errors (the session is left unchanged): an exchange with neither text nor images, an invalid image
    // -> InvalidArgument.
    virtual Status restore(const std::vector<ChatExchange>& exchanges) = 0;

    // The context the conversation plus `message` would take (see ContextPlan); what a context meter
    // shows. Errors: as reply() before it encodes (empty message, invalid image, text that can never fit).
    virtual Result<ContextPlan> plan(const UserMessage& message) const = 0;

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
