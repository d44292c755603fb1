// Keeps a forecast of the context the next Send would take: the open chat's whole conversation (every
// image of every turn, the text, the template) plus the draft in the composer, plus the reply headroom.
// The numbers come from the engine itself (ChatEngine::plan on the inference thread, the path reply()
// checks with), so what the meter shows is what Send would meet. Draft edits are debounced; only the
// latest forecast counts. GUI thread only.
#pragma once

#include <QObject>
#include <QStringList>
#include <QTimer>

#include "llava/engine.h"

class ConversationStore;
class InferenceController;

struct ContextForecast {
    enum class State { NoModel, Pending, Ready, Failed };
    State state = State::NoModel;
    llava::ContextPlan plan;  // Ready only
    QString error;            // Failed only: the engine's reason (e.g. an image of the chat is unreadable)
    int maxContext = 0;       // the most the model could be loaded with (its max positions); 0 unknown
    bool blocksSend() const { return state == State::Ready && !plan.fits(); }
};

class ContextPlanner : public QObject {
    Q_OBJECT
public:
    static constexpr int kDebounceMs = 250;

    ContextPlanner(ConversationStore* store, InferenceController* inference, QObject* parent = nullptr);

    // maxContext: the model's max positions (0 = no model loaded: no forecast).
    void setModel(bool loaded, int maxContext);
    void setConversation(const QString& id);
    // editRow >= 0: the draft replaces message editRow and the ones after it (edit-and-resend).
    void setDraft(const QString& text, const QStringList& images, int editRow = -1);
    void setBusy(bool busy);  // while answering the forecast waits (the chat is changing)
    const ContextForecast& forecast() const { return m_forecast; }

signals:
    void forecastChanged(const ContextForecast& forecast);

private:
    void schedule();
    void request();
    void publish(ContextForecast::State state);

    ConversationStore* m_store;
    InferenceController* m_inference;
    QTimer m_debounce;
    QString m_conversationId;
    QString m_text;
    QStringList m_images;
    int m_editRow = -1;
    bool m_loaded = false;
    bool m_busy = false;
    quint64 m_latest = 0;  // the id of the newest plan request; older answers are dropped
    ContextForecast m_forecast;
};
