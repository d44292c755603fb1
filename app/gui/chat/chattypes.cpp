#include "chattypes.h"

#include <QCoreApplication>
#include <QRandomGenerator>

QString newConversationId() {
    return QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz-")) +
           QString::number(QRandomGenerator::global()->bounded(0x10000), 16);
}

QString defaultTitle(const Conversation& conversation) {
    for (const ChatMessage& m : conversation.messages) {
        if (m.role != MessageRole::User) continue;
        QString t = m.text.simplified();
        if (t.isEmpty() && !m.images.isEmpty()) return QCoreApplication::translate("Chat", "Image chat");
        return t.size() > 40 ? t.left(40) + QStringLiteral("…") : t;
    }
    return QCoreApplication::translate("Chat", "New chat");
}
