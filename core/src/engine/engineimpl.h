// The Engine implementation: owns backend, checkpoint, tokenizer and model; ChatSessionImpl keeps the
// conversation (turns, cached ids, image features) and reuses the KV cache across turns by prefilling
// only the ids after the longest common prefix with what is already cached.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "llava/chattemplate.h"
#include "llava/engine.h"
#include "llava/tokenizer.h"
#include "model/llavamodel.h"

namespace llava {

class EngineImpl;

class ChatSessionImpl final : public ChatSession {
public:
    explicit ChatSessionImpl(EngineImpl& engine) : m_engine(engine) {}
    Result<GenerationStats> reply(const UserMessage& message, const SamplingParams& sampling,
                                  const TokenCallback& onToken, const CancelPredicate& cancel) override;
    void clear() override;
    int contextUsed() const override { return static_cast<int>(m_cachedIds.size()); }
    int contextLimit() const override;
    int turns() const override { return static_cast<int>(m_turns.size() / 2); }
    Status restore(const std::vector<ChatExchange>& exchanges) override;
    Result<ContextPlan> plan(const UserMessage& message) const override;
    void setSystemPrompt(std::string prompt) override { m_systemPrompt = std::move(prompt); }
    const std::string& systemPrompt() const override { return m_systemPrompt; }

private:
    // One image of the conversation. `key` (< -1, unique in this session, never reused) marks its rows in
    // m_cachedIds, so a cache prefix only matches rows of the very same image at the same positions.
    struct ConversationImage {
        std::int32_t key = -2;
        ImageLayout layout;           // planned when the image joins (reply or restore), before encoding
        RgbImage pixels;              // until encoded (restored images are encoded by the next reply)
        std::vector<float> features;  // (imageTokens, dModel); empty until encoded
        bool encoded() const { return !features.empty(); }
    };
    // The whole conversation plus the next user message as the model consumes it, planned before any
    // image is encoded: image rows carry their image's key; positions tell where each image's rows go.
    struct ConversationIds {
        std::vector<std::int32_t> ids;  // (nPositions): text ids, image rows = the image's key
        std::vector<int> imagePositions; // (nImages): first row of each image, conversation order
        int nImageTokens = 0;
        int nTextTokens = 0;
    };
    static constexpr std::int32_t kNewImageKey = -1;  // rows of the next message's images until reply() keys them
    Result<ImageLayout> plannedLayout(const RgbImage& image) const;  // validated, anyres layout only
    // `next`: the next user message; imageTokenCounts: every image of the conversation, next's last.
    Result<ConversationIds> conversationIds(const ChatTurn& next, const std::vector<int>& imageTokenCounts) const;
    Result<ContextPlan> contextPlan(const std::vector<int>& imageTokenCounts, int messageImages,
                                    const ConversationIds& conversation) const;
    // OutOfRange naming every count when the conversation (+1 reply token) exceeds the context.
    Status refuseIfTooLong(const std::vector<int>& imageTokenCounts, int messageImages,
                           const ConversationIds& conversation) const;
    Status checkTextSize(const std::string& nextText) const;

    EngineImpl& m_engine;
    std::vector<ChatTurn> m_turns;         // user turns carry their image count
    std::vector<ConversationImage> m_images;  // every image of m_turns, oldest first
    std::vector<std::int32_t> m_cachedIds; // ids whose K/V are in the cache (image rows as their key)
    std::int32_t m_nextKey = -2;           // next image key; -1 is the model's "not a token" id
    std::string m_systemPrompt;            // "" = the template's own
};

class EngineImpl final : public Engine {
public:
    const ModelConfig& config() const override { return m_checkpoint->config(); }
    BackendReport backendReport() const override;
    Reference reference() const override { return m_reference; }
    Result<ImageLayout> planImage(int width, int height) const override;
    ChatSession& session() override { return *m_session; }
    void setDebugHook(DebugHook hook) override { m_model->setDebugHook(std::move(hook)); }

    std::unique_ptr<Backend> m_backend;
    std::unique_ptr<Checkpoint> m_checkpoint;
    std::unique_ptr<Tokenizer> m_tokenizer;
    std::unique_ptr<LlavaModel> m_model;
    std::unique_ptr<ChatSessionImpl> m_session;
    ChatTemplateInfo m_template;
    Reference m_reference = Reference::Original;
    WeightPrecision m_precision = WeightPrecision::AsStored;
    std::string m_weightCacheNote;  // BackendReport::weightCache
    std::string m_fallbackReason;
    std::string m_selfCheckReport;
};

}  // namespace llava
