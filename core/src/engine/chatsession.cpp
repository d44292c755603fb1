// ChatSessionImpl::reply: render the whole conversation with the chat template, tokenise it with the
// image markers expanded (prompt.h), reuse the KV cache for the longest common prefix with the ids
// already cached, prefill the rest (image rows spliced from the first message's features), then
// sample until EOS / a stop string / maxNewTokens / the context limit / cancel. restore() only
// records turns and images: the same rendering path then rebuilds the cache on the next reply.
#include <algorithm>
#include <chrono>

#include "engine/engineimpl.h"
#include "engine/stopfilter.h"
#include "llava/detokenizer.h"
#include "llava/preprocess.h"
#include "llava/prompt.h"

namespace llava {
namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

int ChatSessionImpl::contextLimit() const { return m_engine.m_model->contextLength(); }

void ChatSessionImpl::clear() {
    m_turns.clear();
    m_images.clear();
    m_pendingImages.clear();
    m_cachedIds.clear();
}

Status ChatSessionImpl::restore(const std::vector<ChatExchange>& exchanges) {
    for (std::size_t i = 0; i < exchanges.size(); ++i) {
        const ChatExchange& e = exchanges[i];
        const std::string where = "restored exchange " + std::to_string(i + 1);
        if (e.user.empty() && e.images.empty())
            return makeError(ErrorCode::InvalidArgument, where + " has neither text nor images");
        if (i > 0 && !e.images.empty())
            return makeError(ErrorCode::InvalidArgument, where + " has images; only the first message of a chat can");
        for (const RgbImage& image : e.images) LLAVA_TRY(validateImage(image));
    }
    // The cache is dropped, not matched: its image rows are -1 whatever the image was.
    clear();
    for (const ChatExchange& e : exchanges) {
        m_turns.push_back({ChatRole::User, e.user});
        m_turns.push_back({ChatRole::Assistant, e.assistant});
    }
    if (!exchanges.empty()) m_pendingImages = exchanges.front().images;
    return Status::ok();
}

Status ChatSessionImpl::encodeImages(const std::vector<RgbImage>& images, const CancelPredicate& cancel) {
    const ModelConfig& config = m_engine.config();
    for (const RgbImage& image : images) {
        LLAVA_TRY(validateImage(image));
        LLAVA_ASSIGN_OR_RETURN(ImageLayout layout, m_engine.planImage(image.width, image.height));
        LLAVA_ASSIGN_OR_RETURN(PreprocessedImage pre, preprocessImage(image, layout, config.vision));
        LLAVA_ASSIGN_OR_RETURN(std::vector<float> features, m_engine.m_model->encodeImage(pre.pixels, layout, cancel));
        m_images.push_back({layout, std::move(features)});
    }
    return Status::ok();
}

Result<ChatSessionImpl::ConversationIds> ChatSessionImpl::conversationIds(const std::string& nextUserText) const {
    const Tokenizer& tokenizer = *m_engine.m_tokenizer;
    std::vector<ChatTurn> turns = m_turns;
    turns.push_back({ChatRole::User, nextUserText});
    RenderOptions render;
    render.flavour = m_engine.m_reference == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
    render.nImages = static_cast<int>(m_images.size());
    render.systemPrompt = m_systemPrompt;
    LLAVA_ASSIGN_OR_RETURN(std::string rendered, renderChat(m_engine.m_template.name, turns, render));
    std::vector<int> counts;
    for (const auto& img : m_images) counts.push_back(img.layout.imageTokens);
    PromptOptions promptOptions;
    promptOptions.addBos = tokenizer.defaultAddBos();
    LLAVA_ASSIGN_OR_RETURN(PromptTokens prompt, buildPrompt(tokenizer, rendered, counts, promptOptions));

    ConversationIds out;
    out.ids.assign(prompt.hfIds.begin(), prompt.hfIds.end());
    out.nImageTokens = prompt.nImageTokens;
    for (const auto& seg : prompt.segments) {
        if (seg.kind != SegmentKind::Image) continue;
        std::fill(out.ids.begin() + seg.begin, out.ids.begin() + seg.begin + seg.length, -1);
        out.slots.push_back({seg.begin, m_images[static_cast<std::size_t>(seg.imageIndex)].features});
    }
    return out;
}

Result<GenerationStats> ChatSessionImpl::reply(const UserMessage& message, const SamplingParams& sampling,
                                               const TokenCallback& onToken, const CancelPredicate& cancel) {
    const auto t0 = Clock::now();
    GenerationStats stats;
    // Weights may be read in place from the mapped shards; a shard truncated since load would fault
    // (SIGBUS) inside the next op. One fstat per shard here turns that into an error (docs/limits.md).
    LLAVA_TRY(m_engine.m_checkpoint->checkFilesUnchanged());
    if (message.text.empty() && message.images.empty())
        return makeError(ErrorCode::InvalidArgument, "empty message: type a question or attach an image");
    if (!message.images.empty() && !m_turns.empty())
        return makeError(ErrorCode::InvalidArgument,
                         "images can only be attached to the first message of a chat; clear the chat to ask about a new image");
    const ModelConfig& config = m_engine.config();
    const Tokenizer& tokenizer = *m_engine.m_tokenizer;
    LlavaModel& model = *m_engine.m_model;

    // Restored images (pending) are encoded first: they belong to the conversation's first message.
    // On any failure below they stay pending and the session is as restore() left it.
    const std::size_t imagesBefore = m_images.size();
    auto rollbackImages = [&] { m_images.resize(imagesBefore); };
    if (!message.images.empty() || !m_pendingImages.empty()) {
        const auto tImg = Clock::now();
        Status s = encodeImages(m_pendingImages, cancel);
        if (s.isOk()) s = encodeImages(message.images, cancel);
        if (!s.isOk()) return rollbackImages(), s;
        stats.imageEncodeMs = msSince(tImg);
    }

    auto conversation = conversationIds(message.text);
    if (!conversation.isOk()) return rollbackImages(), conversation.status();
    const std::vector<std::int32_t>& ids = conversation->ids;
    const std::vector<ImageSlot>& slots = conversation->slots;
    if (static_cast<int>(ids.size()) + 1 > contextLimit()) {
        rollbackImages();
        return makeError(ErrorCode::OutOfRange,
                         "the conversation needs " + std::to_string(ids.size() + 1) + " tokens but the context holds " +
                             std::to_string(contextLimit()) + "; clear the chat or load the model with a longer context");
    }
    // Longest common prefix with the cache; at least one new id must be run to get logits.
    std::size_t common = 0;
    while (common < m_cachedIds.size() && common < ids.size() && m_cachedIds[common] == ids[common]) ++common;
    if (common == ids.size()) --common;
    std::vector<ImageSlot> newSlots;
    for (const auto& slot : slots) {
        const int d = config.text.dModel;
        const int rows = static_cast<int>(slot.features.size()) / d;
        const int from = std::max(slot.position, static_cast<int>(common));
        if (from >= slot.position + rows) continue;
        newSlots.push_back({from - static_cast<int>(common),
                            slot.features.subspan(static_cast<std::size_t>(from - slot.position) * d)});
    }
    stats.imageTokens = conversation->nImageTokens;
    stats.textTokens = static_cast<int>(std::count_if(ids.begin() + static_cast<std::ptrdiff_t>(common), ids.end(),
                                                      [](std::int32_t id) { return id >= 0; }));
    const auto tPrefill = Clock::now();
    m_cachedIds.resize(common);  // rows past `common` get overwritten: on failure only the prefix stays valid
    Status s = model.prefill(std::span(ids).subspan(common), newSlots, static_cast<int>(common), cancel);
    if (!s.isOk()) return rollbackImages(), s;
    m_cachedIds = ids;
    m_pendingImages.clear();
    stats.prefillMs = msSince(tPrefill);
    stats.prefillTokPerS = static_cast<double>(ids.size() - common) / std::max(1e-9, stats.prefillMs / 1000.0);

    Sampler sampler(sampling);
    StreamingDetokenizer detok(tokenizer);
    std::vector<std::string> stops = m_engine.m_template.stopStrings;
    stops.insert(stops.end(), sampling.stopStrings.begin(), sampling.stopStrings.end());
    StopFilter filter(std::move(stops));
    std::string replyText;  // exactly the concatenation of every streamed piece
    std::vector<std::int32_t> history(ids.begin(), ids.end());
    const int nValid = std::min(config.text.nVocabText, config.text.nVocab);
    bool listenerStopped = false, stopString = false;
    stats.stopReason = StopReason::MaxTokens;
    // Plain greedy (no penalty) is an argmax: the backend picks the token and only its id comes back.
    const bool greedyOnBackend = sampling.temperature <= 0.0f && sampling.repetitionPenalty == 1.0f;
    std::int32_t picked = -1;  // the token the backend chose at the previous step (greedyOnBackend)
    const auto tDecode = Clock::now();
    for (int step = 0; step < sampling.maxNewTokens; ++step) {
        if (cancel && cancel()) { stats.stopReason = StopReason::Cancelled; break; }
        const auto& logits = model.logits();
        const std::int32_t id =
            picked >= 0 ? picked : sampler.sample(std::span(logits).first(static_cast<std::size_t>(nValid)), history);
        if (id == tokenizer.eosId() || id == config.text.eosId) { stats.stopReason = StopReason::Eos; break; }
        ++stats.generatedTokens;
        history.push_back(id);
        TokenEvent event{id, filter.push(detok.push(id), &stopString)};
        replyText += event.piece;
        if (stats.generatedTokens == 1) stats.timeToFirstTokenMs = msSince(t0);
        if (onToken && !onToken(event)) { listenerStopped = true; stats.stopReason = StopReason::Cancelled; break; }
        if (stopString) { stats.stopReason = StopReason::StopString; break; }
        if (contextUsed() + 1 > contextLimit()) { stats.stopReason = StopReason::ContextFull; break; }
        if (greedyOnBackend) {
            Result<std::int32_t> next = model.decodeGreedy(id, contextUsed(), nValid);
            if (!next.isOk()) return next.status();
            picked = *next;
        } else {
            Status d = model.decode(id, contextUsed());
            if (!d.isOk()) return d;
        }
        m_cachedIds.push_back(id);
    }
    if (!listenerStopped && !stopString) {
        // Bytes of an unfinished character (U+FFFD each) and text held back as a possible stop-string start.
        TokenEvent tail{-1, filter.push(detok.flush(), &stopString)};
        tail.piece += filter.flush();
        if (stopString) stats.stopReason = StopReason::StopString;
        if (!tail.piece.empty()) {
            replyText += tail.piece;
            if (onToken) onToken(tail);
        }
    }
    const double decodeS = msSince(tDecode) / 1000.0;
    stats.decodeTokPerS = stats.generatedTokens > 1 ? (stats.generatedTokens - 1) / std::max(1e-9, decodeS) : 0.0;
    m_turns.push_back({ChatRole::User, message.text});
    m_turns.push_back({ChatRole::Assistant, replyText});
    return stats;
}

}  // namespace llava
