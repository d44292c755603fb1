#include "chatmodel.h"

ChatModel::ChatModel(QObject* parent) : QAbstractListModel(parent) {}

int ChatModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_conversation.messages.size());
}

QVariant ChatModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_conversation.messages.size()) return {};
    const ChatMessage& m = m_conversation.messages.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case TextRole: return m.text;
    case RoleRole: return int(m.role);
    case ImagesRole: return m.images;
    case StateRole: return int(m.state);
    case ErrorRole: return m.error;
    case StatsTextRole: return m.hasStats ? statsText(m.stats) : QString();
    default: return {};
    }
}

QHash<int, QByteArray> ChatModel::roleNames() const {
    return {{RoleRole, "role"}, {TextRole, "text"}, {ImagesRole, "images"}, {StateRole, "state"},
            {ErrorRole, "error"}, {StatsTextRole, "stats"}};
}

void ChatModel::setConversation(const Conversation& conversation) {
    beginResetModel();
    m_conversation = conversation;
    endResetModel();
}

int ChatModel::appendMessage(const ChatMessage& message) {
    const int row = int(m_conversation.messages.size());
    beginInsertRows({}, row, row);
    m_conversation.messages.append(message);
    if (m_conversation.messages.back().time.isNull()) m_conversation.messages.back().time = QDateTime::currentDateTime();
    endInsertRows();
    if (m_conversation.title.isEmpty() && message.role == MessageRole::User) m_conversation.title = defaultTitle(m_conversation);
    touch();
    return row;
}

void ChatModel::appendText(int row, const QString& text) {
    if (row < 0 || row >= rowCount() || text.isEmpty()) return;
    m_conversation.messages[row].text += text;
    emit dataChanged(index(row), index(row), {TextRole});
}

void ChatModel::setText(int row, const QString& text) {
    if (row < 0 || row >= rowCount()) return;
    m_conversation.messages[row].text = text;
    emit dataChanged(index(row), index(row), {TextRole});
    touch();
}

void ChatModel::setState(int row, MessageState state, const QString& error) {
    if (row < 0 || row >= rowCount()) return;
    m_conversation.messages[row].state = state;
    m_conversation.messages[row].error = error;
    emit dataChanged(index(row), index(row), {StateRole, ErrorRole});
    touch();
}

void ChatModel::setStats(int row, const llava::GenerationStats& stats) {
    if (row < 0 || row >= rowCount()) return;
    m_conversation.messages[row].stats = stats;
    m_conversation.messages[row].hasStats = true;
    emit dataChanged(index(row), index(row), {StatsTextRole});
    touch();
}

void ChatModel::removeFrom(int row) {
    if (row < 0 || row >= rowCount()) return;
    beginRemoveRows({}, row, rowCount() - 1);
    m_conversation.messages.erase(m_conversation.messages.begin() + row, m_conversation.messages.end());
    endRemoveRows();
    touch();
}

void ChatModel::setTitle(const QString& title) {
    m_conversation.title = title;
    touch();
}

void ChatModel::touch() {
    m_conversation.updated = QDateTime::currentDateTime();
    emit conversationChanged();
}

QString ChatModel::statsText(const llava::GenerationStats& s) {
    QStringList parts;
    if (s.timeToFirstTokenMs > 0) parts << tr("TTFT %1 ms").arg(s.timeToFirstTokenMs, 0, 'f', 0);
    if (s.decodeTokPerS > 0) parts << tr("%1 tok/s").arg(s.decodeTokPerS, 0, 'f', 1);
    parts << tr("%1 image + %2 text tokens in, %3 out").arg(s.imageTokens).arg(s.textTokens).arg(s.generatedTokens);
    return parts.join(QStringLiteral(" · "));
}
