// See conversationstore.h.
#include "conversationstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QSignalBlocker>
#include <algorithm>
#include <QTimer>

#include "chatstore.h"

ConversationStore::ConversationStore(const QString& rootDir, QObject* parent)
    : QAbstractListModel(parent), m_files(std::make_unique<ChatStore>(rootDir)), m_retry(new QTimer(this)) {
    m_retry->setSingleShot(true);
    m_retry->setInterval(kRetryMs);
    connect(m_retry, &QTimer::timeout, this, &ConversationStore::saveDirty);
}

ConversationStore::~ConversationStore() {
    // A last try for chats a full disk kept unsaved; the receivers may already be gone, so no signals.
    const QSignalBlocker quiet(this);
    saveDirty();
}

QString ConversationStore::trashDir() const { return m_files->rootDir() + QStringLiteral("/trash"); }

QStringList ConversationStore::load() {
    // The trash holds what was deleted in an earlier run; undo only lasts until the next start.
    QDir(trashDir()).removeRecursively();
    ChatStore::LoadReport report = m_files->loadAll();
    beginResetModel();
    m_conversations = std::move(report.conversations);
    m_versions = std::move(report.versions);
    m_dirty.clear();
    m_trashed.reset();
    endResetModel();
    return report.problems;
}

int ConversationStore::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_conversations.size());
}

QVariant ConversationStore::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_conversations.size()) return {};
    const Conversation& c = m_conversations.at(index.row());
    switch (role) {
    case Qt::DisplayRole: return c.title.isEmpty() ? defaultTitle(c) : c.title;
    case Qt::ToolTipRole: return c.title.isEmpty() ? defaultTitle(c) : c.title;
    case IdRole: return c.id;
    case UpdatedRole: return c.updated;
    case SearchTextRole: {
        QString all = c.title;
        for (const ChatMessage& m : c.messages) all += QLatin1Char('\n') + m.text;
        return all;
    }
    default: return {};
    }
}

int ConversationStore::indexOf(const QString& id) const {
    for (int i = 0; i < m_conversations.size(); ++i)
        if (m_conversations[i].id == id) return i;
    return -1;
}

const Conversation* ConversationStore::find(const QString& id) const {
    const int i = indexOf(id);
    return i < 0 ? nullptr : &m_conversations[i];
}

Conversation* ConversationStore::findMutable(const QString& id) {
    const int i = indexOf(id);
    return i < 0 ? nullptr : &m_conversations[i];
}

ChatMessage* ConversationStore::messageAt(const QString& id, int row) {
    Conversation* c = findMutable(id);
    if (!c || row < 0 || row >= c->messages.size()) return nullptr;
    return &c->messages[row];
}

QString ConversationStore::create(const QString& systemPrompt) {
    Conversation c;
    c.id = newConversationId();
    c.created = c.updated = QDateTime::currentDateTime();
    c.systemPrompt = systemPrompt;
    beginInsertRows({}, 0, 0);
    m_conversations.prepend(c);
    endInsertRows();
    return c.id;
}

llava::Status ConversationStore::remove(const QString& id) {
    const int row = indexOf(id);
    if (row < 0) return llava::makeError(llava::ErrorCode::NotFound, "no chat " + id.toStdString());
    // Images are content-addressed and may be shared: only those no other chat uses go to the trash.
    QSet<QString> usedElsewhere;
    for (const Conversation& other : m_conversations)
        if (other.id != id)
            for (const ChatMessage& m : other.messages)
                for (const QString& img : m.images) usedElsewhere.insert(img);
    auto trashed = std::make_unique<Trashed>();
    trashed->row = row;
    QDir().mkpath(trashDir());
    QStringList toMove{m_files->filePath(id)};
    for (const ChatMessage& m : m_conversations[row].messages)
        for (const QString& img : m.images)
            if (!usedElsewhere.contains(img) && !toMove.contains(img)) toMove << img;
    for (const QString& path : toMove) {
        if (!QFile::exists(path)) continue;
        const QString target = trashDir() + QLatin1Char('/') + QFileInfo(path).fileName();
        QFile::remove(target);
        if (!QFile::rename(path, target)) {
            // Put back what was moved so far: a half-deleted chat is worse than none.
            for (int i = 0; i + 1 < trashed->movedFiles.size(); i += 2) QFile::rename(trashed->movedFiles[i], trashed->movedFiles[i + 1]);
            return llava::makeError(llava::ErrorCode::IoError, "cannot move " + path.toStdString() + " to the trash");
        }
        trashed->movedFiles << target << path;
    }
    beginRemoveRows({}, row, row);
    trashed->conversation = m_conversations.takeAt(row);
    endRemoveRows();
    m_trashed = std::move(trashed);
    emit conversationRemoved(id);
    return llava::Status::ok();
}

