// GUI-thread side of inference: owns the QThread and the InferenceWorker moved onto it, forwards
// requests through queued signals and re-emits the worker's answers. cancel() is instant: it flips an
// atomic the engine polls between tokens and layers, and the UI does not wait for the confirmation.
// Shutdown (destructor): cancel everything -> quit() -> wait().
#pragma once

#include <QObject>
#include <QThread>
#include <atomic>
#include <optional>

#include "chatengine.h"

class InferenceWorker;

class InferenceController : public QObject {
    Q_OBJECT
public:
    explicit InferenceController(std::unique_ptr<ChatEngine> engine, QObject* parent = nullptr);
    ~InferenceController() override;

    bool isGenerating() const { return m_activeId != 0; }

    // For work that must run on the inference thread between the app's own generations ("Serve this
    // model", ServeController): post a functor with this object as its context (QMetaObject::invokeMethod,
    // queued), and inside it call runOnLocalEngineHere(), which runs `job` on the local llava::Engine
    // (false: no local model loaded). Nothing posted runs after this controller is destroyed.
    QObject* engineThreadContext() const;
    bool runOnLocalEngineHere(const std::function<void(llava::Engine&)>& job);

public slots:
    void loadModel(const LoadRequest& request);
    void cancelLoad();
    // Assigns request.id and returns it; the request waits behind a running one.
    quint64 generate(GenerationRequest request);
    void cancel();  // stops every request issued so far
    void clearSession();
    // Latest wins: a new request supersedes (and cancels) the one before; returns its id.
    quint64 explain(ExplainRequest request);
    void cancelExplain();
    // The context plan of a would-be request (ChatEngine::plan), answered by contextPlanned. Coalesced:
    // while one plan runs, only the latest request waits; the ones it replaced are never computed.
    quint64 requestPlan(GenerationRequest request);

signals:
    // Controller -> worker (queued).
    void loadRequested(const LoadRequest& request);
    void generateRequested(const GenerationRequest& request);
    void clearRequested();
    void explainRequested(const ExplainRequest& request);
    void planRequested(const GenerationRequest& request);

    // -> GUI (re-emitted from the worker).
    void loadProgressChanged(quint64 done, quint64 total, const QString& stage);
    void loadFinished(const ModelInfo& info);
    void loadFailed(const QString& message, const QString& details, bool stillLoaded);
    void generationStarted(quint64 requestId);
    void tokensGenerated(quint64 requestId, const QString& text);
    void tokenConfidencesGenerated(quint64 requestId, const TokenProbabilities& tokens);
    void generationFinished(quint64 requestId, const llava::GenerationStats& stats, int contextUsed);
    void serverUsageReported(quint64 requestId, const ServerUsage& usage);
    void generationStopped(quint64 requestId, const llava::GenerationStats& stats, int contextUsed);
    void generationFailed(quint64 requestId, const QString& message, const QString& details);
    void busyChanged(bool busy);
    void explainFinished(const ExplainResult& result);  // only the latest request's
    void explainFailed(quint64 requestId, const QString& message);
    void contextPlanned(quint64 requestId, const llava::ContextPlan& plan, const QString& error);

private:
    void settle(quint64 requestId);

    QThread m_thread;
    InferenceWorker* m_worker = nullptr;  // owned by m_thread (finished -> deleteLater)
    std::atomic<quint64> m_cancelUpTo{0};
    std::atomic<bool> m_loadCancel{false};
    std::atomic<quint64> m_latestExplain{0};
    quint64 m_nextId = 1;
    quint64 m_activeId = 0;   // latest request not yet settled or cancelled; 0 = idle
    bool m_planRunning = false;
    std::optional<GenerationRequest> m_pendingPlan;  // the latest plan request behind the running one
};
