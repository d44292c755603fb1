// See hubdownloader.h. One state machine on the event loop:
//   info (GET api) -> per file: HEAD resolve -> [hash an existing .incomplete] -> GET (Range) -> verify
//   -> rename into blobs/ -> snapshot symlink -> next file;  then refs/<revision>.
#include "hubdownloader.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkProxyFactory>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QTimer>

#include <filesystem>

namespace hub {
namespace {

constexpr qint64 kHashChunk = 16ll << 20;      // bytes hashed per event-loop turn when resuming
constexpr int kMaxRelativeRedirects = 5;
constexpr int kMaxBodyRedirects = 10;
constexpr qint64 kProgressIntervalMs = 200;
constexpr qint64 kRateWindowMs = 5000;

// Proxies from the environment (http_proxy, https_proxy, no_proxy) for this manager only.
class EnvironmentProxyFactory : public QNetworkProxyFactory {
public:
    QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery& query) override {
        return QNetworkProxyFactory::systemProxyForQuery(query);
    }
};

QString gib(qint64 bytes) { return QString::number(double(bytes) / double(1ll << 30), 'f', 2) + QStringLiteral(" GiB"); }

int httpStatus(const QNetworkReply* reply) { return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(); }

}  // namespace

HubDownloader::HubDownloader(HubConfig config, QObject* parent) : QObject(parent), m_config(std::move(config)) {
    qRegisterMetaType<hub::DownloadProgress>();
    m_network.setProxyFactory(new EnvironmentProxyFactory);  // the manager owns it
    m_diskSpace = [](const QString& dir) {
        QString existing = dir;
        while (!existing.isEmpty() && !QFileInfo::exists(existing)) existing = QFileInfo(existing).path();
        return QStorageInfo(existing.isEmpty() ? QDir::rootPath() : existing).bytesAvailable();
    };
}

HubDownloader::~HubDownloader() {
    m_cancelled = true;
    if (m_reply) m_reply->abort();
}

QNetworkRequest HubDownloader::hubRequest(const QUrl& url) const {
    QNetworkRequest request(url);
    request.setRawHeader("User-Agent", "llava-insight/" LLAVA_VERSION_STRING);
    request.setRawHeader("Accept-Encoding", "identity");  // sizes must be the real ones
    // The token goes to the Hub (or mirror) only, never to the CDN host a file redirects to.
    if (!m_config.token.isEmpty() && url.host() == m_config.endpoint.host() && url.port() == m_config.endpoint.port())
        request.setRawHeader("Authorization", "Bearer " + m_config.token.toUtf8());
    request.setTransferTimeout(30000);  // a stalled connection becomes an error and is retried
    return request;
}

QString HubDownloader::repoFolder() const {
    return m_config.cacheDir + QLatin1Char('/') + QString::fromStdString(llava::hubRepoFolderName(m_repoId.toStdString()));
}

QString HubDownloader::blobPath(const QString& etag) const { return repoFolder() + QStringLiteral("/blobs/") + etag; }

qint64 HubDownloader::bytesOnDisk(const RepoFile& file) const {
    const QString name = file.isLfs() ? file.lfsSha256 : file.blobId;
    if (name.isEmpty()) return 0;
    const QFileInfo blob(blobPath(name));
    if (blob.exists() && blob.size() == file.size) return file.size;
    const QFileInfo partial(blobPath(name) + QStringLiteral(".incomplete"));
    return partial.exists() ? std::min(partial.size(), std::max<qint64>(file.size, 0)) : 0;
}

void HubDownloader::start(const QString& repoId, const QString& revision) {
    if (m_running) return;
    m_running = true;
    m_cancelled = false;
    m_repoId = repoId.trimmed();
    m_revision = revision.trimmed().isEmpty() ? QStringLiteral("main") : revision.trimmed();
    m_commit.clear();
    m_files.clear();
    m_index = -1;
    m_job.reset();
    m_samples.clear();
    m_clock.start();
    m_lastEmitMs = -1;
    if (!isValidRepoId(m_repoId)) {
        fail(QStringLiteral("\"%1\" is not a repository id (ORG/NAME)").arg(m_repoId));
        return;
    }
    if (m_revision.contains(QStringLiteral("..")) || m_revision.startsWith(QLatin1Char('/'))) {
        fail(QStringLiteral("\"%1\" is not a revision").arg(m_revision));
        return;
    }
    requestInfo();
}

