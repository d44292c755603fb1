// See chatstore.h. Format (version 1):
// {"version":1,"id":..,"title":..,"created":ISO,"updated":ISO,"model":..,"systemPrompt":..,
//  "messages":[{"role":"user|assistant","text":..,"images":[file names],"state":"complete|stopped|failed",
//               "error":..,"time":ISO,"stats":{...,"stages":[...],"ceilings":{...}},"seed":"decimal","tokens":[...]}]}
// "tokens" (answers, optional): per-token confidence, confidencejson.h; a file without it loads as before,
// and an invalid block is dropped with the message kept.
#include "chatstore.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <algorithm>

#include "confidencejson.h"
#include "stagesjson.h"

#ifdef Q_OS_UNIX
#include <sys/stat.h>
#endif

namespace {
constexpr int kFormatVersion = 1;

llava::Status ioError(const QString& what) { return llava::makeError(llava::ErrorCode::IoError, what.toStdString()); }

QString stateName(MessageState s) {
    switch (s) {
    case MessageState::Stopped: return QStringLiteral("stopped");
    case MessageState::Failed: return QStringLiteral("failed");
    default: return QStringLiteral("complete");  // a reply still streaming is saved as what it has
    }
}

MessageState parseState(const QString& s) {
    if (s == QLatin1String("stopped")) return MessageState::Stopped;
    if (s == QLatin1String("failed")) return MessageState::Failed;
    return MessageState::Complete;
}

QJsonObject statsToJson(const llava::GenerationStats& s) {
    QJsonObject o{{"imageEncodeMs", s.imageEncodeMs}, {"prefillMs", s.prefillMs}, {"prefillTokPerS", s.prefillTokPerS},
                  {"decodeTokPerS", s.decodeTokPerS}, {"timeToFirstTokenMs", s.timeToFirstTokenMs},
                  {"imageTokens", s.imageTokens}, {"textTokens", s.textTokens}, {"generatedTokens", s.generatedTokens}};
    if (!s.stages.empty()) o[QStringLiteral("stages")] = chatStagesToJson(s.stages);
    if (s.ceilings) o[QStringLiteral("ceilings")] = chatCeilingsToJson(*s.ceilings);
    return o;
}

llava::GenerationStats statsFromJson(const QJsonObject& o) {
    llava::GenerationStats s;
    s.imageEncodeMs = o[QStringLiteral("imageEncodeMs")].toDouble();
    s.prefillMs = o[QStringLiteral("prefillMs")].toDouble();
    s.prefillTokPerS = o[QStringLiteral("prefillTokPerS")].toDouble();
    s.decodeTokPerS = o[QStringLiteral("decodeTokPerS")].toDouble();
    s.timeToFirstTokenMs = o[QStringLiteral("timeToFirstTokenMs")].toDouble();
    s.imageTokens = o[QStringLiteral("imageTokens")].toInt();
    s.textTokens = o[QStringLiteral("textTokens")].toInt();
    s.generatedTokens = o[QStringLiteral("generatedTokens")].toInt();
    // The timeline is an extra: a block that fails its checks costs the chart, never the answer.
    if (o.contains(QStringLiteral("stages"))) s.stages = chatStagesFromJson(o[QStringLiteral("stages")]).value_or(std::vector<llava::StageTiming>{});
    if (o.contains(QStringLiteral("ceilings"))) s.ceilings = chatCeilingsFromJson(o[QStringLiteral("ceilings")]);
    return s;
}

// QSaveFile alone is not enough: Qt 6.4's commit() reports success after a short write (disk full), so
// every write is checked and the size on disk compared before the rename; on any failure the previous
// file stays as it was.
llava::Status writeAtomically(const QString& path, const QByteArray& bytes) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return ioError(path + QStringLiteral(": cannot write: ") + file.errorString());
    const qint64 written = file.write(bytes);
    if (written != bytes.size() || !file.flush() || file.size() != bytes.size()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return ioError(path + QStringLiteral(": not saved, only %1 of %2 bytes could be written (disk full?): %3")
                                  .arg(std::max<qint64>(written, 0)).arg(bytes.size()).arg(why));
    }
    if (!file.commit()) return ioError(path + QStringLiteral(": save failed: ") + file.errorString());
    if (QFileInfo(path).size() != bytes.size())
        return ioError(path + QStringLiteral(": saved file has the wrong size (disk full?)"));
    return llava::Status::ok();
}

QByteArray sha256(const QByteArray& bytes) { return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256); }

