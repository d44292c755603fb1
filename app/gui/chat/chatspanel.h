// The chats dock: a search field, the chat list (a QListView over the ConversationStore through a
// QSortFilterProxyModel filtering title and message text) and New / Rename / Delete. It only reports
// what the user asked for; the main window decides.
#pragma once

#include <QWidget>

class ConversationStore;
class QLineEdit;
class QListView;
class QPushButton;
class QSortFilterProxyModel;

class ChatsPanel : public QWidget {
    Q_OBJECT
public:
    ChatsPanel(ConversationStore* store, QWidget* parent = nullptr);
    void setCurrent(const QString& id);  // selects the chat's row (if it passes the filter)
    QListView* list() const { return m_list; }
    QLineEdit* search() const { return m_search; }

signals:
    void chatSelected(const QString& id);
    void newRequested();
    void renameRequested(const QString& id);
    void deleteRequested(const QString& id);

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslate();

    ConversationStore* m_store;
    QSortFilterProxyModel* m_filter;
    QLineEdit* m_search;
    QListView* m_list;
    QPushButton *m_add, *m_rename, *m_remove;
    QString m_current;
};
