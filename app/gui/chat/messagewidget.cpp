#include "messagewidget.h"

#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QMouseEvent>
#include <QAbstractTextDocumentLayout>
#include <QTextCursor>
#include <QToolTip>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include "icons.h"
#include "stagechart.h"

MessageWidget::MessageWidget(QWidget* parent) : QFrame(parent) {
    setFrameShape(QFrame::StyledPanel);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    auto* top = new QHBoxLayout;
    m_header = new QLabel(this);
    QFont bold = m_header->font();
    bold.setBold(true);
    m_header->setFont(bold);
    // Icon-only buttons (one row per message stays quiet); the text is kept for the tool tip and for
    // screen readers.
    auto actionButton = [this](AppIcon icon) {
        auto* b = new QToolButton(this);
        b->setIcon(appIcon(icon));
        b->setToolButtonStyle(Qt::ToolButtonIconOnly);
        b->setAutoRaise(true);
        return b;
    };
    m_copy = actionButton(AppIcon::Copy);
    m_edit = actionButton(AppIcon::Edit);
    m_regenerate = actionButton(AppIcon::Regenerate);
    m_regenerate->hide();
    top->addWidget(m_header);
    top->addStretch();
    top->addWidget(m_copy);
    top->addWidget(m_edit);
    top->addWidget(m_regenerate);
    layout->addLayout(top);
    m_images = new QWidget(this);
    m_imagesLayout = new QHBoxLayout(m_images);
    m_imagesLayout->setContentsMargins(0, 0, 0, 0);
    m_imagesLayout->addStretch();
    layout->addWidget(m_images);
    m_body = new QTextBrowser(this);
    m_body->setOpenExternalLinks(true);
    m_body->setFrameShape(QFrame::NoFrame);
    m_body->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_body->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(m_body);
    m_stats = new QLabel(this);
    m_stats->setForegroundRole(QPalette::PlaceholderText);
    m_stats->setWordWrap(true);  // a long stats line must not widen the chat
    layout->addWidget(m_stats);
    setupInsight(layout);
    connect(m_copy, &QToolButton::clicked, this, [this] { emit copyRequested(m_text); });
    connect(m_edit, &QToolButton::clicked, this, &MessageWidget::editRequested);
    connect(m_regenerate, &QToolButton::clicked, this, &MessageWidget::regenerateRequested);
    retranslate();
}

void MessageWidget::setupInsight(QLayout* layout) {
    m_timeline = new QToolButton(this);
    m_timeline->setCheckable(true);
    m_timeline->setAutoRaise(true);
    m_timeline->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_timeline->hide();
    layout->addWidget(m_timeline);
    m_chart = new StageChart(this);
    m_chart->hide();
    layout->addWidget(m_chart);
    connect(m_timeline, &QToolButton::toggled, m_chart, &QWidget::setVisible);
    m_body->viewport()->setMouseTracking(true);
    m_body->viewport()->installEventFilter(this);
}

void MessageWidget::retranslate() {
    const QList<QPair<QToolButton*, QPair<QString, QString>>> buttons{
        {m_copy, {tr("Copy"), tr("Copy message")}},
        {m_edit, {tr("Edit"), tr("Edit and resend")}},
        {m_regenerate, {tr("Regenerate"), tr("Regenerate answer")}}};
    for (const auto& [button, texts] : buttons) {
        button->setText(texts.first);
        button->setToolTip(texts.second);
        button->setAccessibleName(texts.second);
    }
    m_body->setAccessibleName(tr("Message text"));
    m_timeline->setText(tr("Timeline"));
    m_timeline->setToolTip(tr("Where the time of this answer went: each stage with its GB/s and GFLOP/s"));
    m_header->setText(m_role == MessageRole::User ? tr("You") : tr("Assistant"));
    for (QToolButton* thumb : m_images->findChildren<QToolButton*>())
        thumb->setAccessibleName(tr("Attached image %1 — click to view").arg(thumb->toolTip()));
    setText(m_text, m_state);
}

void MessageWidget::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QFrame::changeEvent(event);
}

