// The context meter above the composer: how much of the model's context the next Send would fill
// (the whole chat + the draft + reply headroom, ContextPlanner), the token count of every image, and,
// before Send, what to do when it would not fit: remove an image, start a new chat, or reload the model
// with a context large enough (the size is named). Display only; the planner computes.
#pragma once

#include <QWidget>

#include "contextplanner.h"

class QLabel;
class QProgressBar;
class QPushButton;

class ContextMeter : public QWidget {
    Q_OBJECT
public:
    explicit ContextMeter(QWidget* parent = nullptr);

    void setForecast(const ContextForecast& forecast);
    // The text as shown (tests read it; the language switch re-renders it).
    QString summaryText() const;
    QString warningText() const;
    // The context the "Reload" way out offers; 0 when the model cannot hold the message at all.
    int suggestedContext() const { return m_suggested; }

signals:
    void newChatRequested();
    void reloadRequested(int contextLength);

protected:
    void changeEvent(QEvent* event) override;

private:
    void render();

    ContextForecast m_forecast;
    bool m_haveNumbers = false;  // a Ready forecast was shown: Pending keeps it instead of flickering
    int m_suggested = 0;
    QProgressBar* m_bar;
    QLabel* m_summary;
    QWidget* m_warningRow;
    QLabel* m_warning;
    QPushButton* m_newChat;
    QPushButton* m_reload;
};
