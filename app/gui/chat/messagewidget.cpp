#include "messagewidget.h"

#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include "icons.h"

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
    auto actionButton = [this](AppIcon icon, const QString& text, const QString& description) {
        auto* b = new QToolButton(this);
        b->setIcon(appIcon(icon));
        b->setText(text);
        b->setToolTip(description);
        b->setAccessibleName(description);
        b->setToolButtonStyle(Qt::ToolButtonIconOnly);
        b->setAutoRaise(true);
        return b;
    };
    m_copy = actionButton(AppIcon::Copy, tr("Copy"), tr("Copy message"));
    m_edit = actionButton(AppIcon::Edit, tr("Edit"), tr("Edit and resend"));
    m_regenerate = actionButton(AppIcon::Regenerate, tr("Regenerate"), tr("Regenerate answer"));
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
    m_body->setAccessibleName(tr("Message text"));
    layout->addWidget(m_body);
    m_stats = new QLabel(this);
    m_stats->setForegroundRole(QPalette::PlaceholderText);
    m_stats->setWordWrap(true);  // a long stats line must not widen the chat
    layout->addWidget(m_stats);
    connect(m_copy, &QToolButton::clicked, this, [this] { emit copyRequested(m_text); });
    connect(m_edit, &QToolButton::clicked, this, &MessageWidget::editRequested);
    connect(m_regenerate, &QToolButton::clicked, this, &MessageWidget::regenerateRequested);
}

void MessageWidget::setMessage(const ChatMessage& m, const QString& statsText) {
    m_role = m.role;
    m_header->setText(m.role == MessageRole::User ? tr("You") : tr("Assistant"));
    m_edit->setVisible(m.role == MessageRole::User);
    while (m_imagesLayout->count() > 1) {
        QLayoutItem* item = m_imagesLayout->takeAt(0);
        delete item->widget();
        delete item;
    }
    for (const QString& path : m.images) {
        QImageReader reader(path);
        const QSize s = reader.size();
        if (s.isValid()) reader.setScaledSize(s.scaled(160, 120, Qt::KeepAspectRatio));
        auto* label = new QLabel(m_images);
        label->setPixmap(QPixmap::fromImage(reader.read()));
        label->setToolTip(path);
        label->setAccessibleName(tr("Attached image"));
        m_imagesLayout->insertWidget(m_imagesLayout->count() - 1, label);
    }
    m_images->setVisible(!m.images.isEmpty());
    m_stats->setText(statsText);
    m_stats->setVisible(!statsText.isEmpty());
    setText(m.text, m.state);
    if (m.state == MessageState::Failed) {
        m_stats->setText(tr("Failed: %1").arg(m.error));
        m_stats->show();
    }
}

void MessageWidget::setText(const QString& text, MessageState state) {
    m_text = text;
    QString shown = text;
    if (state == MessageState::Streaming) shown += QStringLiteral(" ▍");
    if (state == MessageState::Stopped) shown += QStringLiteral("\n\n*") + tr("(stopped)") + QStringLiteral("*");
    if (m_role == MessageRole::User)
        m_body->setPlainText(shown);
    else
        m_body->document()->setMarkdown(shown);
    fitHeight();
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
