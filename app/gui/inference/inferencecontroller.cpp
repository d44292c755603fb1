// See inferencecontroller.h.
#include "inferencecontroller.h"

#include <limits>
#include <utility>

#include "inferenceworker.h"

namespace {
void registerTypes() {
    qRegisterMetaType<LoadRequest>();
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<GenerationRequest>();
    qRegisterMetaType<llava::GenerationStats>();
    qRegisterMetaType<TokenProbabilities>();
    qRegisterMetaType<ExplainRequest>();
    qRegisterMetaType<ExplainResult>();
    qRegisterMetaType<llava::ContextPlan>();
    qRegisterMetaType<ServerUsage>();
}
}  // namespace

InferenceController::InferenceController(std::unique_ptr<ChatEngine> engine, QObject* parent) : QObject(parent) {
    registerTypes();
    m_thread.setObjectName(QStringLiteral("inference"));
    m_worker = new InferenceWorker(std::move(engine), &m_cancelUpTo, &m_loadCancel);
    m_worker->setLatestExplain(&m_latestExplain);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(this, &InferenceController::loadRequested, m_worker, &InferenceWorker::loadModel, Qt::QueuedConnection);
    connect(this, &InferenceController::generateRequested, m_worker, &InferenceWorker::generate, Qt::QueuedConnection);
    connect(this, &InferenceController::clearRequested, m_worker, &InferenceWorker::clearSession, Qt::QueuedConnection);
    connect(this, &InferenceController::planRequested, m_worker, &InferenceWorker::planContext, Qt::QueuedConnection);
    connect(m_worker, &InferenceWorker::contextPlanned, this,
            [this](quint64 id, const llava::ContextPlan& plan, const QString& error) {
                m_planRunning = false;
                if (m_pendingPlan) {
                    m_planRunning = true;
                    emit planRequested(*std::exchange(m_pendingPlan, std::nullopt));
                }
                emit contextPlanned(id, plan, error);
            });

    connect(this, &InferenceController::explainRequested, m_worker, &InferenceWorker::explain, Qt::QueuedConnection);
    connect(m_worker, &InferenceWorker::explainFinished, this, [this](const ExplainResult& r) {
        if (r.id == m_latestExplain.load()) emit explainFinished(r);
    });
    connect(m_worker, &InferenceWorker::explainFailed, this, [this](quint64 id, const QString& message) {
        if (id == m_latestExplain.load()) emit explainFailed(id, message);
    });
    connect(m_worker, &InferenceWorker::loadProgressChanged, this, &InferenceController::loadProgressChanged);
    connect(m_worker, &InferenceWorker::loadFinished, this, &InferenceController::loadFinished);
    connect(m_worker, &InferenceWorker::loadFailed, this, &InferenceController::loadFailed);
    connect(m_worker, &InferenceWorker::generationStarted, this, &InferenceController::generationStarted);
    connect(m_worker, &InferenceWorker::tokensGenerated, this, &InferenceController::tokensGenerated);
    connect(m_worker, &InferenceWorker::tokenConfidencesGenerated, this, &InferenceController::tokenConfidencesGenerated);
    connect(m_worker, &InferenceWorker::serverUsageReported, this, &InferenceController::serverUsageReported);
    connect(m_worker, &InferenceWorker::generationFinished, this,
            [this](quint64 id, const llava::GenerationStats& stats, int used) {
                settle(id);
                emit generationFinished(id, stats, used);
            });
    connect(m_worker, &InferenceWorker::generationStopped, this,
            [this](quint64 id, const llava::GenerationStats& stats, int used) {
                settle(id);
                emit generationStopped(id, stats, used);
            });
    connect(m_worker, &InferenceWorker::generationFailed, this,
            [this](quint64 id, const QString& message, const QString& details) {
                settle(id);
                emit generationFailed(id, message, details);
            });
    m_thread.start();
}

InferenceController::~InferenceController() {
    m_cancelUpTo.store(std::numeric_limits<quint64>::max());
    m_loadCancel.store(true);
    m_latestExplain.store(std::numeric_limits<quint64>::max());
    m_thread.quit();
    m_thread.wait();
}

void InferenceController::loadModel(const LoadRequest& request) {
    m_loadCancel.store(false);
    emit loadRequested(request);
}

void InferenceController::cancelLoad() { m_loadCancel.store(true); }

quint64 InferenceController::generate(GenerationRequest request) {
    request.id = m_nextId++;
    const bool wasIdle = m_activeId == 0;
    m_activeId = request.id;
    emit generateRequested(request);
    if (wasIdle) emit busyChanged(true);
    return request.id;
}

void InferenceController::cancel() {
    if (m_nextId > 1) m_cancelUpTo.store(m_nextId - 1);
    if (m_activeId != 0) {
        m_activeId = 0;  // the UI is idle now; the worker's confirmation arrives later
        emit busyChanged(false);
    }
}

void InferenceController::clearSession() { emit clearRequested(); }

QObject* InferenceController::engineThreadContext() const { return m_worker; }

bool InferenceController::runOnLocalEngineHere(const std::function<void(llava::Engine&)>& job) {
    Q_ASSERT(QThread::currentThread() == &m_thread);
    return m_worker->runOnLocalEngine(job);
}

void InferenceController::settle(quint64 requestId) {
    if (requestId == m_activeId) {
        m_activeId = 0;
        emit busyChanged(false);
    }
}

quint64 InferenceController::explain(ExplainRequest request) {
    request.id = m_latestExplain.load() + 1;
    m_latestExplain.store(request.id);
    emit explainRequested(request);
    return request.id;
}

void InferenceController::cancelExplain() { m_latestExplain.fetch_add(1); }
quint64 InferenceController::requestPlan(GenerationRequest request) {
    request.id = m_nextId++;
    const quint64 id = request.id;
    if (m_planRunning) {
        m_pendingPlan = std::move(request);
    } else {
        m_planRunning = true;
        emit planRequested(request);
    }
    return id;
}
