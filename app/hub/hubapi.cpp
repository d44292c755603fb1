// See hubapi.h.
#include "hubapi.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace hub {

RepoInfo parseRepoInfo(const QByteArray& json, QString* error) {
    RepoInfo info;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject()) {
        *error = QStringLiteral("the Hub's repository info is not a JSON object (%1)").arg(parseError.errorString());
        return {};
    }
    const QJsonObject root = doc.object();
    const QString commit = root.value(QStringLiteral("sha")).toString();
    if (commit.isEmpty()) {
        *error = QStringLiteral("the Hub's repository info has no \"sha\" (commit)");
        return {};
    }
    if (!root.value(QStringLiteral("siblings")).isArray()) {
        *error = QStringLiteral("the Hub's repository info has no \"siblings\" list");
        return {};
    }
    for (const QJsonValue& value : root.value(QStringLiteral("siblings")).toArray()) {
        const QJsonObject s = value.toObject();
        RepoFile file;
        file.path = s.value(QStringLiteral("rfilename")).toString();
        if (file.path.isEmpty()) continue;
        file.size = s.contains(QStringLiteral("size")) ? qint64(s.value(QStringLiteral("size")).toDouble()) : -1;
        file.blobId = s.value(QStringLiteral("blobId")).toString();
        const QJsonObject lfs = s.value(QStringLiteral("lfs")).toObject();
        file.lfsSha256 = lfs.value(QStringLiteral("sha256")).toString();
        if (file.isLfs() && lfs.contains(QStringLiteral("size"))) file.size = qint64(lfs.value(QStringLiteral("size")).toDouble());
        info.files.push_back(file);
    }
    info.commit = commit;
    return info;
}

QList<RepoFile> neededFiles(const QList<RepoFile>& files) {
    static const QStringList kJson = {
        QStringLiteral("config.json"),          QStringLiteral("generation_config.json"),
        QStringLiteral("preprocessor_config.json"), QStringLiteral("processor_config.json"),
        QStringLiteral("tokenizer_config.json"), QStringLiteral("special_tokens_map.json"),
        QStringLiteral("added_tokens.json"),    QStringLiteral("model.safetensors.index.json"),
        QStringLiteral("tokenizer.model")};
    QList<RepoFile> out;
    for (const RepoFile& f : files) {
        if (f.path.contains(QLatin1Char('/'))) continue;
        if (kJson.contains(f.path) || f.path.endsWith(QStringLiteral(".safetensors"))) out.push_back(f);
    }
    std::stable_sort(out.begin(), out.end(), [](const RepoFile& a, const RepoFile& b) {
        return a.path.endsWith(QStringLiteral(".safetensors")) < b.path.endsWith(QStringLiteral(".safetensors"));
    });
    return out;
}

QUrl repoInfoUrl(const QUrl& endpoint, const QString& repoId, const QString& revision) {
    QUrl url = endpoint;
    // quote(revision, safe=""): a branch like "refs/pr/1" is one path segment.
    url.setPath(endpoint.path() + QStringLiteral("/api/models/") + repoId + QStringLiteral("/revision/") +
                    QString::fromLatin1(QUrl::toPercentEncoding(revision)),
                QUrl::TolerantMode);
    url.setQuery(QStringLiteral("blobs=true"));
    return url;
}

QUrl resolveUrl(const QUrl& endpoint, const QString& repoId, const QString& revision, const QString& file) {
    QUrl url = endpoint;
    url.setPath(endpoint.path() + QLatin1Char('/') + repoId + QStringLiteral("/resolve/") +
                    QString::fromLatin1(QUrl::toPercentEncoding(revision)) + QLatin1Char('/') +
                    QString::fromLatin1(QUrl::toPercentEncoding(file, "/")),
                QUrl::TolerantMode);
    return url;
}

QString normalizeEtag(const QByteArray& etag) {
    QString e = QString::fromLatin1(etag).trimmed();
    if (e.startsWith(QStringLiteral("W/"))) e = e.mid(2);
    while (e.startsWith(QLatin1Char('"'))) e = e.mid(1);
    while (e.endsWith(QLatin1Char('"'))) e.chop(1);
    return e;
}

QString hubErrorMessage(int httpStatus, const QByteArray& errorCode, const QString& what, bool hasToken) {
    if (httpStatus == 401 || httpStatus == 403 || errorCode == "GatedRepo") {
        const QString hint = hasToken ? QStringLiteral("the token in use has no access to it (accept the model's terms "
                                                       "on its Hub page, or use another token)")
                                      : QStringLiteral("set HF_TOKEN or log in with `huggingface-cli login`");
        return QStringLiteral("%1: this repo needs a token (HTTP %2%3): %4")
            .arg(what)
            .arg(httpStatus)
            .arg(errorCode.isEmpty() ? QString() : QStringLiteral(", ") + QString::fromLatin1(errorCode))
            .arg(hint);
    }
    if (httpStatus == 404) {
        const QString kind = errorCode == "RevisionNotFound" ? QStringLiteral("revision not found")
                             : errorCode == "EntryNotFound"  ? QStringLiteral("file not found")
                                                             : QStringLiteral("repository or revision not found");
        return QStringLiteral("%1: %2 (HTTP 404)").arg(what, kind);
    }
    return QStringLiteral("%1: the Hub answered HTTP %2").arg(what).arg(httpStatus);
}

bool isValidRepoId(const QString& repoId) {
    static const QRegularExpression kPattern(QStringLiteral("^([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$"));
    return repoId.size() <= 96 && kPattern.match(repoId).hasMatch() && !repoId.contains(QStringLiteral("--")) &&
           !repoId.contains(QStringLiteral(".."));
}

}  // namespace hub
