// See adaptivedocks.h.
#include "adaptivedocks.h"

#include <QDockWidget>
#include <QMainWindow>
#include <algorithm>

namespace {
void placeWide(QMainWindow* window, QDockWidget* chats, QDockWidget* inspector) {
    window->addDockWidget(Qt::LeftDockWidgetArea, chats);  // out of the inspector's tabs when it was there
    window->resizeDocks({chats, inspector}, {220, 520}, Qt::Horizontal);
}
}  // namespace

AdaptiveDocks::AdaptiveDocks(QMainWindow* window, QDockWidget* chats, QDockWidget* inspector)
    : m_window(window), m_chats(chats), m_inspector(inspector) {
    window->addDockWidget(Qt::RightDockWidgetArea, inspector);
    placeWide(window, chats, inspector);
}

void AdaptiveDocks::adaptToWidth() {
    const bool narrow = m_window->width() < kNarrowWidth;
    if (narrow == m_narrow) return;
    m_narrow = narrow;
    if (!narrow) return placeWide(m_window, m_chats, m_inspector);
    m_window->addDockWidget(Qt::RightDockWidgetArea, m_chats);
    m_window->tabifyDockWidget(m_inspector, m_chats);
    m_inspector->raise();
    m_window->resizeDocks({m_inspector}, {std::max(280, m_window->width() / 2 - 40)}, Qt::Horizontal);
}
