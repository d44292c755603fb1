// See chatcontroller.h.
#include "chatcontroller.h"

#include <QRandomGenerator>

#include "conversationstore.h"
#include "inference/inferencecontroller.h"

ChatController::ChatController(ConversationStore* store, InferenceController* inference, QObject* parent)
    : QObject(parent), m_store(store), m_inference(inference) {
    connect(inference, &InferenceController::tokensGenerated, this, [this](quint64 id, const QString& text) {
        if (id == m_activeRequest) m_store->appendText(m_activeConversation, m_activeRow, text);
    });
    connect(inference, &InferenceController::tokenConfidencesGenerated, this, [this](quint64 id, const TokenProbabilities& tokens) {
        if (id == m_activeRequest) m_store->appendTokens(m_activeConversation, m_activeRow, tokens);
    });
    connect(inference, &InferenceController::generationFinished, this, [this](quint64 id, const llava::GenerationStats& stats, int used) {
        lateStats(id, stats);
        settle(id, MessageState::Complete, &stats, {}, used);
    });
    connect(inference, &InferenceController::generationStopped, this, [this](quint64 id, const llava::GenerationStats& stats, int used) {
        lateStats(id, stats);
        settle(id, MessageState::Stopped, &stats, {}, used);
    });
    connect(inference, &InferenceController::generationFailed, this,
            [this](quint64 id, const QString& message, const QString& details) {
                settle(id, MessageState::Failed, nullptr, message + QLatin1Char(' ') + details, -1);
            });
    // A chat deleted while it is answered: the answer has nowhere to go.
    connect(store, &ConversationStore::conversationRemoved, this, [this](const QString& id) {
        if (id == m_activeConversation) stop();
    });
}

void ChatController::setConversation(const QString& id) {
    if (id == m_conversationId) return;
    stop();
    m_conversationId = id;
    m_contextUsed = 0;  // unknown until the next reply restores this chat into the session
    emit contextUsedChanged(0);
}

quint64 ChatController::nextSeed() const {
    return m_sampling.fixedSeed ? m_sampling.seed : QRandomGenerator::global()->generate64();
}

void ChatController::send(const QString& text, const QStringList& images) {
    const Conversation* c = m_store->find(m_conversationId);
    if (!c || isBusy()) return;
    ChatMessage user;
    user.role = MessageRole::User;
    user.text = text;
    user.images = images;
    const QList<ChatMessage> history = c->messages;
    m_store->appendMessage(m_conversationId, user);
    start(history, user);
}

void ChatController::resendFrom(int row, const QString& text, const QStringList& images) {
    const Conversation* c = m_store->find(m_conversationId);
    if (!c || isBusy() || row < 0 || row >= c->messages.size()) return;
    m_store->removeMessagesFrom(m_conversationId, row);
    send(text, images);
}

void ChatController::regenerate() {
    const Conversation* c = m_store->find(m_conversationId);
    if (!c || isBusy()) return;
    const qsizetype n = c->messages.size();
    if (n < 2 || c->messages[n - 1].role != MessageRole::Assistant || c->messages[n - 2].role != MessageRole::User) return;
    const ChatMessage user = c->messages[n - 2];
    m_store->removeMessagesFrom(m_conversationId, int(n - 1));
    start(m_store->find(m_conversationId)->messages.mid(0, n - 2), user);
}

void ChatController::start(const QList<ChatMessage>& history, const ChatMessage& user) {
    const Conversation* c = m_store->find(m_conversationId);
    GenerationRequest request;
    request.conversationId = m_conversationId;
    request.history = history;
    request.text = user.text;
    request.imagePaths = user.images;
    request.systemPrompt = c->systemPrompt;
    request.sampling = m_sampling.params;
    request.sampling.seed = nextSeed();

    ChatMessage answer;
    answer.role = MessageRole::Assistant;
    answer.state = MessageState::Streaming;
    answer.seed = request.sampling.seed;
    m_activeConversation = m_conversationId;
    m_activeSeed = *answer.seed;
    m_activeRow = m_store->appendMessage(m_conversationId, answer);
    m_activeRequest = m_inference->generate(std::move(request));
    emit busyChanged(true);
}

void ChatController::stop() {
    if (!isBusy()) return;
    m_inference->cancel();
    // Instant in the UI: tokens still in flight are dropped; the worker's confirmation only brings the
    // stats line of the stopped answer (lateStats).
    m_stopping = {m_activeRequest, m_activeConversation, m_activeRow, m_activeSeed};
    settle(m_activeRequest, MessageState::Stopped, nullptr, {}, -1);
}

void ChatController::lateStats(quint64 id, const llava::GenerationStats& stats) {
    if (id == 0 || id != m_stopping.id) return;
    const Stopping s = std::exchange(m_stopping, Stopping{});
    const Conversation* c = m_store->find(s.conversation);
    // Only onto the same answer: it may have been regenerated or deleted meanwhile.
    if (!c || s.row >= c->messages.size() || c->messages[s.row].role != MessageRole::Assistant ||
        c->messages[s.row].seed != s.seed || c->messages[s.row].hasStats)
        return;
    m_store->setStats(s.conversation, s.row, stats);
    (void)m_store->save(s.conversation);  // failures are announced through saveFailed
}

void ChatController::settle(quint64 id, MessageState state, const llava::GenerationStats* stats, const QString& error, int used) {
    if (id == 0 || id != m_activeRequest) return;
    m_activeRequest = 0;
    if (stats) m_store->setStats(m_activeConversation, m_activeRow, *stats);
    m_store->setState(m_activeConversation, m_activeRow, state, error);
    if (used >= 0 && m_activeConversation == m_conversationId) {
        m_contextUsed = used;
        emit contextUsedChanged(used);
    }
    emit busyChanged(false);
    emit settled(stats ? *stats : llava::GenerationStats{}, state);
}