void HubDownloader::cancel() {
    if (!m_running) return;
    m_cancelled = true;
    if (m_reply) m_reply->abort();  // onXFinished sees m_cancelled
    else {
        m_running = false;
        emit cancelled();
    }
}

// The reply that just finished (deleted later), or nullptr when the user cancelled meanwhile (cancelled()
// is then emitted and nothing else may happen).
QNetworkReply* HubDownloader::takeFinishedReply() {
    QNetworkReply* reply = m_reply;
    reply->deleteLater();
    m_reply = nullptr;
    if (!m_cancelled) return reply;
    m_running = false;
    emit cancelled();
    return nullptr;
}

void HubDownloader::fail(const QString& error) {
    m_running = false;
    if (m_job && m_job->partial) m_job->partial->close();
    m_job.reset();
    emit failed(error);
}

// ---- repository info --------------------------------------------------------------------------------

void HubDownloader::requestInfo() {
    emit messageLogged(QStringLiteral("listing %1 at %2").arg(m_repoId, m_revision));
    m_reply = m_network.get(hubRequest(repoInfoUrl(m_config.endpoint, m_repoId, m_revision)));
    connect(m_reply, &QNetworkReply::finished, this, &HubDownloader::onInfoFinished);
}

void HubDownloader::onInfoFinished() {
    QNetworkReply* reply = takeFinishedReply();
    if (!reply) return;
    const int status = httpStatus(reply);
    if (reply->error() != QNetworkReply::NoError && status < 400) {
        fail(QStringLiteral("%1: cannot reach %2: %3").arg(m_repoId, m_config.endpoint.toString(), reply->errorString()));
        return;
    }
    if (status >= 400) {
        fail(hubErrorMessage(status, reply->rawHeader("X-Error-Code"), m_repoId, !m_config.token.isEmpty()));
        return;
    }
    QString error;
    const RepoInfo info = parseRepoInfo(reply->readAll(), &error);
    if (info.commit.isEmpty()) {
        fail(m_repoId + QStringLiteral(": ") + error);
        return;
    }
    static const QRegularExpression kCommit(QStringLiteral("^[0-9a-f]{40}$"));
    if (!kCommit.match(info.commit).hasMatch()) {
        fail(QStringLiteral("%1: the Hub gave \"%2\" as the commit, not a 40-digit hash").arg(m_repoId, info.commit));
        return;
    }
    m_commit = info.commit;
    m_files = neededFiles(info.files);
    const bool hasConfig = std::any_of(m_files.begin(), m_files.end(), [](const RepoFile& f) { return f.path == QStringLiteral("config.json"); });
    const bool hasWeights = std::any_of(m_files.begin(), m_files.end(), [](const RepoFile& f) { return f.path.endsWith(QStringLiteral(".safetensors")); });
    if (!hasConfig || !hasWeights) {
        fail(QStringLiteral("%1@%2 has no %3: not a model this app can run (it needs config.json and .safetensors shards)")
                 .arg(m_repoId, m_revision, hasConfig ? QStringLiteral(".safetensors weights") : QStringLiteral("config.json")));
        return;
    }
    m_totalBytes = 0;
    for (const RepoFile& f : m_files) m_totalBytes += std::max<qint64>(f.size, 0);
    if (!checkDiskSpace()) return;
    m_doneBefore = 0;
    nextFile();
}

bool HubDownloader::checkDiskSpace() {
    qint64 needed = 0;
    for (const RepoFile& f : m_files) needed += std::max<qint64>(f.size, 0) - bytesOnDisk(f);
    const qint64 available = m_diskSpace(m_config.cacheDir);
    if (available >= 0 && needed > available) {
        fail(QStringLiteral("not enough disk space for %1: %2 more needed, %3 free in %4")
                 .arg(m_repoId, gib(needed), gib(available), m_config.cacheDir));
        return false;
    }
    emit messageLogged(QStringLiteral("%1 files, %2 to fetch, %3 free").arg(m_files.size()).arg(gib(needed), gib(available)));
    return true;
}

// ---- per file: metadata -----------------------------------------------------------------------------

void HubDownloader::nextFile() {
    if (m_job) m_doneBefore += std::max<qint64>(m_job->expectedSize, 0);
    m_job.reset();
    if (++m_index >= m_files.size()) {
        finishAll();
        return;
    }
    m_job = std::make_unique<FileJob>();
    m_job->file = m_files[m_index];
    requestHead(resolveUrl(m_config.endpoint, m_repoId, m_commit, m_job->file.path), 0);
}

