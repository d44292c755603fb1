// See contextplanner.h.
#include "contextplanner.h"

#include "conversationstore.h"
#include "inference/inferencecontroller.h"

ContextPlanner::ContextPlanner(ConversationStore* store, InferenceController* inference, QObject* parent)
    : QObject(parent), m_store(store), m_inference(inference) {
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(kDebounceMs);
    connect(&m_debounce, &QTimer::timeout, this, &ContextPlanner::request);
    // Any change to the open chat's messages changes what the next prompt holds.
    auto changed = [this](const QString& id) {
        if (id == m_conversationId) schedule();
    };
    connect(store, &ConversationStore::messagesInserted, this, changed);
    connect(store, &ConversationStore::messagesRemoved, this, changed);
    connect(store, &ConversationStore::messageChanged, this, changed);
    connect(inference, &InferenceController::contextPlanned, this,
            [this](quint64 id, const llava::ContextPlan& plan, const QString& error) {
                if (id != m_latest || !m_loaded) return;  // a newer question is on its way
                m_forecast.plan = plan;
                m_forecast.error = error;
                publish(error.isEmpty() ? ContextForecast::State::Ready : ContextForecast::State::Failed);
            });
}

void ContextPlanner::setModel(bool loaded, int maxContext) {
    m_loaded = loaded;
    m_forecast.maxContext = maxContext;
    schedule();
}

void ContextPlanner::setConversation(const QString& id) {
    if (id == m_conversationId) return;
    m_conversationId = id;
    schedule();
}

void ContextPlanner::setDraft(const QString& text, const QStringList& images, int editRow) {
    if (text == m_text && images == m_images && editRow == m_editRow) return;
    m_text = text;
    m_images = images;
    m_editRow = editRow;
    schedule();
}

void ContextPlanner::setBusy(bool busy) {
    m_busy = busy;
    schedule();
}

void ContextPlanner::schedule() {
    m_latest = 0;  // whatever is in flight describes an older state
    if (!m_loaded) {
        m_debounce.stop();
        publish(ContextForecast::State::NoModel);
        return;
    }
    publish(ContextForecast::State::Pending);
    if (!m_busy) m_debounce.start();
    else m_debounce.stop();  // setBusy(false) schedules again
}

void ContextPlanner::request() {
    const Conversation* c = m_store->find(m_conversationId);
    if (!c || !m_loaded || m_busy) return;
    GenerationRequest plan;
    plan.conversationId = m_conversationId;
    plan.history = m_editRow >= 0 ? c->messages.mid(0, m_editRow) : c->messages;
    plan.text = m_text;
    plan.imagePaths = m_images;
    plan.systemPrompt = c->systemPrompt;
    if (plan.text.trimmed().isEmpty() && plan.imagePaths.isEmpty()) plan.text = QStringLiteral(" ");  // the chat so far
    m_latest = m_inference->requestPlan(plan);
}

void ContextPlanner::publish(ContextForecast::State state) {
    m_forecast.state = state;
    emit forecastChanged(m_forecast);
}
