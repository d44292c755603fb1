#include "chatview.h"

#include <QAction>
#include <QEvent>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

#include "chatmodel.h"
#include "messagewidget.h"

namespace {
constexpr int kFixedItems = 2;  // the banner and the "earlier messages" button come first in the layout
}

ChatView::ChatView(QWidget* parent) : QScrollArea(parent) {
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // messages wrap to the view's width
    m_content = new QWidget(this);
    m_layout = new QVBoxLayout(m_content);
    m_banner = new QLabel(m_content);
    m_banner->setWordWrap(true);
    m_banner->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px; }"));
    m_banner->hide();
    m_earlier = new QPushButton(m_content);
    m_earlier->hide();
    connect(m_earlier, &QPushButton::clicked, this, &ChatView::showEarlier);
    m_layout->addWidget(m_banner);
    m_layout->addWidget(m_earlier);
    m_layout->addStretch();
    setWidget(m_content);
    m_shading = new QAction(this);
    m_shading->setCheckable(true);
    connect(m_shading, &QAction::toggled, this, [this](bool on) {
        for (MessageWidget* w : m_widgets) w->setConfidenceShading(on);
    });
    retranslate();
}

void ChatView::retranslate() {
    setAccessibleName(tr("Conversation"));
    m_shading->setText(tr("Shade &unsure words"));
    m_shading->setToolTip(tr("Give answer words the model was less than 50 % sure of a background (hover a word for its probability)"));
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

MessageWidget* ChatView::widgetForRow(int row) const {
    const int i = row - m_first;
    return i >= 0 && i < m_widgets.size() ? m_widgets[i] : nullptr;
}

void ChatView::rebuild() {
    qDeleteAll(m_widgets);
    m_widgets.clear();
    const int rows = m_model ? m_model->rowCount() : 0;
    m_first = std::max(0, rows - kPageSize);
    if (rows > 0) createWidgets(m_first, rows - 1);
    updateEarlierButton();
    updateRegenerate();
    scrollToBottomLater();
}

void ChatView::showEarlier() {
    if (m_first == 0) return;
    const int oldFirst = m_first;
    m_first = std::max(0, m_first - kPageSize);
    createWidgets(m_first, oldFirst - 1);
    updateEarlierButton();
}

void ChatView::createWidgets(int first, int last) {
    for (int row = first; row <= last; ++row) {
        auto* w = new MessageWidget(m_content);
        const int i = row - m_first;
        m_widgets.insert(i, w);
        m_layout->insertWidget(kFixedItems + i, w);
        connect(w, &MessageWidget::copyRequested, this, &ChatView::copyRequested);
        connect(w, &MessageWidget::regenerateRequested, this, &ChatView::regenerateRequested);
        connect(w, &MessageWidget::imageActivated, this, &ChatView::imageActivated);
        connect(w, &MessageWidget::editRequested, this, [this, w] { emit editRequested(m_first + int(m_widgets.indexOf(w))); });
        connect(w, &MessageWidget::tokenActivated, this,
                [this, w](int token) { emit answerTokenActivated(m_first + int(m_widgets.indexOf(w)), token); });
        w->setConfidenceShading(m_shading->isChecked());
        w->setMessage(m_model->message(row), m_model->data(m_model->index(row), ChatModel::StatsTextRole).toString());
    }
}

void ChatView::insertRows(int first, int last) {
    if (first < m_first) m_first += last - first + 1;  // before the page: shift it (not shown)
    else createWidgets(first, last);
    updateEarlierButton();
    updateRegenerate();
    scrollToBottomLater();
}

void ChatView::removeRows(int first, int last) {
    for (int row = last; row >= first; --row) {
        const int i = row - m_first;
        if (i >= 0 && i < m_widgets.size()) delete m_widgets.takeAt(i);
    }
    if (first < m_first) m_first -= std::min(m_first, last + 1) - first;
    updateEarlierButton();
    updateRegenerate();
}

void ChatView::refreshRow(int row) {
    MessageWidget* w = widgetForRow(row);
    if (!w) return;
    w->setMessage(m_model->message(row), m_model->data(m_model->index(row), ChatModel::StatsTextRole).toString());
    updateRegenerate();
}

void ChatView::updateRegenerate() {
    for (int i = 0; i < m_widgets.size(); ++i) {
        const int row = m_first + i;
        const bool last = row == m_model->rowCount() - 1;
        m_widgets[i]->setRegenerateVisible(last && m_model->message(row).role == MessageRole::Assistant &&
                                           m_model->message(row).state != MessageState::Streaming);
    }
}

void ChatView::updateEarlierButton() {
    m_earlier->setText(tr("Show %1 earlier messages").arg(std::min(m_first, kPageSize)));
    m_earlier->setVisible(m_first > 0);
}

void ChatView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) {
        retranslate();
        updateEarlierButton();
        for (int i = 0; i < m_widgets.size(); ++i) refreshRow(m_first + i);  // stats lines are built with tr()
    }
    QScrollArea::changeEvent(event);
}

void ChatView::scrollToBottomLater() {
    QTimer::singleShot(0, this, [this] { verticalScrollBar()->setValue(verticalScrollBar()->maximum()); });
}
