// A ChatEngine that answers through an OpenAI-compatible server (vLLM, SGLang, llama-server, or another
// Llava Insight's `serve`) instead of a local llava::Engine. The inspector keeps working locally: load()
// gives it the model's config, from a config.json the user points to or from the built-in preset whose
// name the served model id contains ("llava-hf/llava-v1.6-mistral-7b-hf" -> llava-v1.6-mistral-7b), and
// reply() reports the server's prompt token count next to the local one (RemoteChatEngine::lastPromptTokens).
// Every call runs on the inference thread, blocking on a local event loop; the network objects are created
// there. Errors (unreachable, 401, model not found, context too long) come back as Status messages that
// say what happened in plain words.
// Not here: the settings UI that creates it (see docs/serving.md "Remote backends in the app").
#pragma once

#include <QJsonArray>
#include <QString>
#include <memory>
#include <vector>

#include "llava/chattemplate.h"
#include "llava/tokenizer.h"

#include "chatengine.h"
#include "remoteendpoint.h"

class RemoteChatEngine : public ChatEngine {
public:
    explicit RemoteChatEngine(RemoteEndpoint endpoint);
    ~RemoteChatEngine() override;

    // GET /v1/models: checks the server, the key and the model; LoadRequest::modelDir is ignored.
    llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) override;
    bool isLoaded() const override { return m_loaded; }
    // POST /v1/chat/completions with stream: true; the whole conversation is sent every time (servers keep
    // no chat state); the images of earlier turns are read from HistoryTurn::imagePaths.
    llava::Result<llava::GenerationStats> reply(const GenerationRequest& request, const llava::TokenCallback& onToken,
                                                const llava::CancelPredicate& cancel) override;
    // The server tokenises the prompt: there is no local plan to show before Send.
    llava::Result<llava::ContextPlan> plan(const GenerationRequest&) override {
        return llava::makeError(llava::ErrorCode::Unsupported, "the server counts the prompt when it answers");
    }
    void clear() override;
    int contextUsed() const override { return m_contextUsed; }
    int contextLimit() const override { return m_contextLimit; }

    // The prompt tokens the server reported for the last reply (0 if it did not say) and the local count of
    // the same prompt's image tokens: the app shows both when they differ.
    int lastPromptTokens() const { return m_lastPromptTokens; }
    int lastLocalImageTokens() const { return m_lastLocalImageTokens; }
    std::optional<ServerUsage> lastServerUsage() const override { return m_lastUsage; }
    // True when load() found a tokenizer, so lastServerUsage()->localPromptTokens is a real count.
    bool hasLocalTokenizer() const { return m_tokenizer != nullptr; }

private:
    struct Prompt {
        QJsonArray messages;                 // the request's "messages"
        std::vector<llava::ChatTurn> turns;  // the same conversation as the local template renders it
        std::vector<int> imageCounts;        // local anyres token count per image, oldest first
        int localImageTokens = 0;
        bool countable = true;               // every image had a local layout
    };
    llava::Result<Prompt> buildMessages(const GenerationRequest& request) const;
    void recordUsage(const GenerationRequest& request, const Prompt& prompt, int promptTokens, llava::GenerationStats& stats);

    RemoteEndpoint m_endpoint;
    bool m_loaded = false;
    QString m_model;
    llava::ModelConfig m_config;
    llava::Reference m_reference = llava::Reference::Transformers;
    int m_contextLimit = 0;
    int m_contextUsed = 0;
    int m_lastPromptTokens = 0;
    int m_lastLocalImageTokens = 0;
    std::optional<ServerUsage> m_lastUsage;
    std::shared_ptr<const llava::Tokenizer> m_tokenizer;  // null: no local text counts
};
