// The request state machine of the chat, out of the main window: send, regenerate, edit-and-resend and
// stop. Each request is built from the ConversationStore (the one copy of the chat), handed to the
// InferenceController, and its streamed answer is written back into the store. One request runs at a
// time; the latest wins (switching chats or stopping settles the running one at once, and late tokens
// of a settled request are dropped). Images are passed as files: the inference thread decodes them.
// GUI thread only.
#pragma once

#include <QObject>
#include <QStringList>

#include "inference/chatengine.h"

class ConversationStore;
class InferenceController;

struct SamplingChoice {
    llava::SamplingParams params;  // seed ignored unless fixedSeed
    bool fixedSeed = false;
    quint64 seed = 0;
};

class ChatController : public QObject {
    Q_OBJECT
public:
    ChatController(ConversationStore* store, InferenceController* inference, QObject* parent = nullptr);

    void setSampling(const SamplingChoice& sampling) { m_sampling = sampling; }
    // The chat requests go to; switching stops a running request of another chat.
    void setConversation(const QString& id);
    const QString& conversationId() const { return m_conversationId; }
    bool isBusy() const { return m_activeRequest != 0; }
    int contextUsed() const { return m_contextUsed; }

public slots:
    // Appends the user message (images must already be in the chat store) and starts the answer.
    void send(const QString& text, const QStringList& images);
    // Replaces message `row` (a user message) and everything after it with a new message, then answers.
    void resendFrom(int row, const QString& text, const QStringList& images);
    // A new answer to the last user message, with a new seed unless the seed is fixed.
    void regenerate();
    void stop();

signals:
    void busyChanged(bool busy);
    // A request ended (finished, stopped or failed); stats are empty for a failure.
    void settled(const llava::GenerationStats& stats, MessageState state);
    void contextUsedChanged(int used);

private:
    void start(const QList<ChatMessage>& history, const ChatMessage& user);
    void lateStats(quint64 id, const llava::GenerationStats& stats);
    void settle(quint64 id, MessageState state, const llava::GenerationStats* stats, const QString& error, int used);
    quint64 nextSeed() const;

    ConversationStore* m_store;
    InferenceController* m_inference;
    SamplingChoice m_sampling;
    QString m_conversationId;
    quint64 m_activeRequest = 0;  // 0 = idle
    int m_activeRow = -1;         // the answer being written
    QString m_activeConversation;
    quint64 m_activeSeed = 0;
    // A request stopped in the UI whose confirmation (with its stats) has not arrived yet.
    struct Stopping {
        quint64 id = 0;
        QString conversation;
        int row = -1;
        quint64 seed = 0;
    } m_stopping;
    int m_contextUsed = 0;
};
