// Persistence of conversations: one JSON file per chat in <root>/chats, images copied into
// <root>/images (content-addressed), written with QSaveFile so a crash never leaves half a file.
// Every write is checked (a full disk never replaces a chat with a truncated one) and image copies are
// verified against their content hash before they are referenced. A chat's file name is its id, and
// ids are validated, so no file content can make a save write outside <root>/chats.
// A file that does not parse is moved aside to <root>/chats/corrupt/ and reported, never deleted.
// Also: export as Markdown (images copied next to it) and as JSON. GUI thread; small files only.
#pragma once

#include <QImage>
#include <QList>
#include <QString>

#include "chattypes.h"
#include "llava/status.h"

class ChatStore {
public:
    explicit ChatStore(QString rootDir);

    struct LoadReport {
        QList<Conversation> conversations;  // newest first
        QStringList problems;               // "chat-x.json: not valid JSON (moved to corrupt/)"
    };
    LoadReport loadAll() const;
    llava::Status save(const Conversation& conversation) const;
    llava::Status remove(const QString& id) const;

    // Copies an image file into the images folder; returns the stored path (same content -> same file).
    llava::Result<QString> importImageFile(const QString& path) const;
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

private:
    QString m_root;
};
