// The conversation view: a scroll area of MessageWidgets kept in sync with a ChatModel (inserts,
// removals, resets, text changes). Follows the bottom while a reply streams.
#pragma once

#include <QList>
#include <QScrollArea>

class ChatModel;
class MessageWidget;
class QVBoxLayout;
class QLabel;

class ChatView : public QScrollArea {
    Q_OBJECT
public:
    explicit ChatView(QWidget* parent = nullptr);
    void setModel(ChatModel* model);
    void setBanner(const QString& text);  // e.g. "random weights — answers are meaningless"
    int messageWidgetCount() const { return int(m_widgets.size()); }

signals:
    void copyRequested(const QString& text);
    void editRequested(int row);
    void regenerateRequested();

private:
    void rebuild();
    void insertRows(int first, int last);
    void removeRows(int first, int last);
    void refreshRow(int row);
    void updateRegenerate();
    void scrollToBottomLater();

    ChatModel* m_model = nullptr;
    QWidget* m_content;
    QVBoxLayout* m_layout;
    QLabel* m_banner;
    QList<MessageWidget*> m_widgets;
};
