// One message bubble: role header, image thumbnails, Markdown body (QTextDocument::setMarkdown, so
// fenced code blocks render), stats line and actions (copy; edit-and-resend for user messages;
// regenerate for the last answer). Answers with per-token confidence show a hover card for the token under
// the mouse (probability, the model's raw probability, top alternatives) and, when shading is on, a
// background on unsure tokens; clicking a token asks where the answer looked (tokenActivated). Answers
// with stats get a "Timeline" toggle that shows the stage waterfall (StageChart).
#pragma once

#include <QFrame>

#include "chattypes.h"
#include "confidencetext.h"

class QLabel;
class QTextBrowser;
class QToolButton;
class QHBoxLayout;
class StageChart;

class MessageWidget : public QFrame {
    Q_OBJECT
public:
    explicit MessageWidget(QWidget* parent = nullptr);
    void setMessage(const ChatMessage& message, const QString& statsText);
    void setText(const QString& text, MessageState state);
    void setRegenerateVisible(bool visible);
    QString markdown() const { return m_text; }
    void setConfidenceShading(bool on);
    const ConfidenceMap& confidence() const { return m_confidence; }
    int hoveredToken() const { return m_hoveredToken; }
    QTextBrowser* body() const { return m_body; }
    StageChart* stageChart() const { return m_chart; }
    QToolButton* timelineButton() const { return m_timeline; }

signals:
    void copyRequested(const QString& text);
    void editRequested();
    void regenerateRequested();
    void imageActivated(const QString& path);
    void tokenActivated(int token);  // index into the message's tokens

protected:
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitHeight();
    void retranslate();
    void setupInsight(QLayout* layout);
    void updateConfidence();
    int tokenAtPoint(QPoint viewportPos) const;
    void hoverAt(QPoint viewportPos, QPoint globalPos);

    QLabel* m_header;
    QWidget* m_images;
    QHBoxLayout* m_imagesLayout;
    QTextBrowser* m_body;
    QLabel* m_stats;
    QToolButton* m_copy;
    QToolButton* m_edit;
    QToolButton* m_regenerate;
    QToolButton* m_timeline;
    StageChart* m_chart;
    TokenProbabilities m_tokens;
    ConfidenceMap m_confidence;
    bool m_shading = false;
    int m_hoveredToken = -1;
    QString m_text;
    QStringList m_imagePaths;  // thumbnails are rebuilt only when these change
    MessageState m_state = MessageState::Complete;
    MessageRole m_role = MessageRole::User;
};
