// See fakechatengine.h.
#include "fakechatengine.h"

#include "models/modelpresets.h"

#include <QDir>
#include <QFileInfo>
#include <thread>

std::atomic<int>& FakeChatEngine::replyCount() {
    static std::atomic<int> count{0};
    return count;
}

std::atomic<quint64>& FakeChatEngine::lastSeed() {
    static std::atomic<quint64> seed{0};
    return seed;
}

llava::Result<ModelInfo> FakeChatEngine::load(const LoadRequest& request, const Progress& progress) {
    const quint64 total = quint64(m_script.loadSteps) * 1000;
    for (int i = 0; i <= m_script.loadSteps; ++i) {
        if (progress && !progress(quint64(i) * 1000, total, QStringLiteral("weights")))
            return llava::makeError(llava::ErrorCode::Cancelled, "loading cancelled");
        if (i < m_script.loadSteps) std::this_thread::sleep_for(m_script.loadDelay);
    }
    if (!m_script.failLoad.isEmpty()) return llava::makeError(llava::ErrorCode::ParseError, m_script.failLoad.toStdString());
    m_loaded = true;
    ModelInfo info;
    info.name = QFileInfo(request.modelDir).fileName();
    info.modelDir = request.modelDir;
    info.backend = QStringLiteral("cpu");
    info.device = QStringLiteral("fake");
    info.contextLimit = m_script.contextLimit;
    info.randomWeights = request.randomWeights;
    auto config = llava::loadModelConfig(QDir(request.modelDir).absolutePath().toStdString());
    info.config = config.isOk() ? *config : defaultInspectorConfig();
    info.reference = info.config.defaultReference;
    return info;
}

llava::Result<llava::GenerationStats> FakeChatEngine::reply(const GenerationRequest& request,
                                                            const llava::TokenCallback& onToken,
                                                            const llava::CancelPredicate& cancel) {
    ++replyCount();
    lastSeed() = request.sampling.seed;
    if (!m_loaded) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    if (!m_script.failReply.isEmpty()) return llava::makeError(llava::ErrorCode::Internal, m_script.failReply.toStdString());
    llava::GenerationStats stats;
    stats.textTokens = int(request.text.size() / 4) + 1;
    stats.imageTokens = int(request.imagePaths.size()) * 2340;
    stats.timeToFirstTokenMs = double(m_script.tokenDelay.count());
    stats.stopReason = llava::StopReason::Eos;
    for (int i = 0; i < m_script.pieces.size(); ++i) {
        if (cancel && cancel()) {
            stats.stopReason = llava::StopReason::Cancelled;
            break;
        }
        std::this_thread::sleep_for(m_script.tokenDelay);
        llava::TokenEvent event{i + 3, m_script.pieces[i].toStdString(), std::nullopt};
        ++stats.generatedTokens;
        if (onToken && !onToken(event)) {
            stats.stopReason = llava::StopReason::Cancelled;
            break;
        }
    }
    stats.decodeTokPerS = m_script.tokenDelay.count() > 0 ? 1000.0 / double(m_script.tokenDelay.count()) : 0;
    m_used += stats.textTokens + stats.imageTokens + stats.generatedTokens;
    return stats;
}

llava::Result<llava::ContextPlan> FakeChatEngine::plan(const GenerationRequest& request) {
    if (!m_loaded) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    llava::ContextPlan plan;
    plan.contextLimit = m_script.contextLimit;
    for (const ChatMessage& m : request.history) {
        plan.textTokens += int(m.text.size());
        for (qsizetype i = 0; i < m.images.size(); ++i) plan.imageTokens.push_back(576);
    }
    plan.earlierTokens = plan.textTokens + 576 * int(plan.imageTokens.size());
    plan.textTokens += int(request.text.size());
    for (qsizetype i = 0; i < request.imagePaths.size(); ++i) plan.imageTokens.push_back(576);
    plan.messageImages = int(request.imagePaths.size());
    plan.conversationTokens = plan.textTokens + 576 * int(plan.imageTokens.size());
    return plan;
}
