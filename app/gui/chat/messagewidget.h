// One message bubble: role header, image thumbnails, Markdown body (QTextDocument::setMarkdown, so
// fenced code blocks render), stats line and actions (copy; edit-and-resend for user messages;
// regenerate for the last answer).
#pragma once

#include <QFrame>

#include "chattypes.h"

class QLabel;
class QTextBrowser;
class QToolButton;
class QHBoxLayout;

class MessageWidget : public QFrame {
    Q_OBJECT
public:
    explicit MessageWidget(QWidget* parent = nullptr);
    void setMessage(const ChatMessage& message, const QString& statsText);
    void setText(const QString& text, MessageState state);
    void setRegenerateVisible(bool visible);
    QString markdown() const { return m_text; }

signals:
    void copyRequested(const QString& text);
    void editRequested();
    void regenerateRequested();
    void imageActivated(const QString& path);

protected:
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void fitHeight();
    void retranslate();

    QLabel* m_header;
    QWidget* m_images;
    QHBoxLayout* m_imagesLayout;
    QTextBrowser* m_body;
    QLabel* m_stats;
    QToolButton* m_copy;
    QToolButton* m_edit;
    QToolButton* m_regenerate;
    QString m_text;
    QStringList m_imagePaths;  // thumbnails are rebuilt only when these change
    MessageState m_state = MessageState::Complete;
    MessageRole m_role = MessageRole::User;
};
