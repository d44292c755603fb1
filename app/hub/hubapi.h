// The Hub's HTTP protocol as huggingface_hub speaks it (hf_api.py model_info(files_metadata=True),
// file_download.py get_hf_file_metadata / hf_hub_download), without any I/O:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}?blobs=true -> {"sha": commit, "siblings": [{"rfilename",
//        "size", "blobId", "lfs": {"sha256", "size"}}]}
//   HEAD {endpoint}/{repo}/resolve/{commit}/{file} -> X-Repo-Commit, X-Linked-Etag (LFS: the sha256) or ETag
//        (git blob sha1), X-Linked-Size or Content-Length, and for LFS files a redirect (Location) to the CDN
//   GET  that location, with "Range: bytes=N-" to resume into blobs/<etag>.incomplete
// Errors: 401/403 with X-Error-Code GatedRepo / RepoNotFound, 404 RevisionNotFound / EntryNotFound.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

namespace hub {

struct RepoFile {
    QString path;           // "model-00001-of-00004.safetensors"
    qint64 size = -1;       // bytes (the LFS object's for LFS files); -1 unknown
    QString blobId;         // git blob sha1 (the ETag of a non-LFS file)
    QString lfsSha256;      // empty for non-LFS files
    bool isLfs() const { return !lfsSha256.isEmpty(); }
};

struct RepoInfo {
    QString commit;         // "sha": the revision resolved to a commit
    QList<RepoFile> files;
};

// Parses the model_info JSON; error text in *error (naming what is missing) and an empty commit on failure.
RepoInfo parseRepoInfo(const QByteArray& json, QString* error);

// The files this app needs: config/tokenizer/processor JSON, tokenizer.model, the safetensors shards and
// their index (top level only; no .bin, .gitattributes, README, tokenizer.json). Order: small files first.
QList<RepoFile> neededFiles(const QList<RepoFile>& files);

QUrl repoInfoUrl(const QUrl& endpoint, const QString& repoId, const QString& revision);
QUrl resolveUrl(const QUrl& endpoint, const QString& repoId, const QString& revision, const QString& file);

// huggingface_hub's _normalize_etag: strips W/ and quotes.
QString normalizeEtag(const QByteArray& etag);

// The user-facing message for an HTTP error of the Hub (401/403 -> "needs a token", 404 -> not found).
// errorCode: the X-Error-Code header; hasToken: whether a token was sent.
QString hubErrorMessage(int httpStatus, const QByteArray& errorCode, const QString& what, bool hasToken);

// A repo id as the Hub accepts it: "name" or "org/name" of [A-Za-z0-9._-], no "--", no "..".
bool isValidRepoId(const QString& repoId);

}  // namespace hub
