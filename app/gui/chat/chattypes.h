// Plain value types of a conversation, shared by the chat model, the views and persistence.
// GUI thread only; the inference thread gets copies (GenerationRequest), never these.
#pragma once

#include <QDateTime>
#include <optional>
#include <QList>
#include <QString>
#include <QStringList>

#include "llava/engine.h"
#include "tokenconfidence.h"

enum class MessageRole { User, Assistant };
enum class MessageState { Complete, Streaming, Stopped, Failed };
enum class MessageChange { Text, State, Stats };  // what a ConversationStore edit touched

struct ChatMessage {
    MessageRole role = MessageRole::User;
    QString text;
    QStringList images;          // absolute paths of copies inside the app data folder
    MessageState state = MessageState::Complete;
    QString error;               // for Failed
    bool hasStats = false;
    llava::GenerationStats stats;
    std::optional<quint64> seed;  // the sampling seed an answer was drawn with
    TokenProbabilities tokens;    // answers: per-token confidence (saved with the chat, confidencejson.h)
    QDateTime time;
};

struct Conversation {
    QString id;                  // file name stem, a UUID (isValidConversationId)
    QString title;
    QDateTime created, updated;
    QString modelName;           // model used last, informational
    QString systemPrompt;
    QList<ChatMessage> messages;
};

// A new id: a UUID without braces. Ids name files, so only [0-9A-Za-z-], 1-64 characters, are valid
// (UUIDs and the older "20260124-150301-123-ab12" form).
QString newConversationId();
bool isValidConversationId(const QString& id);
// First words of the first user message, or "New chat".
QString defaultTitle(const Conversation& conversation);
// The image the inspector shows for a chat: the last one a message of it carried; empty for none (or null).
QString lastImageOf(const Conversation* conversation);
