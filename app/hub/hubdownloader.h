// Downloads a model repository from the Hugging Face Hub (or a mirror) into the hub cache, exactly in
// huggingface_hub's layout so transformers and this app share one copy:
//   <cache>/models--ORG--NAME/blobs/<etag>            the file (etag = sha256 for LFS files, git sha1 else)
//   <cache>/models--ORG--NAME/blobs/<etag>.incomplete while downloading (resumed with an HTTP Range request
//                                                     after a dropped connection or an app restart)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<file> -> ../../blobs/<etag>   (relative symlink)
//   <cache>/models--ORG--NAME/refs/<revision>         the commit, when the revision is a branch or tag
// Protocol: hubapi.h. Every file is verified before it is moved into place: its size, and its sha256
// against the Hub's LFS metadata (git blob sha1 for small non-LFS files); a mismatch deletes the partial
// file and fails naming both hashes. Free disk space is checked before the first byte is fetched.
// One download at a time; runs on the thread's event loop (GUI thread or the CLI's QCoreApplication).
// Deliberately not here: parallel files, file locks between processes, hf_transfer / xet.
#pragma once

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <deque>
#include <functional>
#include <memory>

#include "hubapi.h"
#include "hubconfig.h"

class QNetworkReply;

namespace hub {

struct TransferRate {
    qint64 doneBytes = 0;
    qint64 totalBytes = 0;
    double bytesPerSecond = 0;   // over the last few seconds
    double etaSeconds = -1;      // -1: unknown (no speed yet)
};

struct DownloadProgress {
    QString file;                // the file being fetched
    int fileIndex = 0;           // 0-based among fileCount
    int fileCount = 0;
    TransferRate current;        // this file
    TransferRate total;          // all files of the download (already cached files count as done)
};

class HubDownloader : public QObject {
    Q_OBJECT
public:
    explicit HubDownloader(HubConfig config, QObject* parent = nullptr);
    ~HubDownloader() override;

    // Free bytes of the volume holding `dir` (QStorageInfo); tests replace it to simulate a full disk.
    using DiskSpaceProbe = std::function<qint64(const QString& dir)>;
    void setDiskSpaceProbe(DiskSpaceProbe probe) { m_diskSpace = std::move(probe); }
    // Attempts per file after a dropped connection without new bytes (huggingface_hub: 5); delay in ms.
    void setRetryPolicy(int maxRetries, int delayMs) { m_maxRetries = maxRetries, m_retryDelayMs = delayMs; }
    const HubConfig& config() const { return m_config; }
    bool isRunning() const { return m_running; }

public slots:
    // revision: branch, tag or commit ("main" when empty). Ignored while a download runs.
    void start(const QString& repoId, const QString& revision);
    // Stops now; the partial file stays (as .incomplete) and the next start resumes it.
    void cancel();

signals:
    void progressChanged(const hub::DownloadProgress& progress);
    void messageLogged(const QString& text);          // "resuming model-00001… at 1.20 GiB", "sha256 mismatch …"
    void finished(const QString& snapshotDir);         // every needed file verified and linked
    void failed(const QString& error);                 // one line, says what to do where it can
    void cancelled();

private:
    struct FileJob {
        RepoFile file;
        QString etag;
        QUrl location;
        qint64 expectedSize = -1;
        std::unique_ptr<QFile> partial;
        std::unique_ptr<QCryptographicHash> hash;
        qint64 hashedBytes = 0;   // bytes of the partial already in `hash`
        int retries = 0;
        int redirects = 0;        // followed by hand (see requestBody)
        bool restarted = false;   // the server ignored a Range request once
    };

    QNetworkReply* takeFinishedReply();
    void requestInfo();
    void onInfoFinished();
    void nextFile();
    void requestHead(const QUrl& url, int hops);
    void onHeadFinished(int hops);
    void beginTransfer();
    void hashExistingPartial();
    void requestBody();
    void onBodyMetaData();
    void onBodyReadyRead();
    void onBodyFinished();
    void completeFile();
    void linkSnapshot(const QString& blobName);
    void finishAll();
    void fail(const QString& error);
    bool checkDiskSpace();
    QNetworkRequest hubRequest(const QUrl& url) const;
    void emitProgress(bool force);
    QString repoFolder() const;
    QString blobPath(const QString& etag) const;
    qint64 bytesOnDisk(const RepoFile& file) const;

    HubConfig m_config;
    QNetworkAccessManager m_network;
    DiskSpaceProbe m_diskSpace;
    int m_maxRetries = 5;
    int m_retryDelayMs = 500;

    bool m_running = false;
    bool m_cancelled = false;
    QString m_repoId, m_revision, m_commit;
    QList<RepoFile> m_files;
    int m_index = -1;
    qint64 m_totalBytes = 0;
    qint64 m_doneBefore = 0;        // bytes of the files before the current one
    std::unique_ptr<FileJob> m_job;
    QPointer<QNetworkReply> m_reply;

    QElapsedTimer m_clock;
    qint64 m_lastEmitMs = -1;
    std::deque<std::pair<qint64, qint64>> m_samples;  // (ms, total bytes done) of the last seconds
};

}  // namespace hub

Q_DECLARE_METATYPE(hub::DownloadProgress)
