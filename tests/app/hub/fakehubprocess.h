// Starts tests/app/hub/fakehub.py (Debian's /usr/bin/python3, stdlib only) on a free loopback port for
// one test and stops it in the destructor. Also a small event-loop helper to run one HubDownloader job.
#pragma once

#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QStringList>
#include <QTimer>

#include "hubdownloader.h"

namespace hubtest {

inline const QString kFixtureRepo = QStringLiteral("llava-hf/llava-v1.6-mistral-tiny-hf");

class FakeHub {
public:
    explicit FakeHub(const QStringList& extraArgs = {}) {
        QStringList args = {QStringLiteral(LLAVA_HUB_TEST_DIR "/fakehub.py"), QStringLiteral("--fixture-dir"),
                            QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf"),
                            QStringLiteral("--tokenizer"),
                            QStringLiteral(LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model")};
        m_process.start(QStringLiteral("/usr/bin/python3"), args + extraArgs);
        if (!m_process.waitForStarted(10000)) return;
        for (int i = 0; i < 100 && !m_process.canReadLine(); ++i) m_process.waitForReadyRead(100);
        m_port = m_process.readLine().trimmed().toInt();
    }
    ~FakeHub() {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    bool ok() const { return m_port > 0; }
    QString errors() { return QString::fromUtf8(m_process.readAllStandardError()); }
    QUrl endpoint() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port)); }
    int port() const { return m_port; }
    // Requests with a Range header or through a proxy, as the server saw them.
    QJsonArray log() const {
        QNetworkAccessManager network;
        network.setProxy(QNetworkProxy::NoProxy);
        QNetworkReply* reply = network.get(QNetworkRequest(QUrl(endpoint().toString() + QStringLiteral("/_log"))));
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        const QJsonArray array = QJsonDocument::fromJson(reply->readAll()).array();
        reply->deleteLater();
        return array;
    }

private:
    QProcess m_process;
    int m_port = 0;
};

struct Outcome {
    bool finished = false, failed = false, cancelled = false, timedOut = false;
    QString snapshotDir, error;
    QStringList messages;
    QList<hub::DownloadProgress> progress;
};

// Runs one download to its end (or `timeoutMs`). onProgress may cancel.
inline Outcome runDownload(hub::HubDownloader& downloader, const QString& repo, const QString& revision,
                           const std::function<void(hub::HubDownloader&, const hub::DownloadProgress&)>& onProgress = {},
                           int timeoutMs = 60000) {
    Outcome out;
    QEventLoop loop;
    QList<QMetaObject::Connection> connections;
    connections << QObject::connect(&downloader, &hub::HubDownloader::finished, &loop, [&](const QString& dir) {
        out.finished = true;
        out.snapshotDir = dir;
        loop.quit();
    });
    connections << QObject::connect(&downloader, &hub::HubDownloader::failed, &loop, [&](const QString& error) {
        out.failed = true;
        out.error = error;
        loop.quit();
    });
    connections << QObject::connect(&downloader, &hub::HubDownloader::cancelled, &loop, [&] {
        out.cancelled = true;
        loop.quit();
    });
    connections << QObject::connect(&downloader, &hub::HubDownloader::messageLogged, &loop,
                                    [&](const QString& m) { out.messages << m; });
    connections << QObject::connect(&downloader, &hub::HubDownloader::progressChanged, &loop,
                                    [&](const hub::DownloadProgress& p) {
                                        out.progress << p;
                                        if (onProgress) onProgress(downloader, p);
                                    });
    QTimer::singleShot(timeoutMs, &loop, [&] {
        out.timedOut = true;
        loop.quit();
    });
    downloader.start(repo, revision);
    if (downloader.isRunning()) loop.exec();
    for (const auto& c : connections) QObject::disconnect(c);
    return out;
}

}  // namespace hubtest
