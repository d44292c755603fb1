#include "chatview.h"

#include <QLabel>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

#include "chatmodel.h"
#include "messagewidget.h"

ChatView::ChatView(QWidget* parent) : QScrollArea(parent) {
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // messages wrap to the view's width
    setAccessibleName(tr("Conversation"));
    m_content = new QWidget(this);
    m_layout = new QVBoxLayout(m_content);
    m_banner = new QLabel(m_content);
    m_banner->setWordWrap(true);
    m_banner->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px; }"));
    m_banner->hide();
    m_layout->addWidget(m_banner);
    m_layout->addStretch();
    setWidget(m_content);
}

void ChatView::setBanner(const QString& text) {
    m_banner->setText(text);
    m_banner->setVisible(!text.isEmpty());
}

void ChatView::setModel(ChatModel* model) {
    m_model = model;
    connect(model, &QAbstractItemModel::modelReset, this, &ChatView::rebuild);
    connect(model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int f, int l) { insertRows(f, l); });
    connect(model, &QAbstractItemModel::rowsRemoved, this, [this](const QModelIndex&, int f, int l) { removeRows(f, l); });
    connect(model, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& tl, const QModelIndex& br) {
        for (int r = tl.row(); r <= br.row(); ++r) refreshRow(r);
        scrollToBottomLater();
    });
    rebuild();
}

void ChatView::rebuild() {
    removeRows(0, int(m_widgets.size()) - 1);
    if (m_model && m_model->rowCount() > 0) insertRows(0, m_model->rowCount() - 1);
}

void ChatView::insertRows(int first, int last) {
    for (int row = first; row <= last; ++row) {
        auto* w = new MessageWidget(m_content);
        m_widgets.insert(row, w);
        m_layout->insertWidget(row + 1, w);  // after the banner
        connect(w, &MessageWidget::copyRequested, this, &ChatView::copyRequested);
        connect(w, &MessageWidget::regenerateRequested, this, &ChatView::regenerateRequested);
        connect(w, &MessageWidget::editRequested, this, [this, w] { emit editRequested(int(m_widgets.indexOf(w))); });
        w->setMessage(m_model->message(row), m_model->data(m_model->index(row), ChatModel::StatsTextRole).toString());
    }
    updateRegenerate();
    scrollToBottomLater();
}

void ChatView::removeRows(int first, int last) {
    for (int row = last; row >= first && row < m_widgets.size(); --row) {
        delete m_widgets.takeAt(row);
    }
    updateRegenerate();
}

void ChatView::refreshRow(int row) {
    if (row < 0 || row >= m_widgets.size()) return;
    const ChatMessage& m = m_model->message(row);
    m_widgets[row]->setMessage(m, m_model->data(m_model->index(row), ChatModel::StatsTextRole).toString());
    updateRegenerate();
}

void ChatView::updateRegenerate() {
    for (int i = 0; i < m_widgets.size(); ++i) {
        const bool last = i == m_widgets.size() - 1;
        m_widgets[i]->setRegenerateVisible(last && m_model->message(i).role == MessageRole::Assistant &&
                                           m_model->message(i).state != MessageState::Streaming);
    }
}

void ChatView::scrollToBottomLater() {
    QTimer::singleShot(0, this, [this] { verticalScrollBar()->setValue(verticalScrollBar()->maximum()); });
}
