// See connectiontester.h.
#include "connectiontester.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QThread>

#include "inference/remotechatengine.h"

ConnectionTester::ConnectionTester(QObject* parent) : QObject(parent) {}

void ConnectionTester::test(const RemoteEndpoint& endpoint) {
    if (m_running) return;
    m_running = true;
    QPointer<ConnectionTester> self(this);
    QThread* thread = QThread::create([self, endpoint] {
        RemoteChatEngine engine(endpoint);
        auto info = engine.load(LoadRequest{}, {});
        bool ok = info.isOk();
        QString message;
        if (ok) {
            message = tr("Connected: the server serves “%1” · context %2 tokens · inspector: %3")
                          .arg(info->name)
                          .arg(info->contextLimit)
                          .arg(endpoint.configPath.isEmpty() ? tr("preset %1").arg(QString::fromStdString(info->config.name))
                                                             : QFileInfo(endpoint.configPath).fileName());
            if (engine.hasLocalTokenizer()) message += tr(" · local tokenizer: prompt counts compared");
        } else {
            message = QString::fromStdString(info.status().message());
        }
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, ok, message] {  // back on the GUI thread
            if (!self) return;
            self->m_running = false;
            emit self->finished(ok, message);
        });
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}