DiskVersion statPath(const QString& path) {
    DiskVersion v;
#ifdef Q_OS_UNIX
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0) return v;
    v.exists = true;
    v.size = qint64(st.st_size);
    v.modifiedNs = qint64(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    v.inode = quint64(st.st_ino);
#else
    const QFileInfo info(path);
    if (!info.exists()) return v;
    v.exists = true;
    v.size = info.size();
    v.modifiedNs = info.lastModified().toMSecsSinceEpoch() * 1'000'000;
#endif
    return v;
}

// A file suffix taken from a user's file name goes into a stored file name: letters and digits only.
QString safeSuffix(const QString& suffix) {
    QString out;
    for (const QChar c : suffix.toLower())
        if ((c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))) out += c;
    return out.isEmpty() || out.size() > 8 ? QStringLiteral("img") : out;
}

QString contentHash(const QByteArray& bytes) {
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex().left(24));
}

// A content-addressed copy is reused only when it really holds that content: a copy left truncated by
// an earlier full disk would otherwise fail forever.
llava::Status storeVerified(const QString& target, const QByteArray& bytes, const QString& hash) {
    QFile existing(target);
    if (existing.exists() && existing.size() == bytes.size() && existing.open(QIODevice::ReadOnly) &&
        contentHash(existing.readAll()) == hash)
        return llava::Status::ok();
    existing.close();
    LLAVA_TRY(writeAtomically(target, bytes));
    QFile back(target);
    if (!back.open(QIODevice::ReadOnly) || contentHash(back.readAll()) != hash)
        return ioError(target + QStringLiteral(": the stored copy does not match the image (disk full?)"));
    return llava::Status::ok();
}
}  // namespace

ChatStore::ChatStore(QString rootDir) : m_root(std::move(rootDir)) {
    QDir().mkpath(chatsDir());
    QDir().mkpath(imagesDir());
}

QString ChatStore::rootDir() const { return m_root; }
QString ChatStore::chatsDir() const { return m_root + QStringLiteral("/chats"); }
QString ChatStore::imagesDir() const { return m_root + QStringLiteral("/images"); }
QString ChatStore::filePath(const QString& id) const { return chatsDir() + QLatin1Char('/') + id + QStringLiteral(".json"); }

bool ChatStore::isValidImageName(const QString& name) {
    if (name.isEmpty() || name.size() > 255 || name == QLatin1String(".") || name == QLatin1String("..")) return false;
    for (const QChar c : name)
        if (c == QLatin1Char('/') || c == QLatin1Char('\\') || c.unicode() < 0x20 || c.unicode() == 0x7f) return false;
    return true;
}

