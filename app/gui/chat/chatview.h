// The conversation view: a scroll area of MessageWidgets kept in sync with a ChatModel (inserts,
// removals, resets, text changes). Follows the bottom while a reply streams.
//
// Paged, so a chat of any length opens in time proportional to what is shown: only the last kPageSize
// messages get widgets; "Show earlier messages" at the top adds another page. Widgets exist for rows
// [firstShown, rowCount).
#pragma once

#include <QList>
#include <QScrollArea>

class ChatModel;
class MessageWidget;
class QVBoxLayout;
class QLabel;
class QPushButton;
class QAction;

class ChatView : public QScrollArea {
    Q_OBJECT
public:
    static constexpr int kPageSize = 100;

    explicit ChatView(QWidget* parent = nullptr);
    void setModel(ChatModel* model);
    void setBanner(const QString& text);  // e.g. "random weights — answers are meaningless"
    int firstShownRow() const { return m_first; }
    int shownCount() const { return int(m_widgets.size()); }
    MessageWidget* widgetForRow(int row) const;
    void showEarlier();
    // Checkable "Shade unsure words" (View menu): low-confidence tokens of every answer get a background.
    QAction* shadingAction() const { return m_shading; }

signals:
    void copyRequested(const QString& text);
    void editRequested(int row);
    void regenerateRequested();
    void imageActivated(const QString& path);  // a thumbnail was clicked
    void answerTokenActivated(int row, int token);  // a token of an answer was clicked

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    void createWidgets(int first, int last);  // model rows, all >= m_first
    void insertRows(int first, int last);
    void removeRows(int first, int last);
    void refreshRow(int row);
    void updateRegenerate();
    void updateEarlierButton();
    void scrollToBottomLater();
    void retranslate();

    ChatModel* m_model = nullptr;
    QWidget* m_content;
    QVBoxLayout* m_layout;
    QLabel* m_banner;
    QPushButton* m_earlier;
    QAction* m_shading;
    QList<MessageWidget*> m_widgets;  // rows [m_first, m_first + size)
    int m_first = 0;
};
