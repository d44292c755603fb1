// Where the main window's two docks go: the chats on the left and the inspector on the right while the
// window is wide; below kNarrowWidth both on the right as tabs (the inspector in front), so the chat
// column keeps at least half the window. MainWindow calls adaptToWidth() from its resizeEvent.
#pragma once

class QDockWidget;
class QMainWindow;

class AdaptiveDocks {
public:
    static constexpr int kNarrowWidth = 1200;

    // Places both docks for a wide window.
    AdaptiveDocks(QMainWindow* window, QDockWidget* chats, QDockWidget* inspector);
    void adaptToWidth();
    bool narrow() const { return m_narrow; }

private:
    QMainWindow* m_window;
    QDockWidget* m_chats;
    QDockWidget* m_inspector;
    bool m_narrow = false;  // docks tabified on the right
};