void HubDownloader::requestHead(const QUrl& url, int hops) {
    QNetworkRequest request = hubRequest(url);
    // Like get_hf_file_metadata: do not follow the redirect to the CDN (its headers describe the file),
    // only relative ones (a renamed repository).
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    m_reply = m_network.head(request);
    connect(m_reply, &QNetworkReply::finished, this, [this, hops] { onHeadFinished(hops); });
}

void HubDownloader::onHeadFinished(int hops) {
    QNetworkReply* reply = takeFinishedReply();
    if (!reply) return;
    const QString what = m_repoId + QLatin1Char('/') + m_job->file.path;
    const int status = httpStatus(reply);
    if (status >= 400) {
        fail(hubErrorMessage(status, reply->rawHeader("X-Error-Code"), what, !m_config.token.isEmpty()));
        return;
    }
    if (status == 0) {
        fail(QStringLiteral("%1: cannot reach the Hub: %2").arg(what, reply->errorString()));
        return;
    }
    const QByteArray locationHeader = reply->rawHeader("Location");
    if (status >= 300 && status < 400) {
        const QUrl target = reply->url().resolved(QUrl::fromEncoded(locationHeader));
        const bool relative = QUrl::fromEncoded(locationHeader).isRelative();
        if (relative) {
            if (hops >= kMaxRelativeRedirects) {
                fail(what + QStringLiteral(": too many redirects"));
                return;
            }
            requestHead(target, hops + 1);
            return;
        }
        m_job->location = target;
    } else {
        m_job->location = reply->url();
    }
    QByteArray etag = reply->rawHeader("X-Linked-Etag");
    if (etag.isEmpty()) etag = reply->rawHeader("ETag");
    m_job->etag = normalizeEtag(etag);
    QByteArray size = reply->rawHeader("X-Linked-Size");
    if (size.isEmpty()) size = reply->rawHeader("Content-Length");
    bool sizeOk = false;
    m_job->expectedSize = size.toLongLong(&sizeOk);
    static const QRegularExpression kEtag(QStringLiteral("^[0-9A-Za-z]{8,128}$"));  // becomes a file name
    if (!kEtag.match(m_job->etag).hasMatch()) {
        fail(QStringLiteral("%1: the Hub sent no usable ETag (\"%2\")").arg(what, m_job->etag));
        return;
    }
    if (!sizeOk || m_job->expectedSize < 0) {
        fail(what + QStringLiteral(": the Hub sent no file size"));
        return;
    }
    const QByteArray commit = reply->rawHeader("X-Repo-Commit");
    if (!commit.isEmpty() && QString::fromLatin1(commit) != m_commit) {
        fail(QStringLiteral("%1: the file belongs to commit %2, the listing to %3").arg(what, QString::fromLatin1(commit), m_commit));
        return;
    }
    if (m_job->file.isLfs() && m_job->etag != m_job->file.lfsSha256) {
        fail(QStringLiteral("%1: the Hub's LFS metadata says sha256 %2 but the file's ETag is %3")
                 .arg(what, m_job->file.lfsSha256, m_job->etag));
        return;
    }
    beginTransfer();
}

// ---- per file: transfer -----------------------------------------------------------------------------

void HubDownloader::beginTransfer() {
    FileJob& job = *m_job;
    QDir().mkpath(repoFolder() + QStringLiteral("/blobs"));
    const QString blob = blobPath(job.etag);
    if (QFileInfo(blob).size() == job.expectedSize && QFileInfo::exists(blob)) {
        emit messageLogged(QStringLiteral("%1: already in the cache").arg(job.file.path));
        linkSnapshot(job.etag);
        return;
    }
    job.partial = std::make_unique<QFile>(blob + QStringLiteral(".incomplete"));
    if (!job.partial->open(QIODevice::ReadWrite)) {
        fail(QStringLiteral("cannot write %1: %2").arg(job.partial->fileName(), job.partial->errorString()));
        return;
    }
    if (job.partial->size() > job.expectedSize) job.partial->resize(0);  // not this file's bytes
    // LFS files: sha256 of the content (the LFS oid). Others: git's blob sha1 ("blob <size>\0" + content).
    job.hash = std::make_unique<QCryptographicHash>(job.file.isLfs() ? QCryptographicHash::Sha256
                                                                       : QCryptographicHash::Sha1);
    if (!job.file.isLfs()) job.hash->addData(QByteArray("blob ") + QByteArray::number(job.expectedSize) + '\0');
    job.hashedBytes = 0;
    if (job.partial->size() > 0)
        emit messageLogged(QStringLiteral("%1: resuming at %2 of %3").arg(job.file.path, gib(job.partial->size()), gib(job.expectedSize)));
    job.partial->seek(0);
    hashExistingPartial();
}

