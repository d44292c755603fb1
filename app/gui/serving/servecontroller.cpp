// See servecontroller.h.
#include "servecontroller.h"

#include <QHostAddress>
#include <QMetaObject>

#include <condition_variable>
#include <mutex>

#include "apiserver.h"
#include "inference/inferencecontroller.h"

namespace {
constexpr int kQueueCapacity = 4;  // requests that may wait while one generates; more get 429
}

struct ServeController::Shared {
    std::mutex mutex;
    std::condition_variable changed;
    bool stopping = false;
};

namespace {
// One job's hand-off between the server's queue thread and the inference thread.
struct Handoff {
    enum class State { Queued, Running, Done, Abandoned };
    State state = State::Queued;
    bool ran = false;
};
}  // namespace

ServeController::ServeController(InferenceController* inference, QObject* parent)
    : QObject(parent), m_inference(inference) {}

ServeController::~ServeController() { stop(); }

bool ServeController::start(const ModelInfo& model, quint16 port, QString* error) {
    stop();
    auto shared = std::make_shared<Shared>();
    InferenceController* inference = m_inference;
    // Runs on the queue thread: posts the job to the inference thread and waits until it ran, or until
    // stop() while it still waits there (then it never runs).
    server::InferenceQueue::Executor executor = [shared, inference](const server::InferenceQueue::Job& job) {
        auto handoff = std::make_shared<Handoff>();
        QMetaObject::invokeMethod(inference->engineThreadContext(), [shared, inference, handoff, job] {
            {
                std::lock_guard lock(shared->mutex);
                if (handoff->state == Handoff::State::Abandoned) return;
                handoff->state = Handoff::State::Running;
            }
            const bool ran = inference->runOnLocalEngineHere(job);
            std::lock_guard lock(shared->mutex);
            handoff->ran = ran;
            handoff->state = Handoff::State::Done;
            shared->changed.notify_all();
        }, Qt::QueuedConnection);
        std::unique_lock lock(shared->mutex);
        shared->changed.wait(lock, [&] {
            return handoff->state == Handoff::State::Done || (shared->stopping && handoff->state == Handoff::State::Queued);
        });
        if (handoff->state == Handoff::State::Queued) {
            handoff->state = Handoff::State::Abandoned;
            return true;  // its client is being disconnected by stop()
        }
        return handoff->ran;
    };

    server::InferenceQueue::EngineFacts facts;
    facts.config = model.config;
    facts.reference = model.reference;
    facts.backend.name = model.backend.toStdString();
    facts.backend.device = model.device.toStdString();
    facts.contextLimit = model.contextLimit;
    server::ApiServerOptions options;
    options.modelId = model.name.toStdString();
    options.fingerprint = std::string("llava-insight-") + LLAVA_VERSION_STRING;
    options.defaults.temperature = 0.2f;
    auto server = std::make_unique<server::ApiServer>(options, server::InferenceQueue::attach(executor, facts, kQueueCapacity));
    QString listenError;
    if (!server->listen(QHostAddress(QHostAddress::LocalHost), port, &listenError)) {
        if (error) *error = listenError;
        std::lock_guard lock(shared->mutex);
        shared->stopping = true;
        shared->changed.notify_all();
        return false;  // `server` is destroyed here: nothing was queued yet
    }
    m_shared = std::move(shared);
    m_server = std::move(server);
    m_modelId = model.name;
    emit runningChanged(true);
    return true;
}

void ServeController::stop() {
    if (!m_server) return;
    {
        std::lock_guard lock(m_shared->mutex);
        m_shared->stopping = true;
    }
    m_shared->changed.notify_all();
    m_server.reset();  // cancels every request, then joins the queue thread (see ~ApiServer)
    m_shared.reset();
    m_modelId.clear();
    emit runningChanged(false);
}

QString ServeController::url() const {
    return m_server ? QStringLiteral("http://127.0.0.1:%1/v1").arg(m_server->port()) : QString();
}