bool ConversationStore::undoRemove() {
    if (!m_trashed) return false;
    std::unique_ptr<Trashed> t = std::move(m_trashed);
    for (int i = 0; i + 1 < t->movedFiles.size(); i += 2) QFile::rename(t->movedFiles[i], t->movedFiles[i + 1]);
    const int row = std::min(t->row, int(m_conversations.size()));
    beginInsertRows({}, row, row);
    m_conversations.insert(row, t->conversation);
    endInsertRows();
    return true;
}

void ConversationStore::rename(const QString& id, const QString& title) {
    Conversation* c = findMutable(id);
    if (!c) return;
    c->title = title;
    touch(id, true);
}

int ConversationStore::appendMessage(const QString& id, const ChatMessage& message) {
    Conversation* c = findMutable(id);
    if (!c) return -1;
    const int row = int(c->messages.size());
    emit messagesAboutToBeInserted(id, row, row);
    c->messages.append(message);
    if (c->messages.back().time.isNull()) c->messages.back().time = QDateTime::currentDateTime();
    if (c->title.isEmpty() && message.role == MessageRole::User) c->title = defaultTitle(*c);
    emit messagesInserted(id, row, row);
    touch(id, message.state != MessageState::Streaming);
    return row;
}

void ConversationStore::appendText(const QString& id, int row, const QString& text) {
    ChatMessage* m = messageAt(id, row);
    if (!m || text.isEmpty()) return;
    m->text += text;
    emit messageChanged(id, row, MessageChange::Text);
}

void ConversationStore::appendTokens(const QString& id, int row, const TokenProbabilities& tokens) {
    ChatMessage* m = messageAt(id, row);
    if (m) m->tokens += tokens;
}

void ConversationStore::setState(const QString& id, int row, MessageState state, const QString& error) {
    ChatMessage* m = messageAt(id, row);
    if (!m) return;
    m->state = state;
    m->error = error;
    emit messageChanged(id, row, MessageChange::State);
    touch(id, state != MessageState::Streaming);
}

void ConversationStore::setStats(const QString& id, int row, const llava::GenerationStats& stats) {
    ChatMessage* m = messageAt(id, row);
    if (!m) return;
    m->stats = stats;
    m->hasStats = true;
    emit messageChanged(id, row, MessageChange::Stats);
    touch(id, false);  // the state change that follows writes it
}

void ConversationStore::removeMessagesFrom(const QString& id, int row) {
    Conversation* c = findMutable(id);
    if (!c || row < 0 || row >= c->messages.size()) return;
    const int last = int(c->messages.size()) - 1;
    emit messagesAboutToBeRemoved(id, row, last);
    c->messages.erase(c->messages.begin() + row, c->messages.end());
    emit messagesRemoved(id, row, last);
    touch(id, true);
}

void ConversationStore::touch(const QString& id, bool write) {
    const int row = indexOf(id);
    if (row < 0) return;
    m_conversations[row].updated = QDateTime::currentDateTime();
    if (row > 0) {  // the chat touched last goes to the top, as the list is newest first
        beginMoveRows({}, row, row, {}, 0);
        m_conversations.move(row, 0);
        endMoveRows();
    }
    emit dataChanged(index(0), index(0));
    if (write) (void)save(id);  // failures are announced through saveFailed
}