// Hashes what an earlier run left in the .incomplete file, a chunk per event-loop turn (a GUI stays live).
void HubDownloader::hashExistingPartial() {
    if (m_cancelled) {
        m_running = false;
        m_job.reset();
        emit cancelled();
        return;
    }
    FileJob& job = *m_job;
    const qint64 size = job.partial->size();
    if (job.hashedBytes < size) {
        const QByteArray chunk = job.partial->read(std::min(kHashChunk, size - job.hashedBytes));
        if (chunk.isEmpty()) {
            fail(QStringLiteral("cannot read %1").arg(job.partial->fileName()));
            return;
        }
        job.hash->addData(chunk);
        job.hashedBytes += chunk.size();
        QTimer::singleShot(0, this, &HubDownloader::hashExistingPartial);
        return;
    }
    if (size == job.expectedSize) {
        completeFile();
        return;
    }
    requestBody();
}

void HubDownloader::requestBody() {
    FileJob& job = *m_job;
    job.partial->seek(job.partial->size());
    QNetworkRequest request = hubRequest(job.location);
    // Redirects are followed in onBodyFinished, so the token never follows the request to another host
    // (requests, which huggingface_hub uses, drops Authorization on such a redirect too).
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (job.partial->size() > 0) request.setRawHeader("Range", "bytes=" + QByteArray::number(job.partial->size()) + "-");
    m_reply = m_network.get(request);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &HubDownloader::onBodyMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &HubDownloader::onBodyReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &HubDownloader::onBodyFinished);
}

void HubDownloader::onBodyMetaData() {
    FileJob& job = *m_job;
    const int status = httpStatus(m_reply);
    // A server that ignores Range answers 200 with the whole file: start the partial over.
    if (status == 200 && job.partial->size() > 0) {
        emit messageLogged(QStringLiteral("%1: the server ignored the resume request; starting over").arg(job.file.path));
        job.partial->resize(0);
        job.partial->seek(0);
        job.hash->reset();
        if (!job.file.isLfs()) job.hash->addData(QByteArray("blob ") + QByteArray::number(job.expectedSize) + '\0');
        job.hashedBytes = 0;
    }
}

void HubDownloader::onBodyReadyRead() {
    FileJob& job = *m_job;
    const int status = httpStatus(m_reply);
    if (status != 200 && status != 206) return;  // error bodies are not file bytes
    const QByteArray data = m_reply->readAll();
    if (job.partial->size() + data.size() > job.expectedSize) {
        m_reply->abort();
        return;  // onBodyFinished reports the overrun
    }
    if (job.partial->write(data) != data.size()) {
        m_reply->abort();
        return;
    }
    job.hash->addData(data);
    job.hashedBytes += data.size();
    emitProgress(false);
}

void HubDownloader::onBodyFinished() {
    QNetworkReply* reply = m_reply;
    reply->deleteLater();
    m_reply = nullptr;
    FileJob& job = *m_job;
    job.partial->flush();
    if (m_cancelled) {
        job.partial->close();
        m_running = false;
        m_job.reset();
        emit cancelled();
        return;
    }
    const QString what = m_repoId + QLatin1Char('/') + job.file.path;
    const int status = httpStatus(reply);
    if (status >= 300 && status < 400 && reply->hasRawHeader("Location")) {
        const QUrl target = reply->url().resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
        if (++job.redirects > kMaxBodyRedirects || (reply->url().scheme() == QStringLiteral("https") &&
                                                   target.scheme() != QStringLiteral("https"))) {
            fail(QStringLiteral("%1: refused redirect to %2").arg(what, target.toString()));
            return;
        }
        job.location = target;
        requestBody();
        return;
    }
    if (status >= 400 && status != 416) {
        fail(hubErrorMessage(status, reply->rawHeader("X-Error-Code"), what, !m_config.token.isEmpty()));
        return;
    }
    if (job.partial->size() > job.expectedSize || job.partial->error() != QFileDevice::NoError) {
        fail(QStringLiteral("%1: cannot store the file (%2)").arg(what, job.partial->size() > job.expectedSize
                                                                            ? QStringLiteral("more bytes than announced")
                                                                            : job.partial->errorString()));
        return;
    }
    if (job.partial->size() < job.expectedSize) {
        // Dropped connection (or a stall): resume from what is on disk, like http_get's retries. The count
        // restarts whenever an attempt brought new bytes.
        const bool progressed = reply->error() == QNetworkReply::NoError || job.hashedBytes > 0;
        if (progressed) job.retries = 0;
        if (++job.retries > m_maxRetries) {
            fail(QStringLiteral("%1: the connection keeps failing (%2); run the download again to resume at %3")
                     .arg(what, reply->errorString(), gib(job.partial->size())));
            return;
        }
        emit messageLogged(QStringLiteral("%1: connection lost at %2 (%3); resuming")
                               .arg(job.file.path, gib(job.partial->size()), reply->errorString()));
        job.hashedBytes = 0;  // counts new bytes of the next attempt
        QTimer::singleShot(m_retryDelayMs, this, [this] {
            if (m_cancelled) {
                m_running = false;
                m_job.reset();
                emit cancelled();
                return;
            }
            requestBody();
        });
        return;
    }
    completeFile();
}

