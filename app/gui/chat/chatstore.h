// Persistence of conversations: one JSON file per chat in <root>/chats, images copied into
// <root>/images (content-addressed), written with QSaveFile so a crash never leaves half a file.
// Every write is checked (a full disk never replaces a chat with a truncated one) and image copies are
// verified against their content hash before they are referenced. A chat's file name is its id, and
// ids are validated, so no file content can make a save write outside <root>/chats.
// A file that does not parse is moved aside to <root>/chats/corrupt/ and reported, never deleted.
// Every read and write reports the file's DiskVersion (stat identity + content hash), so the owner of the
// chats (ConversationStore) can tell whether a file changed on disk since it was loaded before it
// overwrites it. Chat files above kMaxChatFileBytes are reported and left alone, never read.
// Also: export as Markdown (images copied next to it) and as JSON. GUI thread; small files only.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QImage>
#include <QList>
#include <QString>

#include "chattypes.h"
#include "llava/status.h"

// What a chat file on disk is: cheap to compare (stat) and exact when the stat differs (content hash).
struct DiskVersion {
    bool exists = false;
    qint64 size = 0;
    qint64 modifiedNs = 0;  // mtime in ns (every save replaces the file, so it changes with each write)
    quint64 inode = 0;      // 0 where the platform has none
    QByteArray sha256;      // of the content; empty when not read
    // Same stat identity (the file was not replaced or rewritten since).
    bool sameFile(const DiskVersion& other) const {
        return exists == other.exists && size == other.size && modifiedNs == other.modifiedNs && inode == other.inode;
    }
};

class ChatStore {
public:
    explicit ChatStore(QString rootDir);

    // A 100 000-message chat is ~45 MB; a chat file 10 times that is refused unread.
    static constexpr qint64 kMaxChatFileBytes = 512ll << 20;

    struct LoadReport {
        QList<Conversation> conversations;  // newest first
        QStringList problems;               // "chat-x.json: not valid JSON (moved to corrupt/)"
        QHash<QString, DiskVersion> versions;  // id -> the file as it was read
    };
    LoadReport loadAll() const;
    // Reads one chat file (id from the file name, image names joined to imagesDir()); its version in *version.
    llava::Result<Conversation> loadFile(const QString& path, DiskVersion* version) const;
    llava::Status save(const Conversation& conversation) const;
    // save() that also says what is on disk now (the written bytes' version).
    llava::Result<DiskVersion> write(const Conversation& conversation) const;
    // The chat file's stat identity now (sha256 empty), or exists == false.
    DiskVersion statFile(const QString& id) const;
    // The SHA-256 of the file's content now; empty when it cannot be read.
    QByteArray hashFile(const QString& id) const;
    llava::Status remove(const QString& id) const;

    // Copies an image file into the images folder; returns the stored path (same content -> same file).
    llava::Result<QString> importImageFile(const QString& path) const;
    // importImageFile for each path; paths already inside imagesDir() are kept as they are. The first
    // failure is the result (nothing is half-sent).
    llava::Result<QStringList> importImageFiles(const QStringList& paths) const;
    // Saves pasted/dropped pixels as PNG into the images folder.
    llava::Result<QString> importImage(const QImage& image) const;

    static QByteArray toJson(const Conversation& conversation);
    static llava::Result<Conversation> fromJson(const QByteArray& json, const QString& sourceName);
    static QString toMarkdown(const Conversation& conversation, const QString& imageDirName);
    llava::Status exportMarkdown(const Conversation& conversation, const QString& markdownPath) const;
    llava::Status exportJson(const Conversation& conversation, const QString& jsonPath) const;

    QString rootDir() const;
    QString chatsDir() const;
    QString imagesDir() const;
    QString filePath(const QString& id) const;
    // Chat files name their images by file name only: non-empty, not "." or "..", no separators or
    // control characters (a name is joined to imagesDir(), so it must not reach outside it).
    static bool isValidImageName(const QString& name);

private:
    QString m_root;
};
