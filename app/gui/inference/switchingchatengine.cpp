// See switchingchatengine.h.
#include "switchingchatengine.h"

#include "remotechatengine.h"

SwitchingChatEngine::SwitchingChatEngine(std::unique_ptr<ChatEngine> local) : m_local(std::move(local)) {}
SwitchingChatEngine::~SwitchingChatEngine() = default;

llava::Result<ModelInfo> SwitchingChatEngine::load(const LoadRequest& request, const Progress& progress) {
    if (request.remote) {
        auto remote = std::make_unique<RemoteChatEngine>(*request.remote);
        auto info = remote->load(request, progress);
        if (!info.isOk()) return info;  // whatever answered before keeps answering
        m_remote = std::move(remote);
        m_active = m_remote.get();
        return info;
    }
    if (request.reuseLocal) {
        if (!m_local->isLoaded() || !m_localInfo)
            return llava::makeError(llava::ErrorCode::NotFound, "no local model is loaded to switch back to");
        m_active = m_local.get();
        m_remote.reset();
        return *m_localInfo;
    }
    auto info = m_local->load(request, progress);
    if (info.isOk()) {
        m_localInfo = *info;
        m_active = m_local.get();
        m_remote.reset();
    } else if (!m_local->isLoaded()) {
        m_localInfo.reset();  // the local load failed and took the old local model with it
        if (m_active == m_local.get()) m_active = nullptr;
    }
    return info;
}

llava::Result<llava::GenerationStats> SwitchingChatEngine::reply(const GenerationRequest& request,
                                                                 const llava::TokenCallback& onToken,
                                                                 const llava::CancelPredicate& cancel) {
    if (!m_active) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model is loaded and no server is connected");
    return m_active->reply(request, onToken, cancel);
}

llava::Result<llava::ContextPlan> SwitchingChatEngine::plan(const GenerationRequest& request) {
    if (!m_active) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    return m_active->plan(request);
}

llava::Result<ExplainResult> SwitchingChatEngine::explain(const ExplainRequest& request, const llava::CancelPredicate& cancel) {
    return m_active ? m_active->explain(request, cancel) : ChatEngine::explain(request, cancel);
}

void SwitchingChatEngine::clear() {
    if (m_active) m_active->clear();
}

std::optional<ServerUsage> SwitchingChatEngine::lastServerUsage() const {
    return remoteActive() ? m_remote->lastServerUsage() : std::nullopt;
}

bool SwitchingChatEngine::runOnLocalEngine(const std::function<void(llava::Engine&)>& job) {
    return m_local->runOnLocalEngine(job);
}
