// A dismissable notice above the conversation: chats moved aside at start, a save that failed (with the
// retry promise), a deleted chat with Undo. Several notices stack; each has its own close button and an
// optional action button. Texts are given already translated; owners re-post them on a language change.
#pragma once

#include <QWidget>
#include <functional>

class QVBoxLayout;

class NoticeBar : public QWidget {
    Q_OBJECT
public:
    explicit NoticeBar(QWidget* parent = nullptr);
    // Replaces the notice with the same key (if any). actionText empty: no action button.
    void show(const QString& key, const QString& text, const QString& actionText = {}, std::function<void()> action = {});
    void dismiss(const QString& key);
    bool has(const QString& key) const;
    QString text(const QString& key) const;

private:
    QVBoxLayout* m_layout;
};
