// Item model of one conversation's messages (GUI thread only). The inference worker never sees it:
// the main window appends streamed pieces when the controller's signals arrive.
#pragma once

#include <QAbstractListModel>

#include "chattypes.h"

class ChatModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { RoleRole = Qt::UserRole + 1, TextRole, ImagesRole, StateRole, ErrorRole, StatsTextRole };

    explicit ChatModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setConversation(const Conversation& conversation);
    const Conversation& conversation() const { return m_conversation; }
    const ChatMessage& message(int row) const { return m_conversation.messages.at(row); }

    int appendMessage(const ChatMessage& message);
    void appendText(int row, const QString& text);
    void setText(int row, const QString& text);
    void setState(int row, MessageState state, const QString& error = {});
    void setStats(int row, const llava::GenerationStats& stats);
    void removeFrom(int row);  // drops rows [row, end)
    void setTitle(const QString& title);

    // "TTFT 120 ms · 35.2 tok/s · 2340 image + 18 text tokens"
    static QString statsText(const llava::GenerationStats& stats);

signals:
    void conversationChanged();  // any mutation (persistence listens)

private:
    void touch();
    Conversation m_conversation;
};
