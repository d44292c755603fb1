// The one owner of every conversation (Okular's Document pattern): the chats on disk, the messages of
// each, persistence and deletion. Views observe it and never keep copies: the chat list reads it as a
// list model (one row per chat, newest first; filter it with a QSortFilterProxyModel on SearchTextRole),
// ChatModel adapts one chat's messages, and the inference request is built from it.
//
// Every mutation goes through here, is announced with a signal, and is written to disk (atomically,
// through ChatStore) when it completes; streamed pieces are written when the reply settles. A deleted chat
// is removed from the list and its file (and the images no other chat uses) is moved to <root>/trash,
// emptied at the next start; undoRemove() brings it back until then. A chat that is no longer in the
// store is never written again, whatever else happens.
//
// Nothing is lost (docs/reliability.md):
//  - A save never overwrites a chat file that changed on disk since this store loaded or last wrote it
//    (another program, a sync tool, a second app instance that got past the single-instance lock): the
//    version on disk is kept as a new chat ("… (changed on disk)", its file renamed, byte for byte), this
//    store's version is written under the original id, and conflictKept() says so. A changed stat with
//    the same content (touch, a restored backup) is no conflict.
//  - A save that fails (disk full, permissions) leaves the previous file as it was, keeps the chat dirty
//    and retries every kRetryMs, at the next change of that chat and when the store is destroyed;
//    saveRecovered() follows the first save that succeeds again.
// GUI thread only.
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QSet>
#include <QList>
#include <QStringList>
#include <memory>

#include "chattypes.h"
#include "llava/status.h"

class ChatStore;
class QTimer;
struct DiskVersion;

class ConversationStore : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { IdRole = Qt::UserRole + 1, SearchTextRole, UpdatedRole };

    explicit ConversationStore(const QString& rootDir, QObject* parent = nullptr);
    ~ConversationStore() override;

    // Reads every chat (newest first) and empties the trash; returns the problems (files moved aside).
    QStringList load();

    // QAbstractListModel: the chat list.
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

    const ChatStore& files() const { return *m_files; }
    int indexOf(const QString& id) const;
    const Conversation* find(const QString& id) const;  // nullptr when not (or no longer) in the store
    const QList<Conversation>& conversations() const { return m_conversations; }

    // A new, empty chat at the top of the list (not written until it has a message). Returns its id.
    QString create(const QString& systemPrompt);
    // Moves the chat's file and its unshared images to the trash; the chat disappears from the list.
    llava::Status remove(const QString& id);
    // Brings back the chat removed last (until the next start). False when there is none.
    bool undoRemove();
    bool canUndoRemove() const { return m_trashed != nullptr; }
    void rename(const QString& id, const QString& title);

    // Message edits of one chat. Rows are message indices of that chat.
    int appendMessage(const QString& id, const ChatMessage& message);
    void appendText(const QString& id, int row, const QString& text);  // streaming: not written per piece
    // Confidence of streamed tokens; announced by the appendText / setState that follows (no signal here).
    void appendTokens(const QString& id, int row, const TokenProbabilities& tokens);
    void setState(const QString& id, int row, MessageState state, const QString& error = {});
    void setStats(const QString& id, int row, const llava::GenerationStats& stats);
    void removeMessagesFrom(const QString& id, int row);  // drops rows [row, end)

    // Writes the chat now (normally automatic). Empty chats are not written.
    llava::Status save(const QString& id);
    // Retries every chat whose last save failed; true when none is left unsaved.
    bool saveDirty();
    bool hasUnsavedChanges() const { return !m_dirty.isEmpty(); }
    static constexpr int kRetryMs = 15000;
    void setRetryInterval(int ms);  // tests

signals:
    void messagesAboutToBeInserted(const QString& id, int first, int last);
    void messagesInserted(const QString& id, int first, int last);
    void messagesAboutToBeRemoved(const QString& id, int first, int last);
    void messagesRemoved(const QString& id, int first, int last);
    void messageChanged(const QString& id, int row, MessageChange change);
    void conversationRemoved(const QString& id);
    // A save failed (disk full, permissions): the message names the file; the chat stays in memory.
    void saveFailed(const QString& id, const QString& message);
    // A chat whose save had failed is saved now.
    void saveRecovered(const QString& id);
    // The file of chat `id` had changed on disk: that version is kept as chat `copyId` (already in the
    // list); `id` keeps this store's version. The message names both.
    void conflictKept(const QString& id, const QString& copyId, const QString& message);

private:
    Conversation* findMutable(const QString& id);
    ChatMessage* messageAt(const QString& id, int row);
    void touch(const QString& id, bool write);
    QString trashDir() const;
    // The chat's file changed on disk since we read or wrote it (content compared when the stat differs).
    bool changedOnDisk(const QString& id);
    // Renames the changed file to a new id and adds it to the list; returns the new id ("" on failure).
    QString keepDiskVersion(const QString& id);

    std::unique_ptr<ChatStore> m_files;
    QList<Conversation> m_conversations;  // newest first
    struct Trashed {
        Conversation conversation;
        int row = 0;
        QStringList movedFiles;  // {trash path, original path} pairs, flattened
    };
    std::unique_ptr<Trashed> m_trashed;
    QHash<QString, DiskVersion> m_versions;  // id -> the file as last read or written by this store
    QSet<QString> m_dirty;                   // ids whose last save failed
    QTimer* m_retry;
};
