// See noticebar.h.
#include "noticebar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include "icons.h"

NoticeBar::NoticeBar(QWidget* parent) : QWidget(parent) {
    m_layout = new QVBoxLayout(this);
    m_layout->setContentsMargins(0, 0, 0, 0);
    setVisible(false);
}

void NoticeBar::show(const QString& key, const QString& text, const QString& actionText, std::function<void()> action) {
    dismiss(key);
    auto* frame = new QFrame(this);
    frame->setObjectName(key);
    frame->setFrameShape(QFrame::StyledPanel);
    frame->setStyleSheet(QStringLiteral("QFrame#%1 { background: #fff3cd; border-radius: 4px; } QLabel { color: #664d03; }").arg(key));
    auto* row = new QHBoxLayout(frame);
    auto* label = new QLabel(text, frame);
    label->setObjectName(QStringLiteral("text"));
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(label, 1);
    if (!actionText.isEmpty() && action) {
        auto* button = new QPushButton(actionText, frame);
        connect(button, &QPushButton::clicked, this, [this, key, action] {
            dismiss(key);
            action();
        });
        row->addWidget(button, 0, Qt::AlignTop);
    }
    auto* close = new QToolButton(frame);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Dismiss"));
    close->setAccessibleName(tr("Dismiss notice"));
    connect(close, &QToolButton::clicked, this, [this, key] { dismiss(key); });
    row->addWidget(close, 0, Qt::AlignTop);
    m_layout->addWidget(frame);
    setVisible(true);
}

void NoticeBar::dismiss(const QString& key) {
    if (QFrame* frame = findChild<QFrame*>(key, Qt::FindDirectChildrenOnly)) {
        // Later, not now: dismiss() may run inside a click handler of this very frame's buttons.
        frame->setObjectName(QString());
        frame->hide();
        frame->deleteLater();
    }
    bool any = false;
    for (const QFrame* f : findChildren<QFrame*>(QString(), Qt::FindDirectChildrenOnly)) any |= !f->objectName().isEmpty();
    setVisible(any);
}

bool NoticeBar::has(const QString& key) const { return findChild<QFrame*>(key, Qt::FindDirectChildrenOnly) != nullptr; }

QString NoticeBar::text(const QString& key) const {
    const QFrame* frame = findChild<QFrame*>(key, Qt::FindDirectChildrenOnly);
    const QLabel* label = frame ? frame->findChild<QLabel*>(QStringLiteral("text")) : nullptr;
    return label ? label->text() : QString();
}