void HubDownloader::completeFile() {
    FileJob& job = *m_job;
    const QString actual = QString::fromLatin1(job.hash->result().toHex());
    const QString expected = job.file.isLfs() ? job.file.lfsSha256 : job.etag;
    const QString kind = job.file.isLfs() ? QStringLiteral("sha256") : QStringLiteral("git sha1");
    const QString partialName = job.partial->fileName();
    job.partial->close();
    if (actual != expected) {
        QFile::remove(partialName);
        fail(QStringLiteral("%1/%2: %3 mismatch: expected %4, got %5; the partial file was deleted, run the download "
                            "again")
                 .arg(m_repoId, job.file.path, kind, expected, actual));
        return;
    }
    const QString blob = blobPath(job.etag);
    QFile::remove(blob);
    if (!QFile::rename(partialName, blob)) {
        fail(QStringLiteral("cannot move %1 to %2").arg(partialName, blob));
        return;
    }
    linkSnapshot(job.etag);
}

void HubDownloader::linkSnapshot(const QString& blobName) {
    const QString snapshot = repoFolder() + QStringLiteral("/snapshots/") + m_commit;
    QDir().mkpath(snapshot);
    const std::filesystem::path link = (snapshot + QLatin1Char('/') + m_job->file.path).toStdString();
    std::error_code ec;
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(std::filesystem::path("../../blobs") / blobName.toStdString(), link, ec);
    if (ec) {
        fail(QStringLiteral("cannot link %1: %2").arg(QString::fromStdString(link.string()), QString::fromStdString(ec.message())));
        return;
    }
    emitProgress(true);
    nextFile();
}

void HubDownloader::finishAll() {
    if (m_revision != m_commit) {
        const QString ref = repoFolder() + QStringLiteral("/refs/") + m_revision;
        QDir().mkpath(QFileInfo(ref).path());
        QFile file(ref);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(m_commit.toLatin1()) != m_commit.size()) {
            fail(QStringLiteral("cannot write %1").arg(ref));
            return;
        }
    }
    m_running = false;
    emit finished(repoFolder() + QStringLiteral("/snapshots/") + m_commit);
}

// ---- progress ---------------------------------------------------------------------------------------

void HubDownloader::emitProgress(bool force) {
    const qint64 now = m_clock.elapsed();
    if (!force && m_lastEmitMs >= 0 && now - m_lastEmitMs < kProgressIntervalMs) return;
    m_lastEmitMs = now;
    DownloadProgress p;
    p.file = m_job ? m_job->file.path : QString();
    p.fileIndex = m_index;
    p.fileCount = int(m_files.size());
    const qint64 fileDone = m_job && m_job->partial && m_job->partial->isOpen() ? m_job->partial->size()
                                                                               : (m_job ? m_job->expectedSize : 0);
    p.current.doneBytes = fileDone;
    p.current.totalBytes = m_job ? m_job->expectedSize : 0;
    p.total.doneBytes = m_doneBefore + fileDone;
    p.total.totalBytes = m_totalBytes;
    m_samples.push_back({now, p.total.doneBytes});
    while (m_samples.size() > 2 && now - m_samples.front().first > kRateWindowMs) m_samples.pop_front();
    const qint64 spanMs = now - m_samples.front().first;
    if (spanMs > 0) {
        const double rate = double(p.total.doneBytes - m_samples.front().second) * 1000.0 / double(spanMs);
        for (TransferRate* r : {&p.current, &p.total}) {
            r->bytesPerSecond = rate;
            r->etaSeconds = rate > 0 ? double(r->totalBytes - r->doneBytes) / rate : -1;
        }
    }
    emit progressChanged(p);
}

}  // namespace hub
