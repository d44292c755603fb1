// One app instance per data folder (issue 10 item 2): two windows writing the same chats lose work.
// The first instance holds a QLockFile in the data folder and listens on a local socket named after the
// folder; a later launch with the same folder finds the lock held, asks the running instance to come to
// the front (and attach the images it was started with) and exits, as most desktop apps do. A lock left
// by a crashed instance (its process is gone, or the machine rebooted) is taken over; a lock file
// left empty or half-written by a crash is removed when no process holds it (flock on Unix).
// When the owner does not answer (hung, or another user's process), claim() says Busy and names it:
// the app then tells the user and exits; it never opens the same chats a second time.
#pragma once

#include <QObject>
#include <QStringList>
#include <memory>

class QLocalServer;
class QLockFile;

class SingleInstance : public QObject {
    Q_OBJECT
public:
    enum class Claim { Primary, Forwarded, Busy };

    explicit SingleInstance(QString dataDir, QObject* parent = nullptr);
    ~SingleInstance() override;

    // Primary: this process owns the folder and listens for later launches. Forwarded: the running owner
    // was asked to come to the front with `images` and said yes. Busy: an owner exists but did not answer
    // within timeoutMs; owner() describes it.
    Claim claim(const QStringList& images, int timeoutMs = 3000);
    QString owner() const { return m_owner; }  // "process 1234 (llava-insight) on host"
    QString lockFilePath() const;
    // The local socket name for a data folder: per user and per folder, short enough for sockaddr_un.
    static QString serverName(const QString& dataDir);

signals:
    // A later launch asked this (primary) instance to come to the front and attach these images.
    void activationRequested(const QStringList& images);

private:
    bool tryLock();
    void listen();
    bool forward(const QStringList& images, int timeoutMs);

    QString m_dataDir;
    std::unique_ptr<QLockFile> m_lock;
    QLocalServer* m_server = nullptr;
    QString m_owner;
};
