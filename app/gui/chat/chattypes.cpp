#include "chattypes.h"

#include <QCoreApplication>
#include <QUuid>

QString newConversationId() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }

bool isValidConversationId(const QString& id) {
    if (id.isEmpty() || id.size() > 64 || id.startsWith(QLatin1Char('-'))) return false;
    for (const QChar c : id)
        if (!((c >= QLatin1Char('0') && c <= QLatin1Char('9')) || (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
              c == QLatin1Char('-')))
            return false;
    return true;
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

QString lastImageOf(const Conversation* conversation) {
    if (!conversation) return {};
    for (qsizetype i = conversation->messages.size() - 1; i >= 0; --i)
        if (!conversation->messages[i].images.isEmpty()) return conversation->messages[i].images.last();
    return {};
}
