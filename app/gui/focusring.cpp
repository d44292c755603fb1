// See focusring.h.
#include "focusring.h"

#include <QApplication>
#include <QFocusEvent>
#include <QPainter>

FocusRing::FocusRing(QObject* owner) : QWidget(nullptr) {
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setAttribute(Qt::WA_NoSystemBackground);
    setFocusPolicy(Qt::NoFocus);
    setObjectName(QStringLiteral("focusRing"));
    hide();
    qApp->installEventFilter(this);
    // Lifetime follows the owner (the main window) although the ring is lent to focused widgets as a
    // child; the guard covers a ring that went down with a widget destroyed while it had focus.
    connect(owner, &QObject::destroyed, this, [ring = QPointer<FocusRing>(this)] { delete ring.data(); });
}

FocusRing::~FocusRing() { qApp->removeEventFilter(this); }

bool FocusRing::eventFilter(QObject* watched, QEvent* event) {
    if (!watched->isWidgetType() || watched == this) return false;
    auto* widget = static_cast<QWidget*>(watched);
    switch (event->type()) {
    case QEvent::FocusIn: {
        const Qt::FocusReason reason = static_cast<QFocusEvent*>(event)->reason();
        const bool keyboard = reason == Qt::TabFocusReason || reason == Qt::BacktabFocusReason || reason == Qt::ShortcutFocusReason;
        if (keyboard) attach(widget);
        else detach();
        break;
    }
    case QEvent::FocusOut:
    case QEvent::Hide:
        if (widget == m_target) detach();
        break;
    case QEvent::Resize:
        if (widget == m_target) setGeometry(widget->rect());
        break;
    default: break;
    }
    return false;
}

void FocusRing::attach(QWidget* widget) {
    m_target = widget;
    setParent(widget);
    setGeometry(widget->rect());
    raise();
    show();
}

void FocusRing::detach() {
    // Given back before the widget can be destroyed (losing focus comes first), so it is not deleted with it.
    m_target = nullptr;
    hide();
    if (parent()) setParent(nullptr);
}

void FocusRing::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    QPen pen(palette().color(QPalette::Highlight), 2);
    p.setPen(pen);
    p.drawRoundedRect(QRectF(rect()).adjusted(1, 1, -1, -1), 3, 3);
}
