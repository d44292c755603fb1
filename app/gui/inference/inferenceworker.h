// Lives on the inference thread and owns the ChatEngine. Slots are called through queued connections
// from InferenceController; results go back as signals with value payloads. It never sees a widget
// or an item model. Tokens are coalesced and emitted at most every kCoalesceMs.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <atomic>
#include <memory>

#include "chatengine.h"

class InferenceWorker : public QObject {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 30;

    // cancelUpTo: requests with id <= *cancelUpTo must stop (owned by the controller, outlives us).
    // loadCancel: true = abandon the current load.
    InferenceWorker(std::unique_ptr<ChatEngine> engine, const std::atomic<quint64>* cancelUpTo,
                    const std::atomic<bool>* loadCancel);
    // latestExplain: the newest explain request; older ones are skipped or cancelled (latest wins).
    void setLatestExplain(const std::atomic<quint64>* latestExplain) { m_latestExplain = latestExplain; }
    ~InferenceWorker() override;

public slots:
    void loadModel(const LoadRequest& request);
    void generate(const GenerationRequest& request);
    void clearSession();
    void explain(const ExplainRequest& request);
    void planContext(const GenerationRequest& request);

public:
    // Runs `job` on the local engine; on this (the inference) thread only, see
    // InferenceController::runOnLocalEngineHere. False when no local model is loaded.
    bool runOnLocalEngine(const std::function<void(llava::Engine&)>& job);

signals:
    void loadProgressChanged(quint64 done, quint64 total, const QString& stage);
    void loadFinished(const ModelInfo& info);
    // stillLoaded: the model loaded before is still loaded and usable.
    void loadFailed(const QString& message, const QString& details, bool stillLoaded);
    void generationStarted(quint64 requestId);
    void tokensGenerated(quint64 requestId, const QString& text);
    // Emitted just before the tokensGenerated that carries their text (only when sampling.logprobs > 0).
    void tokenConfidencesGenerated(quint64 requestId, const TokenProbabilities& tokens);
    void generationFinished(quint64 requestId, const llava::GenerationStats& stats, int contextUsed);
    // After generationFinished/Stopped of an answer a server gave: its usage next to the local counts.
    void serverUsageReported(quint64 requestId, const ServerUsage& usage);
    void generationStopped(quint64 requestId, const llava::GenerationStats& stats, int contextUsed);
    void generationFailed(quint64 requestId, const QString& message, const QString& details);
    void explainFinished(const ExplainResult& result);
    void explainFailed(quint64 requestId, const QString& message);  // not for superseded requests
    // error empty: plan is valid.
    void contextPlanned(quint64 requestId, const llava::ContextPlan& plan, const QString& error);

private:
    std::unique_ptr<ChatEngine> m_engine;
    const std::atomic<quint64>* m_cancelUpTo;
    const std::atomic<bool>* m_loadCancel;
    const std::atomic<quint64>* m_latestExplain = nullptr;
};
