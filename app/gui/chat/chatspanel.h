// The chats dock: a search field, the chat list (a QListView over the ConversationStore through a
// QSortFilterProxyModel filtering title and message text) and New / Rename / Delete. The commands on one
// chat live here: rename (asks for the title), delete (asks first unless LLAVA_NO_DIALOGS; the store keeps
// it for undo) and export; New and the choice of the next chat after a delete belong to the main window.
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
    // Asks (when it has messages), removes it from the store (which stops its request): true when deleted.
    bool deleteChat(const QString& id);
    // File -> Export: asks for the file name; the status-bar message that says what happened (empty: cancelled).
    QString exportChat(const QString& id, bool markdown);

signals:
    void chatSelected(const QString& id);
    void newRequested();
    void deleteRequested(const QString& id);
    void deleted(const QString& title);  // deleteChat() removed it
    void problem(const QString& message);

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslate();
    void renameCurrent();

    ConversationStore* m_store;
    QSortFilterProxyModel* m_filter;
    QLineEdit* m_search;
    QListView* m_list;
    QPushButton *m_add, *m_rename, *m_remove;
    QString m_current;
};
