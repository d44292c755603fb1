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
    void setSystemPrompt(std::string prompt) override { m_systemPrompt = std::move(prompt); }
    const std::string& systemPrompt() const override { return m_systemPrompt; }

private:
    struct EncodedImage {
        ImageLayout layout;
        std::vector<float> features;  // (imageTokens, dModel)
    };
    // The whole conversation plus the next user message as the model consumes it.
    struct ConversationIds {
        std::vector<std::int32_t> ids;  // (nPositions): image rows as -1
        std::vector<ImageSlot> slots;   // one per image, features of m_images
        int nImageTokens = 0;
    };
    Status encodeImages(const std::vector<RgbImage>& images, const CancelPredicate& cancel);
    Result<ConversationIds> conversationIds(const std::string& nextUserText) const;

    EngineImpl& m_engine;
    std::vector<ChatTurn> m_turns;
    std::vector<EncodedImage> m_images;    // images of the first message
    std::vector<RgbImage> m_pendingImages; // restored first-message images, encoded by the next reply
    std::vector<std::int32_t> m_cachedIds; // ids whose K/V are in the cache (image rows as -1)
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
    std::string m_fallbackReason;
    std::string m_selfCheckReport;
};

}  // namespace llava
