// A scripted ChatEngine for tests and for running the GUI without a model: answers with a fixed list
// of pieces, sleeping between them, honouring cancel between tokens exactly as the real engine does.
#pragma once

#include <QStringList>
#include <atomic>
#include <chrono>

#include "inference/chatengine.h"

struct FakeEngineScript {
    QStringList pieces{QStringLiteral("Hello"), QStringLiteral(", "), QStringLiteral("world"), QStringLiteral("!")};
    std::chrono::milliseconds tokenDelay{1};
    std::chrono::milliseconds loadDelay{0};
    int loadSteps = 4;
    QString failLoad;     // non-empty: load() fails with this message
    QString failReply;    // non-empty: reply() fails with this message
    int contextLimit = 4096;
};

class FakeChatEngine final : public ChatEngine {
public:
    explicit FakeChatEngine(FakeEngineScript script = {}) : m_script(std::move(script)) {}

    llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) override;
    bool isLoaded() const override { return m_loaded; }
    llava::Result<llava::GenerationStats> reply(const GenerationRequest& request, const llava::TokenCallback& onToken,
                                                const llava::CancelPredicate& cancel) override;
    // Every character of the conversation is a token, every image 576, plus 1 of reply headroom.
    llava::Result<llava::ContextPlan> plan(const GenerationRequest& request) override;
    void clear() override { m_used = 0; }
    int contextUsed() const override { return m_used; }
    int contextLimit() const override { return m_script.contextLimit; }

    // Readable from any thread: how many replies ran (tests check the worker really ran them).
    static std::atomic<int>& replyCount();
    // The sampling seed of the last reply (tests check each answer draws its own).
    static std::atomic<quint64>& lastSeed();

private:
    FakeEngineScript m_script;
    bool m_loaded = false;
    int m_used = 0;
};
