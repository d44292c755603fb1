// See storenotices.h. The texts keep the MainWindow translation context they were written in.
#include "chat/storenotices.h"

#include <QCoreApplication>

#include "chat/conversationstore.h"
#include "noticebar.h"

void connectStoreNotices(ConversationStore* store, NoticeBar* notices) {
    QObject::connect(store, &ConversationStore::saveFailed, notices, [notices](const QString&, const QString& message) {
        notices->show(QStringLiteral("saveFailed"),
                      QCoreApplication::translate("MainWindow",
                                                  "This chat is not saved: %1\nThe previous version on disk is intact. Free some space: "
                                                  "the chat is saved again automatically (every %2 seconds, with the next change, and when you quit).")
                          .arg(message)
                          .arg(ConversationStore::kRetryMs / 1000));
    });
    QObject::connect(store, &ConversationStore::saveRecovered, notices, [store, notices] {
        if (!store->hasUnsavedChanges()) notices->dismiss(QStringLiteral("saveFailed"));
    });
    QObject::connect(store, &ConversationStore::conflictKept, notices,
                     [notices](const QString&, const QString&, const QString& message) { notices->show(QStringLiteral("conflict"), message); });
}

void showUnreadableChats(NoticeBar* notices, const QStringList& problems) {
    if (problems.isEmpty()) return;
    notices->show(QStringLiteral("corrupt"),
                  QCoreApplication::translate("MainWindow", "Some chats could not be read and were moved aside (nothing was deleted):\n%1")
                      .arg(problems.join(QLatin1Char('\n'))));
}
