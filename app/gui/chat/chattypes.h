// Plain value types of a conversation, shared by the chat model, the views and persistence.
// GUI thread only; the inference thread gets copies (GenerationRequest), never these.
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include "llava/engine.h"

enum class MessageRole { User, Assistant };
enum class MessageState { Complete, Streaming, Stopped, Failed };

struct ChatMessage {
    MessageRole role = MessageRole::User;
    QString text;
    QStringList images;          // absolute paths of copies inside the app data folder
    MessageState state = MessageState::Complete;
    QString error;               // for Failed
    bool hasStats = false;
    llava::GenerationStats stats;
    QDateTime time;
};

struct Conversation {
    QString id;                  // file name stem, e.g. "20260124-150301-ab12"
    QString title;
    QDateTime created, updated;
    QString modelName;           // model used last, informational
    QString systemPrompt;
    QList<ChatMessage> messages;
};

QString newConversationId();
// First words of the first user message, or "New chat".
QString defaultTitle(const Conversation& conversation);
