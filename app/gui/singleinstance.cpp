// See singleinstance.h. Protocol on the local socket: the later launch sends one JSON line
// {"images": ["/abs/path", ...]} and the owner answers "ok\n" before it raises its window.
#include "singleinstance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLockFile>
#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace {
constexpr qint64 kMaxRequestBytes = 1 << 20;  // a launch with thousands of image paths still fits

QString userKey() {
#ifdef Q_OS_UNIX
    return QString::number(::getuid());
#else
    return qEnvironmentVariable("USERNAME");
#endif
}
}  // namespace

SingleInstance::SingleInstance(QString dataDir, QObject* parent) : QObject(parent), m_dataDir(std::move(dataDir)) {}

SingleInstance::~SingleInstance() = default;  // the lock file is removed by ~QLockFile, the socket by ~QLocalServer

QString SingleInstance::lockFilePath() const { return m_dataDir + QStringLiteral("/llava-insight.lock"); }

QString SingleInstance::serverName(const QString& dataDir) {
    const QString canonical = QFileInfo(dataDir).canonicalFilePath().isEmpty() ? QDir::cleanPath(QDir(dataDir).absolutePath())
                                                                                : QFileInfo(dataDir).canonicalFilePath();
    const QByteArray key = (userKey() + QLatin1Char('\n') + canonical).toUtf8();
    return QStringLiteral("llava-insight-") +
           QString::fromLatin1(QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex().left(20));
}

bool SingleInstance::tryLock() {
    m_lock = std::make_unique<QLockFile>(lockFilePath());
    // 0: only a dead owner (or a reboot) makes the lock stale, never its age: the app runs for days.
    m_lock->setStaleLockTime(0);
    if (m_lock->tryLock(0)) return true;
    if (m_lock->error() != QLockFile::LockFailedError) {
        m_owner = tr("nobody can tell: %1 cannot be created (no permission, or the disk is full)").arg(lockFilePath());
        return false;
    }
    qint64 pid = 0;
    QString host, app;
    if (!m_lock->getLockInfo(&pid, &host, &app)) {
        // Empty or half-written (a crash while it was created): QLockFile would never call that stale.
        // removeStaleLockFile() only succeeds when no live process holds the file's flock.
        if (m_lock->removeStaleLockFile() && m_lock->tryLock(0)) return true;
        m_owner = tr("an unknown process");
        return false;
    }
    m_owner = tr("process %1 (%2) on %3").arg(pid).arg(app, host);
    return false;
}

void SingleInstance::listen() {
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    const QString name = serverName(m_dataDir);
    QLocalServer::removeServer(name);  // a socket file left by a crashed owner (we hold the lock now)
    if (!m_server->listen(name)) {
        qWarning("single instance: cannot listen on %s: %s", qPrintable(name), qPrintable(m_server->errorString()));
        return;  // still the owner; later launches are then told the folder is busy
    }
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket* socket = m_server->nextPendingConnection()) {
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QLocalSocket::readyRead, this, [this, socket] {
                if (!socket->canReadLine()) {
                    if (socket->bytesAvailable() > kMaxRequestBytes) socket->abort();
                    return;
                }
                const QJsonDocument doc = QJsonDocument::fromJson(socket->readLine(kMaxRequestBytes));
                QStringList images;
                for (const QJsonValue& v : doc.object().value(QStringLiteral("images")).toArray())
                    if (v.isString()) images << v.toString();
                socket->write("ok\n");
                socket->flush();
                emit activationRequested(images);
            });
        }
    });
}

bool SingleInstance::forward(const QStringList& images, int timeoutMs) {
    QElapsedTimer clock;
    clock.start();
    QLocalSocket socket;
    socket.connectToServer(serverName(m_dataDir));
    if (!socket.waitForConnected(timeoutMs)) return false;
    QJsonArray list;
    for (const QString& image : images) list.append(QFileInfo(image).absoluteFilePath());
    socket.write(QJsonDocument(QJsonObject{{QStringLiteral("images"), list}}).toJson(QJsonDocument::Compact) + '\n');
    if (!socket.waitForBytesWritten(int(std::max<qint64>(1, timeoutMs - clock.elapsed())))) return false;
    QByteArray reply;
    while (!reply.contains('\n') && clock.elapsed() < timeoutMs) {
        if (!socket.waitForReadyRead(int(std::max<qint64>(1, timeoutMs - clock.elapsed())))) break;
        reply += socket.readAll();
    }
    return reply.startsWith("ok\n");
}

SingleInstance::Claim SingleInstance::claim(const QStringList& images, int timeoutMs) {
    QDir().mkpath(m_dataDir);
    if (tryLock()) {
        listen();
        return Claim::Primary;
    }
    m_lock.reset();  // not ours: never remove another process's lock file
    return forward(images, timeoutMs) ? Claim::Forwarded : Claim::Busy;
}
