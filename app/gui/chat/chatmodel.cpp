#include "chatmodel.h"

#include "conversationstore.h"

ChatModel::ChatModel(ConversationStore* store, QObject* parent) : QAbstractListModel(parent), m_store(store) {
    auto mine = [this](const QString& id) { return !m_id.isEmpty() && id == m_id; };
    connect(store, &ConversationStore::messagesAboutToBeInserted, this, [this, mine](const QString& id, int first, int last) {
        if (mine(id)) beginInsertRows({}, first, last);
    });
    connect(store, &ConversationStore::messagesInserted, this, [this, mine](const QString& id) {
        if (mine(id)) endInsertRows();
    });
    connect(store, &ConversationStore::messagesAboutToBeRemoved, this, [this, mine](const QString& id, int first, int last) {
        if (mine(id)) beginRemoveRows({}, first, last);
    });
    connect(store, &ConversationStore::messagesRemoved, this, [this, mine](const QString& id) {
        if (mine(id)) endRemoveRows();
    });
    connect(store, &ConversationStore::messageChanged, this, [this, mine](const QString& id, int row, MessageChange change) {
        if (!mine(id)) return;
        const QList<int> roles = change == MessageChange::Text    ? QList<int>{TextRole}
                                 : change == MessageChange::State ? QList<int>{StateRole, ErrorRole}
                                                                  : QList<int>{StatsTextRole};
        emit dataChanged(index(row), index(row), roles);
    });
    connect(store, &ConversationStore::conversationRemoved, this, [this, mine](const QString& id) {
        if (mine(id)) setConversationId({});
    });
    connect(store, &QAbstractItemModel::modelReset, this, [this] { setConversationId(m_id); });
}

const Conversation* ChatModel::conversation() const { return m_id.isEmpty() ? nullptr : m_store->find(m_id); }

int ChatModel::rowCount(const QModelIndex& parent) const {
    const Conversation* c = conversation();
    return parent.isValid() || !c ? 0 : int(c->messages.size());
}

const ChatMessage& ChatModel::message(int row) const { return conversation()->messages.at(row); }

QVariant ChatModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const ChatMessage& m = message(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case TextRole: return m.text;
    case RoleRole: return int(m.role);
    case ImagesRole: return m.images;
    case StateRole: return int(m.state);
    case ErrorRole: return m.error;
    case StatsTextRole: return statsText(m);
    default: return {};
    }
}

QHash<int, QByteArray> ChatModel::roleNames() const {
    return {{RoleRole, "role"}, {TextRole, "text"}, {ImagesRole, "images"}, {StateRole, "state"},
            {ErrorRole, "error"}, {StatsTextRole, "stats"}};
}

void ChatModel::setConversationId(const QString& id) {
    beginResetModel();
    m_id = m_store->find(id) ? id : QString();
    endResetModel();
}

QString ChatModel::statsText(const ChatMessage& m) {
    if (!m.hasStats) return {};
    const llava::GenerationStats& s = m.stats;
    QStringList parts;
    if (s.timeToFirstTokenMs > 0) parts << tr("TTFT %1 ms").arg(s.timeToFirstTokenMs, 0, 'f', 0);
    if (s.decodeTokPerS > 0) parts << tr("%1 tok/s").arg(s.decodeTokPerS, 0, 'f', 1);
    parts << tr("%1 image + %2 text tokens in, %3 out").arg(s.imageTokens).arg(s.textTokens).arg(s.generatedTokens);
    if (m.seed) parts << tr("seed %1").arg(*m.seed);
    return parts.join(QStringLiteral(" · "));
}
