// ChatSessionImpl::reply: plan the whole conversation first (render with the chat template, every image
// counted from its anyres layout, tokenise; refuse when it cannot fit), then encode the images that
// are not encoded yet (this message's, or restored ones), reuse the KV cache for the longest common
// prefix with the ids already cached, prefill the rest (image rows spliced from each image's
// features), then sample until EOS / a stop string / maxNewTokens / the context limit / cancel.
// The conversation bookkeeping (restore, plan, rendering) is in conversation.cpp.
#include <algorithm>
#include <chrono>

#include "engine/confidence.h"
#include "engine/engineimpl.h"
#include "engine/stagerecording.h"
#include "engine/stopfilter.h"
#include "llava/detokenizer.h"
#include "llava/preprocess.h"

namespace llava {
namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

Result<GenerationStats> ChatSessionImpl::reply(const UserMessage& message, const SamplingParams& sampling,
                                               const TokenCallback& onToken, const CancelPredicate& cancel) {
    const auto t0 = Clock::now();
    GenerationStats stats;
    StageLog stageLog(t0);
    const StageLogBinding bindStageLog(*m_engine.m_model, &stageLog);
    // Weights may be read in place from the mapped shards; a shard truncated since load would fault
    // (SIGBUS) inside the next op. One fstat per shard here turns that into an error (docs/limits.md).
    LLAVA_TRY(m_engine.m_checkpoint->checkFilesUnchanged());
    if (message.text.empty() && message.images.empty())
        return makeError(ErrorCode::InvalidArgument, "empty message: type a question or attach an image");
    LLAVA_TRY(checkTextSize(message.text));
    const ModelConfig& config = m_engine.config();
    const Tokenizer& tokenizer = *m_engine.m_tokenizer;
    LlavaModel& model = *m_engine.m_model;

    // 1. Plan: layouts only, nothing encoded; the message's images are conversation images base.. .
    const std::size_t base = m_images.size();
    std::vector<ConversationImage> fresh;
    std::vector<int> counts;
    for (const ConversationImage& image : m_images) counts.push_back(image.layout.imageTokens);
    for (const RgbImage& image : message.images) {
        LLAVA_ASSIGN_OR_RETURN(ImageLayout layout, plannedLayout(image));
        counts.push_back(layout.imageTokens);
        fresh.push_back({m_nextKey--, layout, {}, {}});
    }
    const ChatTurn next{ChatRole::User, message.text, static_cast<int>(message.images.size())};
    LLAVA_ASSIGN_OR_RETURN(ConversationIds conversation, conversationIds(next, counts));
    LLAVA_TRY(refuseIfTooLong(counts, static_cast<int>(fresh.size()), conversation));
    std::vector<std::int32_t>& ids = conversation.ids;
    for (std::size_t k = 0; k < fresh.size(); ++k) {
        const int at = conversation.imagePositions[base + k];
        std::fill(ids.begin() + at, ids.begin() + at + fresh[k].layout.imageTokens, fresh[k].key);
    }

    // 2. Encode what is not encoded yet. Restored images keep their features even when this reply fails
    // later (they stay valid); the message's images only join m_images once their rows are prefilled.
    auto image = [&](std::size_t k) -> ConversationImage& { return k < base ? m_images[k] : fresh[k - base]; };
    const auto tImg = Clock::now();
    for (std::size_t k = 0; k < counts.size(); ++k) {
        ConversationImage& img = image(k);
        if (img.encoded()) continue;
        const RgbImage& pixels = k < base ? img.pixels : message.images[k - base];
        LLAVA_ASSIGN_OR_RETURN(PreprocessedImage pre, preprocessRecorded(pixels, img.layout, config.vision, m_engine.m_model->stageLog()));
        LLAVA_ASSIGN_OR_RETURN(img.features, model.encodeImage(pre.pixels, img.layout, cancel));
        img.pixels = RgbImage{};
        ++stats.imagesEncoded;
    }
    if (stats.imagesEncoded > 0) stats.imageEncodeMs = msSince(tImg);

    // 3. Longest common prefix with the cache (image rows match only the same image); at least one new
    // id must be run to get logits.
    std::size_t common = 0;
    while (common < m_cachedIds.size() && common < ids.size() && m_cachedIds[common] == ids[common]) ++common;
    if (common == ids.size()) --common;
    const int d = config.text.dModel;
    std::vector<ImageSlot> newSlots;
    for (std::size_t k = 0; k < counts.size(); ++k) {
        const int position = conversation.imagePositions[k];
        const std::span<const float> features(image(k).features);
        const int rows = static_cast<int>(features.size()) / d;
        const int from = std::max(position, static_cast<int>(common));
        if (from >= position + rows) continue;
        newSlots.push_back({from - static_cast<int>(common), features.subspan(static_cast<std::size_t>(from - position) * d)});
    }
    // The model reads image rows as "no token" (-1): the keys only serve the prefix match above.
    std::vector<std::int32_t> modelIds(ids.begin() + static_cast<std::ptrdiff_t>(common), ids.end());
    for (std::int32_t& id : modelIds) id = std::max(id, std::int32_t{-1});
    stats.imageTokens = conversation.nImageTokens;
    stats.prefillTokens = static_cast<int>(modelIds.size());
    stats.textTokens = static_cast<int>(std::count_if(ids.begin() + static_cast<std::ptrdiff_t>(common), ids.end(),
                                                      [](std::int32_t id) { return id >= 0; }));
    const auto tPrefill = Clock::now();
    m_cachedIds.resize(common);  // rows past `common` get overwritten: on failure only the prefix stays valid
    LLAVA_TRY(model.prefill(modelIds, newSlots, static_cast<int>(common), cancel));
    m_cachedIds = ids;
    // From here the cache holds the message's image rows; a failure below drops the images again (their
    // keys are never reused, so those cache rows can never match a later conversation).
    for (ConversationImage& img : fresh) m_images.push_back(std::move(img));
    auto dropMessageImages = [&] { m_images.resize(base); };
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
    // Confidence needs the whole logits row on the host, so it turns that shortcut off.
    const bool greedyOnBackend =
        sampling.temperature <= 0.0f && sampling.repetitionPenalty == 1.0f && sampling.logprobs <= 0;
    std::int32_t picked = -1;  // the token the backend chose at the previous step (greedyOnBackend)
    const auto tDecode = Clock::now();
    for (int step = 0; step < sampling.maxNewTokens; ++step) {
        if (cancel && cancel()) { stats.stopReason = StopReason::Cancelled; break; }
        const auto& logits = model.logits();
        const std::int32_t id =
            picked >= 0 ? picked : sampler.sample(std::span(logits).first(static_cast<std::size_t>(nValid)), history);
        if (id == tokenizer.eosId() || id == config.text.eosId) { stats.stopReason = StopReason::Eos; break; }
        ++stats.generatedTokens;
        TokenEvent event;
        if (sampling.logprobs > 0)  // before `id` joins the history: the penalty saw the history without it
            event.confidence = tokenConfidence(sampler, tokenizer, std::span(logits).first(static_cast<std::size_t>(nValid)),
                                               history, id, sampling.logprobs);
        history.push_back(id);
        event.id = id;
        event.piece = filter.push(detok.push(id), &stopString);
        replyText += event.piece;
        if (stats.generatedTokens == 1) stats.timeToFirstTokenMs = msSince(t0);
        if (onToken && !onToken(event)) { listenerStopped = true; stats.stopReason = StopReason::Cancelled; break; }
        if (stopString) { stats.stopReason = StopReason::StopString; break; }
        if (contextUsed() + 1 > contextLimit()) { stats.stopReason = StopReason::ContextFull; break; }
        if (greedyOnBackend) {
            Result<std::int32_t> chosen = model.decodeGreedy(id, contextUsed(), nValid);
            if (!chosen.isOk()) return dropMessageImages(), chosen.status();
            picked = *chosen;
        } else {
            Status decoded = model.decode(id, contextUsed());
            if (!decoded.isOk()) return dropMessageImages(), decoded;
        }
        m_cachedIds.push_back(id);
    }
    if (!listenerStopped && !stopString) {
        // Bytes of an unfinished character (U+FFFD each) and text held back as a possible stop-string start.
        TokenEvent tail{-1, filter.push(detok.flush(), &stopString), std::nullopt};
        tail.piece += filter.flush();
        if (stopString) stats.stopReason = StopReason::StopString;
        if (!tail.piece.empty()) {
            replyText += tail.piece;
            if (onToken) onToken(tail);
        }
    }
    const double decodeS = msSince(tDecode) / 1000.0;
    stats.decodeTokPerS = stats.generatedTokens > 1 ? (stats.generatedTokens - 1) / std::max(1e-9, decodeS) : 0.0;
    m_turns.push_back(next);
    m_turns.push_back({ChatRole::Assistant, replyText, 0});
    stats.stages = stageLog.finish();
    return stats;
}

}  // namespace llava
