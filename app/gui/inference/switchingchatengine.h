// The app's ChatEngine: a local engine (LlavaChatEngine) or a RemoteChatEngine, chosen per load request,
// so Settings -> Backend switches between "Local model" and "OpenAI-compatible server" at run time without
// a restart. A LoadRequest with `remote` set connects to that server; one without loads a local folder.
// The switch happens only when the new load succeeds: a server that cannot be reached (or a folder that
// does not load) leaves the engine that answered before answering. LoadRequest::reuseLocal switches back
// to the local model still loaded, without reading it again. The local model stays loaded while a
// server answers (switching back is instant, and "Serve this model" keeps working). Inference thread only.
#pragma once

#include <memory>

#include "chatengine.h"

class SwitchingChatEngine : public ChatEngine {
public:
    explicit SwitchingChatEngine(std::unique_ptr<ChatEngine> local);
    ~SwitchingChatEngine() override;

    llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) override;
    bool isLoaded() const override { return m_active && m_active->isLoaded(); }
    llava::Result<llava::GenerationStats> reply(const GenerationRequest& request, const llava::TokenCallback& onToken,
                                                const llava::CancelPredicate& cancel) override;
    llava::Result<llava::ContextPlan> plan(const GenerationRequest& request) override;
    void clear() override;
    // The active engine's (a remote server cannot capture attention: Unsupported).
    llava::Result<ExplainResult> explain(const ExplainRequest& request, const llava::CancelPredicate& cancel) override;
    int contextUsed() const override { return m_active ? m_active->contextUsed() : 0; }
    int contextLimit() const override { return m_active ? m_active->contextLimit() : 0; }
    std::optional<ServerUsage> lastServerUsage() const override;
    bool runOnLocalEngine(const std::function<void(llava::Engine&)>& job) override;

    bool remoteActive() const { return m_active != nullptr && m_active == m_remote.get(); }

private:
    std::unique_ptr<ChatEngine> m_local;
    std::unique_ptr<ChatEngine> m_remote;  // the connected server, if any
    ChatEngine* m_active = nullptr;        // m_local or m_remote; null before the first successful load
    std::optional<ModelInfo> m_localInfo;  // what the local engine holds (for LoadRequest::reuseLocal)
};
