// Item model of one conversation's messages, read from the ConversationStore that owns them (no copy).
// It follows the store's edits of that conversation; edits themselves go to the store. GUI thread only.
#pragma once

#include <QAbstractListModel>

#include "chattypes.h"

class ConversationStore;

class ChatModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { RoleRole = Qt::UserRole + 1, TextRole, ImagesRole, StateRole, ErrorRole, StatsTextRole };

    explicit ChatModel(ConversationStore* store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Shows the store's conversation `id` (empty: none). A conversation removed from the store empties it.
    void setConversationId(const QString& id);
    const QString& conversationId() const { return m_id; }
    const ChatMessage& message(int row) const;

    // "TTFT 120 ms · 35.2 tok/s · 2340 image + 18 text tokens in, 20 out · seed 42"
    static QString statsText(const ChatMessage& message);

private:
    const Conversation* conversation() const;

    ConversationStore* m_store;
    QString m_id;
};
