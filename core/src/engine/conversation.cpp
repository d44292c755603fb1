// The conversation side of ChatSessionImpl: clear(), restore(), plan() and the one rendering path that
// reply() and plan() share (template chunks -> ids, every image counted with its planned anyres token
// count), so a context meter shows exactly what reply() checks before it encodes anything. Images are
// positions in the rendered chunks (renderChatChunks), never text: a typed "<image>" stays text.
#include <numeric>

#include "engine/engineimpl.h"
#include "llava/prompt.h"

namespace llava {

namespace {

std::string joinedCounts(std::span<const int> counts) {
    std::string text;
    for (int n : counts) text += (text.empty() ? "" : " + ") + std::to_string(n);
    return text;
}

// "this message needs ..." with every number a user needs to decide what to remove (issue: 20 images
// refused only after encoding them all, and "clear the chat" offered for a first message).
std::string refusal(const ContextPlan& plan) {
    const std::span<const int> all(plan.imageTokens);
    const std::span<const int> mine = all.last(static_cast<std::size_t>(plan.messageImages));
    std::string text = "this message needs " + std::to_string(plan.messageTokens()) + " tokens";
    std::string parts;
    if (!mine.empty()) {
        const int sum = std::accumulate(mine.begin(), mine.end(), 0);
        parts = std::to_string(mine.size()) + (mine.size() == 1 ? " image: " : " images: ") +
                (mine.size() > 1 ? joinedCounts(mine) + " = " : "") + std::to_string(sum) + "; ";
    }
    text += " (" + parts + "text, template and 1 token of reply headroom: " +
            std::to_string(plan.messageTokens() - std::accumulate(mine.begin(), mine.end(), 0)) + ")";
    text += " but only " + std::to_string(std::max(0, plan.freeTokens())) + " of the " +
            std::to_string(plan.contextLimit) + "-token context are free";
    if (plan.earlierTokens > 0) text += " (the earlier conversation uses " + std::to_string(plan.earlierTokens) + ")";
    text += "; remove images";
    if (plan.earlierTokens > 0) text += ", start a new chat";
    text += " or load the model with a context of at least " + std::to_string(plan.neededTokens()) + " tokens";
    return text;
}

}  // namespace

int ChatSessionImpl::contextLimit() const { return m_engine.m_model->contextLength(); }

void ChatSessionImpl::clear() {
    m_turns.clear();
    m_images.clear();
    m_cachedIds.clear();
}

Status ChatSessionImpl::restore(const std::vector<ChatExchange>& exchanges) {
    std::vector<ChatTurn> turns;
    std::vector<ConversationImage> images;
    for (std::size_t i = 0; i < exchanges.size(); ++i) {
        const ChatExchange& e = exchanges[i];
        const std::string where = "restored exchange " + std::to_string(i + 1);
        if (e.user.empty() && e.images.empty())
            return makeError(ErrorCode::InvalidArgument, where + " has neither text nor images");
        for (const RgbImage& image : e.images) {
            auto layout = plannedLayout(image);
            if (!layout.isOk()) return makeError(layout.status().code(), where + ": " + layout.status().message());
            images.push_back({0, *layout, image, {}});
        }
        turns.push_back({ChatRole::User, e.user, static_cast<int>(e.images.size())});
        turns.push_back({ChatRole::Assistant, e.assistant, 0});
    }
    // The cache is dropped: the restored images get new keys, so none of its image rows could match.
    clear();
    for (ConversationImage& image : images) image.key = m_nextKey--;
    m_turns = std::move(turns);
    m_images = std::move(images);
    return Status::ok();
}

Result<ImageLayout> ChatSessionImpl::plannedLayout(const RgbImage& image) const {
    LLAVA_TRY(validateImage(image));
    return m_engine.planImage(image.width, image.height);
}

Status ChatSessionImpl::checkTextSize(const std::string& nextText) const {
    // Bounded work for any input: a text this long cannot fit even at the most bytes one token can cover,
    // so it is refused before it is copied or tokenised (a 40 MB prompt took 137 s and 4.5 GB before).
    std::uint64_t bytes = nextText.size() + m_systemPrompt.size();
    for (const ChatTurn& turn : m_turns) bytes += turn.text.size();
    const int perToken = m_engine.m_tokenizer->maxBytesPerToken();
    const std::uint64_t cap = static_cast<std::uint64_t>(contextLimit()) * static_cast<std::uint64_t>(perToken);
    if (bytes <= cap) return Status::ok();
    return makeError(ErrorCode::OutOfRange,
                     "the message is " + std::to_string(nextText.size()) + " bytes of text (the whole conversation " +
                         std::to_string(bytes) + ") but a " + std::to_string(contextLimit()) +
                         "-token context holds at most " + std::to_string(cap) + " bytes with this tokenizer (" +
                         std::to_string(perToken) + " bytes per token at most); shorten the message or load the "
                         "model with a longer context");
}

Result<ChatSessionImpl::ConversationIds> ChatSessionImpl::conversationIds(const ChatTurn& next,
                                                                          const std::vector<int>& imageTokenCounts) const {
    const Tokenizer& tokenizer = *m_engine.m_tokenizer;
    std::vector<ChatTurn> turns = m_turns;
    turns.push_back(next);
    RenderOptions render;
    render.flavour = m_engine.m_reference == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
    render.nImages = 0;  // every turn carries its own count
    render.systemPrompt = m_systemPrompt;
    LLAVA_ASSIGN_OR_RETURN(RenderedChat chat, renderChatChunks(m_engine.m_template.name, turns, render));
    PromptOptions promptOptions;
    promptOptions.addBos = tokenizer.defaultAddBos();
    LLAVA_ASSIGN_OR_RETURN(PromptTokens prompt, buildPrompt(tokenizer, chat, imageTokenCounts, promptOptions));

    ConversationIds out;
    out.ids.assign(prompt.hfIds.begin(), prompt.hfIds.end());
    out.nImageTokens = prompt.nImageTokens;
    out.nTextTokens = prompt.nTextTokens;
    out.imagePositions.assign(imageTokenCounts.size(), -1);
    for (const auto& seg : prompt.segments) {
        if (seg.kind != SegmentKind::Image) continue;
        const auto k = static_cast<std::size_t>(seg.imageIndex);
        const std::int32_t key = k < m_images.size() ? m_images[k].key : kNewImageKey;
        std::fill(out.ids.begin() + seg.begin, out.ids.begin() + seg.begin + seg.length, key);
        out.imagePositions[k] = seg.begin;
    }
    return out;
}

Result<ContextPlan> ChatSessionImpl::contextPlan(const std::vector<int>& imageTokenCounts, int messageImages,
                                                 const ConversationIds& conversation) const {
    ContextPlan plan;
    plan.contextLimit = contextLimit();
    plan.conversationTokens = static_cast<int>(conversation.ids.size());
    plan.textTokens = conversation.nTextTokens;
    plan.imageTokens = imageTokenCounts;
    plan.messageImages = messageImages;
    if (!m_turns.empty()) {  // the conversation so far, as it renders without the new message
        RenderOptions render;
        render.flavour = m_engine.m_reference == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
        render.nImages = 0;
        render.systemPrompt = m_systemPrompt;
        LLAVA_ASSIGN_OR_RETURN(RenderedChat chat, renderChatChunks(m_engine.m_template.name, m_turns, render));
        const std::vector<int> earlierCounts(imageTokenCounts.begin(), imageTokenCounts.end() - messageImages);
        PromptOptions promptOptions;
        promptOptions.addBos = m_engine.m_tokenizer->defaultAddBos();
        LLAVA_ASSIGN_OR_RETURN(PromptTokens earlier, buildPrompt(*m_engine.m_tokenizer, chat, earlierCounts, promptOptions));
        plan.earlierTokens = std::min(earlier.totalLength(), plan.conversationTokens);
    }
    return plan;
}

Result<ContextPlan> ChatSessionImpl::plan(const UserMessage& message) const {
    if (message.text.empty() && message.images.empty())
        return makeError(ErrorCode::InvalidArgument, "empty message: type a question or attach an image");
    LLAVA_TRY(checkTextSize(message.text));
    std::vector<int> counts;
    for (const ConversationImage& image : m_images) counts.push_back(image.layout.imageTokens);
    for (const RgbImage& image : message.images) {
        LLAVA_ASSIGN_OR_RETURN(ImageLayout layout, plannedLayout(image));
        counts.push_back(layout.imageTokens);
    }
    const ChatTurn next{ChatRole::User, message.text, static_cast<int>(message.images.size())};
    LLAVA_ASSIGN_OR_RETURN(ConversationIds conversation, conversationIds(next, counts));
    return contextPlan(counts, static_cast<int>(message.images.size()), conversation);
}

Status ChatSessionImpl::refuseIfTooLong(const std::vector<int>& imageTokenCounts, int messageImages,
                                        const ConversationIds& conversation) const {
    if (static_cast<int>(conversation.ids.size()) + 1 <= contextLimit()) return Status::ok();
    LLAVA_ASSIGN_OR_RETURN(ContextPlan plan, contextPlan(imageTokenCounts, messageImages, conversation));
    return makeError(ErrorCode::OutOfRange, refusal(plan));
}

}  // namespace llava
