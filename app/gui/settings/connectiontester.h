// "Test connection" of Settings -> Backend: connects to an OpenAI-compatible server the way the app will
// (RemoteChatEngine::load: GET /v1/models, the API key, the model, the inspector's config) on a thread
// of its own, so the dialog stays responsive, and reports one plain sentence. A test still running
// when the dialog closes finishes on its own thread and its answer is dropped.
#pragma once

#include <QObject>
#include <QPointer>

#include "inference/remoteendpoint.h"

class ConnectionTester : public QObject {
    Q_OBJECT
public:
    explicit ConnectionTester(QObject* parent = nullptr);
    void test(const RemoteEndpoint& endpoint);
    bool isRunning() const { return m_running; }

signals:
    // ok: the server answered, serves the model and the inspector has its config; message says what was
    // found ("serves llava-… · context 4096 · inspector: preset …") or what went wrong.
    void finished(bool ok, const QString& message);

private:
    bool m_running = false;
};