void MessageWidget::setMessage(const ChatMessage& m, const QString& statsText) {
    m_role = m.role;
    m_header->setText(m.role == MessageRole::User ? tr("You") : tr("Assistant"));
    m_edit->setVisible(m.role == MessageRole::User);
    if (m.images != m_imagePaths) {  // a streamed piece must not decode the thumbnails again
        m_imagePaths = m.images;
        while (m_imagesLayout->count() > 1) {
            QLayoutItem* item = m_imagesLayout->takeAt(0);
            delete item->widget();
            delete item;
        }
        for (const QString& path : m.images) {
            QImageReader reader(path);
            const QSize s = reader.size();
            if (s.isValid()) reader.setScaledSize(s.scaled(160, 120, Qt::KeepAspectRatio));
            auto* thumb = new QToolButton(m_images);
            const QImage image = reader.read();
            thumb->setIcon(QPixmap::fromImage(image));
            thumb->setIconSize(image.isNull() ? QSize(160, 120) : image.size());
            thumb->setAutoRaise(true);
            thumb->setToolTip(QFileInfo(path).fileName());
            thumb->setAccessibleName(tr("Attached image %1 — click to view").arg(QFileInfo(path).fileName()));
            connect(thumb, &QToolButton::clicked, this, [this, path] { emit imageActivated(path); });
            m_imagesLayout->insertWidget(m_imagesLayout->count() - 1, thumb);
        }
    }
    m_images->setVisible(!m.images.isEmpty());
    m_stats->setText(statsText);
    m_stats->setVisible(!statsText.isEmpty());
    m_tokens = m.tokens;
    const bool timeline = m.role == MessageRole::Assistant && m.hasStats && !m.stats.stages.empty();
    if (timeline) m_chart->setStages(m.stats.stages, m.stats.ceilings);
    m_timeline->setVisible(timeline);
    m_chart->setVisible(timeline && m_timeline->isChecked());
    setText(m.text, m.state);
    if (m.state == MessageState::Failed) {
        m_stats->setText(tr("Failed: %1").arg(m.error));
        m_stats->show();
    }
}

void MessageWidget::setText(const QString& text, MessageState state) {
    m_text = text;
    m_state = state;
    QString shown = text;
    if (state == MessageState::Streaming) shown += QStringLiteral(" ▍");
    if (state == MessageState::Stopped) shown += QStringLiteral("\n\n*") + tr("(stopped)") + QStringLiteral("*");
    if (m_role == MessageRole::User)
        m_body->setPlainText(shown);
    else
        m_body->document()->setMarkdown(shown);
    updateConfidence();
    fitHeight();
}

void MessageWidget::updateConfidence() {
    m_confidence = ConfidenceMap();
    m_hoveredToken = -1;
    if (m_role != MessageRole::Assistant || m_state == MessageState::Streaming || m_tokens.isEmpty()) return;
    m_confidence = ConfidenceMap(*m_body->document(), m_text, m_tokens);
    if (m_shading) m_confidence.shade(m_body->document());
}

void MessageWidget::setConfidenceShading(bool on) {
    if (on == m_shading) return;
    m_shading = on;
    setText(m_text, m_state);  // re-render: shading is a character format of the document
}

int MessageWidget::tokenAtPoint(QPoint pos) const {
    if (m_confidence.isEmpty()) return -1;
    const int hit = m_body->document()->documentLayout()->hitTest(pos, Qt::ExactHit);
    if (hit < 0) return -1;
    // hitTest gives the cursor position nearest the point: the character is left of it when the point
    // lies left of that cursor.
    QTextCursor cursor(m_body->document());
    cursor.setPosition(hit);
    const int character = pos.x() < m_body->cursorRect(cursor).center().x() ? hit - 1 : hit;
    return m_confidence.tokenAt(character);
}

void MessageWidget::hoverAt(QPoint pos, QPoint globalPos) {
    m_hoveredToken = tokenAtPoint(pos);
    if (m_hoveredToken < 0) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(globalPos, confidenceCard(m_confidence.tokens()[m_hoveredToken]), m_body->viewport());
}

bool MessageWidget::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_body->viewport() && !m_confidence.isEmpty()) {
        if (event->type() == QEvent::MouseMove) {
            const auto* e = static_cast<QMouseEvent*>(event);
            hoverAt(e->position().toPoint(), e->globalPosition().toPoint());
        } else if (event->type() == QEvent::MouseButtonRelease) {
            const int token = tokenAtPoint(static_cast<QMouseEvent*>(event)->position().toPoint());
            if (token >= 0) emit tokenActivated(token);
        } else if (event->type() == QEvent::Leave) {
            m_hoveredToken = -1;
        }
    }
    return QFrame::eventFilter(watched, event);
}

void MessageWidget::setRegenerateVisible(bool visible) { m_regenerate->setVisible(visible); }

void MessageWidget::resizeEvent(QResizeEvent* event) {
    QFrame::resizeEvent(event);
    fitHeight();
}

void MessageWidget::fitHeight() {
    m_body->document()->setTextWidth(m_body->viewport()->width());
    m_body->setFixedHeight(int(m_body->document()->size().height()) + 6);
}
