// A visible focus ring for keyboard users, the same on every control: when a widget gets focus by the
// keyboard (Tab, Backtab, a shortcut), a 2-px outline in the palette's highlight colour is drawn over its
// edge until it loses focus. Styles differ in whether they mark focus at all (Fusion does not on tool
// buttons, frameless text views or our own widgets); this makes "where am I" visible everywhere.
// One per application (MainWindow owns it); it watches focus changes through an application event filter.
#pragma once

#include <QPointer>
#include <QWidget>

class FocusRing : public QWidget {
    Q_OBJECT
public:
    explicit FocusRing(QObject* owner);
    ~FocusRing() override;
    QWidget* target() const { return m_target; }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

private:
    void attach(QWidget* widget);
    void detach();

    QPointer<QWidget> m_target;
};
