// See chatspanel.h.
#include "chatspanel.h"

#include <QAction>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

#include "appinit.h"
#include "chatstore.h"
#include "conversationstore.h"
#include "icons.h"

ChatsPanel::ChatsPanel(ConversationStore* store, QWidget* parent) : QWidget(parent), m_store(store) {
    m_filter = new QSortFilterProxyModel(this);
    m_filter->setSourceModel(store);
    m_filter->setFilterRole(ConversationStore::SearchTextRole);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_search = new QLineEdit(this);
    m_search->setClearButtonEnabled(true);
    m_search->addAction(appIcon(AppIcon::Search), QLineEdit::LeadingPosition);
    m_list = new QListView(this);
    m_list->setModel(m_filter);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setUniformItemSizes(true);  // thousands of chats stay cheap
    m_add = new QPushButton(appIcon(AppIcon::NewChat), QString(), this);
    m_rename = new QPushButton(appIcon(AppIcon::Edit), QString(), this);
    m_remove = new QPushButton(appIcon(AppIcon::Delete), QString(), this);
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {m_add, m_rename, m_remove}) buttons->addWidget(b);
    auto* v = new QVBoxLayout(this);
    v->addWidget(m_search);
    v->addWidget(m_list, 1);
    v->addLayout(buttons);

    connect(m_search, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_filter->setFilterFixedString(text.trimmed());
        setCurrent(m_current);
    });
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& index) {
        const QString id = index.data(ConversationStore::IdRole).toString();
        if (!id.isEmpty() && id != m_current) {
            m_current = id;
            emit chatSelected(id);
        }
    });
    // The store moves a chat to the top when it changes: keep the current row selected.
    connect(m_filter, &QAbstractItemModel::rowsMoved, this, [this] { setCurrent(m_current); });
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, [this] { setCurrent(m_current); });
    connect(m_add, &QPushButton::clicked, this, &ChatsPanel::newRequested);
    connect(m_rename, &QPushButton::clicked, this, &ChatsPanel::renameCurrent);
    connect(m_remove, &QPushButton::clicked, this, [this] {
        if (!m_current.isEmpty()) emit deleteRequested(m_current);
    });
    retranslate();
}

void ChatsPanel::setCurrent(const QString& id) {
    m_current = id;
    const int row = m_store->indexOf(id);
    const QModelIndex index = row < 0 ? QModelIndex() : m_filter->mapFromSource(m_store->index(row));
    const QSignalBlocker block(m_list->selectionModel());
    if (index.isValid()) m_list->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
    else m_list->selectionModel()->clearSelection();
    m_list->viewport()->update();
}

void ChatsPanel::renameCurrent() {
    const Conversation* c = m_store->find(m_current);
    if (!c) return;
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename chat"), tr("Title:"), QLineEdit::Normal, c->title, &ok);
    if (ok && !title.trimmed().isEmpty()) m_store->rename(m_current, title.trimmed());
}

bool ChatsPanel::deleteChat(const QString& id) {
    const Conversation* c = m_store->find(id);
    if (!c) return false;
    const QString title = c->title.isEmpty() ? defaultTitle(*c) : c->title;
    if (dialogsAllowed() && !c->messages.isEmpty() &&
        QMessageBox::question(this, tr("Delete chat"), tr("Delete \"%1\" and its images?").arg(title),
                              QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
        return false;
    if (const llava::Status status = m_store->remove(id); !status.isOk()) {
        emit problem(QString::fromStdString(status.message()));
        return false;
    }
    emit deleted(title);
    return true;
}

QString ChatsPanel::exportChat(const QString& id, bool markdown) {
    const Conversation* c = m_store->find(id);
    if (!c) return {};
    const QString filter = markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chat"), c->title + (markdown ? ".md" : ".json"), filter);
    if (path.isEmpty()) return {};
    const llava::Status status = markdown ? m_store->files().exportMarkdown(*c, path) : m_store->files().exportJson(*c, path);
    return status.isOk() ? tr("Exported to %1").arg(path) : QString::fromStdString(status.message());
}

void ChatsPanel::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

void ChatsPanel::retranslate() {
    m_search->setPlaceholderText(tr("Search chats"));
    m_search->setAccessibleName(tr("Search chats"));
    m_list->setAccessibleName(tr("Chat list"));
    m_add->setText(tr("New"));
    m_rename->setText(tr("Rename"));
    m_remove->setText(tr("Delete"));
    m_add->setAccessibleName(tr("New chat"));
    m_rename->setAccessibleName(tr("Rename chat"));
    m_remove->setAccessibleName(tr("Delete chat"));
    for (QPushButton* b : {m_add, m_rename, m_remove}) b->setToolTip(b->accessibleName());
}