llava::Status ConversationStore::save(const QString& id) {
    const Conversation* c = find(id);
    if (!c || c->messages.isEmpty()) {  // gone, or empty: nothing to write
        m_dirty.remove(id);
        return llava::Status::ok();
    }
    if (changedOnDisk(id)) {
        const QString title = c->title.isEmpty() ? defaultTitle(*c) : c->title;
        const QString copyId = keepDiskVersion(id);
        if (copyId.isEmpty()) {
            // Neither overwrite nor lose it: this version stays unsaved (and retried) until it can be kept.
            const llava::Status refused(llava::ErrorCode::IoError,
                                        (m_files->filePath(id) + tr(": changed on disk and could not be kept aside; not overwritten")).toStdString());
            m_dirty.insert(id);
            m_retry->start();
            emit saveFailed(id, QString::fromStdString(refused.message()));
            return refused;
        }
        c = find(id);  // the list changed
        emit conflictKept(id, copyId,
                          tr("\"%1\" was changed on disk by another program or app window. Both versions are kept: "
                             "the one on disk as \"%2\", this window's as \"%1\".")
                              .arg(title, find(copyId)->title));
    }
    auto written = m_files->write(*c);
    if (!written.isOk()) {
        m_dirty.insert(id);
        m_retry->start();
        emit saveFailed(id, QString::fromStdString(written.status().message()));
        return written.status();
    }
    m_versions.insert(id, *written);
    if (m_dirty.remove(id)) emit saveRecovered(id);
    return llava::Status::ok();
}

void ConversationStore::setRetryInterval(int ms) { m_retry->setInterval(ms); }

bool ConversationStore::saveDirty() {
    const QSet<QString> pending = m_dirty;
    for (const QString& id : pending) (void)save(id);  // failures re-arm the timer and are announced
    return m_dirty.isEmpty();
}

bool ConversationStore::changedOnDisk(const QString& id) {
    const auto known = m_versions.constFind(id);
    const DiskVersion now = m_files->statFile(id);
    if (!now.exists) return false;  // deleted elsewhere: writing ours back loses nothing
    if (known == m_versions.constEnd()) return true;  // we never read or wrote it, yet a file is there
    if (known->sameFile(now)) return false;
    if (!known->sha256.isEmpty() && m_files->hashFile(id) == known->sha256) {
        DiskVersion refreshed = now;  // same content, new stat (touched, copied back): no conflict
        refreshed.sha256 = known->sha256;
        m_versions.insert(id, refreshed);
        return false;
    }
    return true;
}

QString ConversationStore::keepDiskVersion(const QString& id) {
    const QString copyId = newConversationId();
    const QString copyPath = m_files->filePath(copyId);
    if (!QFile::rename(m_files->filePath(id), copyPath)) return {};
    DiskVersion version;
    auto copy = m_files->loadFile(copyPath, &version);
    m_versions.remove(id);
    if (!copy.isOk()) {
        // Not a chat we can read (yet it is kept, renamed: the next start moves it to corrupt/ and says so).
        Conversation placeholder;
        placeholder.id = copyId;
        placeholder.title = tr("Unreadable version of a chat (%1)").arg(QFileInfo(copyPath).fileName());
        placeholder.created = placeholder.updated = QDateTime::currentDateTime();
        copy = placeholder;
    } else {
        copy->title = tr("%1 (changed on disk)").arg(copy->title.isEmpty() ? defaultTitle(*copy) : copy->title);
        m_versions.insert(copyId, version);
    }
    const int row = std::min(indexOf(id) + 1, int(m_conversations.size()));
    beginInsertRows({}, row, row);
    m_conversations.insert(row, *copy);
    endInsertRows();
    if (copy->messages.isEmpty()) return copyId;  // a placeholder is never written over the renamed file
    (void)save(copyId);  // its new title; the content is the disk version's
    return copyId;
}
