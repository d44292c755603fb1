// Models -> "Serve this model on localhost:PORT": the app's loaded local model behind the same
// OpenAI-compatible API as `llava-insight-cli serve` (app/server), in-process. Requests run on the app's
// one inference thread and engine (InferenceController::runOnLocalEngine), between the app's own
// answers: no second copy of the weights, no second thread touching the engine. Binds to 127.0.0.1 only
// (no API key needed there; `serve --host` is the way to expose a model to other machines).
//
// Hand-off: the server's queue thread posts each job to the inference thread and waits for it. stop()
// (and the destructor) cancels every request; a job already running finishes at its next token, one
// not yet started is abandoned, so stopping never waits for the app's own answer to finish.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "inference/chatengine.h"

namespace server {
class ApiServer;
}
class InferenceController;

class ServeController : public QObject {
    Q_OBJECT
public:
    explicit ServeController(InferenceController* inference, QObject* parent = nullptr);
    ~ServeController() override;

    // Serves `model` (the local model now loaded) on 127.0.0.1:port (0: any free port). False with
    // *error set when the port cannot be bound.
    bool start(const ModelInfo& model, quint16 port, QString* error);
    void stop();
    bool isRunning() const { return m_server != nullptr; }
    QString url() const;        // "http://127.0.0.1:PORT/v1"; empty when stopped
    QString modelId() const { return m_modelId; }

signals:
    void runningChanged(bool running);

private:
    struct Shared;
    InferenceController* m_inference;
    std::shared_ptr<Shared> m_shared;  // the stop flag the executor watches
    std::unique_ptr<server::ApiServer> m_server;
    QString m_modelId;
};