QByteArray ChatStore::toJson(const Conversation& c) {
    QJsonArray messages;
    for (const ChatMessage& m : c.messages) {
        QJsonArray images;
        for (const QString& path : m.images) images.append(QFileInfo(path).fileName());
        QJsonObject o{{"role", m.role == MessageRole::User ? "user" : "assistant"}, {"text", m.text},
                      {"images", images}, {"state", stateName(m.state)},
                      {"time", m.time.toString(Qt::ISODateWithMs)}};
        if (!m.error.isEmpty()) o[QStringLiteral("error")] = m.error;
        if (m.hasStats) o[QStringLiteral("stats")] = statsToJson(m.stats);
        if (m.seed) o[QStringLiteral("seed")] = QString::number(*m.seed);  // a string: 64 bits do not fit a double
        if (m.role == MessageRole::Assistant && !m.tokens.isEmpty()) o[QStringLiteral("tokens")] = confidenceToJson(m.tokens);
        messages.append(o);
    }
    QJsonObject root{{"version", kFormatVersion}, {"id", c.id}, {"title", c.title},
                     {"created", c.created.toString(Qt::ISODateWithMs)}, {"updated", c.updated.toString(Qt::ISODateWithMs)},
                     {"model", c.modelName}, {"systemPrompt", c.systemPrompt}, {"messages", messages}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

llava::Result<Conversation> ChatStore::fromJson(const QByteArray& json, const QString& sourceName) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    auto fail = [&](const QString& why) {
        return llava::makeError(llava::ErrorCode::ParseError, (sourceName + QStringLiteral(": ") + why).toStdString());
    };
    if (doc.isNull()) return fail(QStringLiteral("not valid JSON (%1 at offset %2)").arg(err.errorString()).arg(err.offset));
    if (!doc.isObject()) return fail(QStringLiteral("expected a JSON object"));
    const QJsonObject root = doc.object();
    if (root[QStringLiteral("version")].toInt() != kFormatVersion) return fail(QStringLiteral("unknown format version"));
    if (!root[QStringLiteral("messages")].isArray()) return fail(QStringLiteral("\"messages\" is not an array"));
    Conversation c;
    // The id names the file: it comes from the file name (loadAll), never from the contents, and a
    // stored one is only accepted in the form this app writes (no "/", no "..").
    c.id = root[QStringLiteral("id")].toString();
    if (!isValidConversationId(c.id)) return fail(QStringLiteral("bad \"id\" (expected letters, digits and '-')"));
    c.title = root[QStringLiteral("title")].toString();
    c.created = QDateTime::fromString(root[QStringLiteral("created")].toString(), Qt::ISODateWithMs);
    c.updated = QDateTime::fromString(root[QStringLiteral("updated")].toString(), Qt::ISODateWithMs);
    c.modelName = root[QStringLiteral("model")].toString();
    c.systemPrompt = root[QStringLiteral("systemPrompt")].toString();
    for (const QJsonValue& v : root[QStringLiteral("messages")].toArray()) {
        if (!v.isObject()) return fail(QStringLiteral("a message is not an object"));
        const QJsonObject o = v.toObject();
        ChatMessage m;
        const QString role = o[QStringLiteral("role")].toString();
        if (role != QLatin1String("user") && role != QLatin1String("assistant")) return fail(QStringLiteral("bad role \"%1\"").arg(role));
        m.role = role == QLatin1String("user") ? MessageRole::User : MessageRole::Assistant;
        m.text = o[QStringLiteral("text")].toString();
        for (const QJsonValue& img : o[QStringLiteral("images")].toArray()) {
            // A name is joined to the images folder: "", "..", "a/b" or a non-string would point elsewhere.
            if (!img.isString() || !isValidImageName(img.toString()))
                return fail(QStringLiteral("bad image name %1 (expected a file name in the images folder)")
                                .arg(QString::fromUtf8(QJsonDocument(QJsonArray{img}).toJson(QJsonDocument::Compact))));
            m.images << img.toString();
        }
        m.state = parseState(o[QStringLiteral("state")].toString());
        m.error = o[QStringLiteral("error")].toString();
        m.time = QDateTime::fromString(o[QStringLiteral("time")].toString(), Qt::ISODateWithMs);
        bool seedOk = false;
        const quint64 seed = o[QStringLiteral("seed")].toString().toULongLong(&seedOk);
        if (seedOk) m.seed = seed;
        if (o.contains(QStringLiteral("stats"))) {
            m.hasStats = true;
            m.stats = statsFromJson(o[QStringLiteral("stats")].toObject());
        }
        // Confidence is an extra: a block that fails any check costs the shading and hover cards of that
        // answer, never the message or the chat.
        if (m.role == MessageRole::Assistant && o.contains(QStringLiteral("tokens")))
            m.tokens = confidenceFromJson(o[QStringLiteral("tokens")], m.text.size()).value_or(TokenProbabilities{});
        c.messages << m;
    }
    return c;
}

llava::Result<Conversation> ChatStore::loadFile(const QString& path, DiskVersion* version) const {
    const QFileInfo info(path);
    *version = statPath(path);
    if (version->size > kMaxChatFileBytes)
        return llava::makeError(llava::ErrorCode::OutOfRange,
                                QStringLiteral("%1: %2 MB, above the %3 MB limit for a chat file (not read, left in place)")
                                    .arg(info.fileName()).arg(version->size >> 20).arg(kMaxChatFileBytes >> 20).toStdString());
    QFile file(path);
    QByteArray bytes;
    if (file.open(QIODevice::ReadOnly)) bytes = file.read(kMaxChatFileBytes + 1);
    version->sha256 = sha256(bytes);
    LLAVA_ASSIGN_OR_RETURN(Conversation conversation, fromJson(bytes, info.fileName()));
    conversation.id = info.completeBaseName();
    for (ChatMessage& m : conversation.messages)
        for (QString& img : m.images) img = imagesDir() + QLatin1Char('/') + img;
    return conversation;
}

ChatStore::LoadReport ChatStore::loadAll() const {
    LoadReport report;
    QDir dir(chatsDir());
    for (const QFileInfo& info : dir.entryInfoList({QStringLiteral("*.json")}, QDir::Files)) {
        DiskVersion version;
        auto conversation = loadFile(info.filePath(), &version);
        if (!conversation.isOk() && conversation.status().code() == llava::ErrorCode::OutOfRange) {
            report.problems << QString::fromStdString(conversation.status().message());
            continue;
        }
        if (!conversation.isOk()) {
            QDir().mkpath(dir.filePath(QStringLiteral("corrupt")));
            const QString aside = dir.filePath(QStringLiteral("corrupt/") + info.fileName());
            QFile::remove(aside);
            const bool moved = QFile::rename(info.filePath(), aside);
            report.problems << QString::fromStdString(conversation.status().message()) +
                                   (moved ? QObject::tr(" (moved to %1)").arg(aside) : QObject::tr(" (could not move it aside)"));
            continue;
        }
        report.versions.insert(conversation->id, version);
        report.conversations << *conversation;
    }
    std::sort(report.conversations.begin(), report.conversations.end(),
              [](const Conversation& a, const Conversation& b) { return a.updated > b.updated; });
    return report;
}

llava::Status ChatStore::save(const Conversation& c) const { return write(c).status(); }

llava::Result<DiskVersion> ChatStore::write(const Conversation& c) const {
    if (!isValidConversationId(c.id)) return ioError(QStringLiteral("refusing to save a chat with id \"%1\"").arg(c.id));
    const QByteArray bytes = toJson(c);
    LLAVA_TRY(writeAtomically(filePath(c.id), bytes));
    DiskVersion version = statPath(filePath(c.id));
    version.sha256 = sha256(bytes);
    return version;
}

DiskVersion ChatStore::statFile(const QString& id) const { return statPath(filePath(id)); }

QByteArray ChatStore::hashFile(const QString& id) const {
    QFile file(filePath(id));
    if (!file.open(QIODevice::ReadOnly)) return {};
    return sha256(file.read(kMaxChatFileBytes + 1));
}

llava::Status ChatStore::remove(const QString& id) const {
    if (QFile::exists(filePath(id)) && !QFile::remove(filePath(id))) return ioError(filePath(id) + QStringLiteral(": cannot delete"));
    return llava::Status::ok();
}

llava::Result<QString> ChatStore::importImageFile(const QString& path) const {
    QFile in(path);
    if (!in.open(QIODevice::ReadOnly)) return ioError(path + QStringLiteral(": cannot read: ") + in.errorString());
    const QByteArray bytes = in.readAll();
    const QString hash = contentHash(bytes);
    const QString suffix = safeSuffix(QFileInfo(path).suffix());
    const QString target = imagesDir() + QLatin1Char('/') + hash + QLatin1Char('.') + suffix;
    LLAVA_TRY(storeVerified(target, bytes, hash));
    return target;
}

llava::Result<QStringList> ChatStore::importImageFiles(const QStringList& paths) const {
    QStringList stored;
    for (const QString& path : paths) {
        if (path.startsWith(imagesDir() + QLatin1Char('/'))) {
            stored << path;
            continue;
        }
        LLAVA_ASSIGN_OR_RETURN(QString copy, importImageFile(path));
        stored << copy;
    }
    return stored;
}

llava::Result<QString> ChatStore::importImage(const QImage& image) const {
    if (image.isNull()) return llava::makeError(llava::ErrorCode::InvalidArgument, "empty image");
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    const QString hash = contentHash(png);
    const QString target = imagesDir() + QLatin1Char('/') + hash + QStringLiteral(".png");
    LLAVA_TRY(storeVerified(target, png, hash));
    return target;
}

QString ChatStore::toMarkdown(const Conversation& c, const QString& imageDirName) {
    QString md = QStringLiteral("# %1\n\n").arg(c.title.isEmpty() ? defaultTitle(c) : c.title);
    if (!c.modelName.isEmpty()) md += QStringLiteral("*Model: %1*\n\n").arg(c.modelName);
    for (const ChatMessage& m : c.messages) {
        md += m.role == MessageRole::User ? QStringLiteral("## User\n\n") : QStringLiteral("## Assistant\n\n");
        for (const QString& img : m.images)
            md += QStringLiteral("![image](%1/%2)\n\n").arg(imageDirName, QFileInfo(img).fileName());
        md += m.text + QStringLiteral("\n\n");
        if (m.state == MessageState::Stopped) md += QStringLiteral("*(stopped)*\n\n");
    }
    return md;
}

llava::Status ChatStore::exportMarkdown(const Conversation& c, const QString& markdownPath) const {
    const QFileInfo info(markdownPath);
    const QString imageDirName = info.completeBaseName() + QStringLiteral("_images");
    const QString imageDir = info.dir().filePath(imageDirName);
    for (const ChatMessage& m : c.messages)
        for (const QString& img : m.images) {
            QDir().mkpath(imageDir);
            const QString target = imageDir + QLatin1Char('/') + QFileInfo(img).fileName();
            if (!QFile::exists(target) && !QFile::copy(img, target)) return ioError(target + QStringLiteral(": cannot copy image"));
        }
    return writeAtomically(markdownPath, toMarkdown(c, imageDirName).toUtf8());
}

llava::Status ChatStore::exportJson(const Conversation& c, const QString& jsonPath) const {
    return writeAtomically(jsonPath, toJson(c));
}
