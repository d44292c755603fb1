// Feeds the InspectorWidget: which config it draws (the loaded model, a preset, or the default
// geometry), which image (the one the user attached or clicked last), the text-token counts of the
// draft, and the context in use. The slow parts — loading the model's tokenizer for exact counts and
// decoding the image preview — run as ONE background job where the latest request wins (Qt's
// Mandelbrot pattern): a result that arrives after a newer request is dropped, and the GUI never waits.
// GUI thread only.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <atomic>

#include "llava/modelconfig.h"
#include "chat/chattypes.h"
#include "promptcounter.h"

class InspectorWidget;

class InspectorController : public QObject {
    Q_OBJECT
public:
    explicit InspectorController(InspectorWidget* widget, QObject* parent = nullptr);
    ~InspectorController() override;

    // Geometry + exact counts from the model folder's tokenizer (loaded in the background).
    void showModel(const llava::ModelConfig& config, const QString& modelName, const QString& modelDir);
    void showPreset(const QString& name);  // estimates only: presets have no tokenizer
    void showDefault();                    // nothing loaded: the llava-v1.6-mistral-7b geometry
    // "auto" follows the config's layout; "original" / "transformers" override it.
    void setReferenceSetting(const QString& reference);
    void showImage(const QString& path);   // empty: no image
    void setDraft(const QString& text, const QString& systemPrompt);
    void setContext(int used, int limit);
    // The chat whose training labels the strip's label lane shows (needs the model's tokenizer).
    void setConversation(const QList<ChatMessage>& messages, const QString& systemPrompt);

    const QString& imagePath() const { return m_imagePath; }
    void retranslate() { updateSource(); }
    bool exactTextCounts() const { return m_counter.exact(); }

signals:
    void problem(const QString& message);  // e.g. an unreadable image header

private:
    enum class Source { Default, Model, Preset };
    void setConfig(const llava::ModelConfig& config, Source source, const QString& name, const QString& tokenizerDir);
    void startJob();
    void updateSource();
    void updateCounts();
    void updateLabels();

    InspectorWidget* m_widget;
    llava::ModelConfig m_config;
    QString m_referenceSetting = QStringLiteral("auto");
    Source m_source = Source::Default;
    QString m_sourceName;        // the model's or preset's name
    QString m_tokenizerDir;      // empty: no tokenizer wanted
    QString m_tokenizerProblem;  // why counts are estimates although a tokenizer was wanted
    QString m_imagePath;
    QString m_draft, m_systemPrompt;
    QList<ChatMessage> m_messages;  // the chat for the label lane
    QString m_chatSystemPrompt;
    PromptCounter m_counter;
    std::atomic<quint64> m_generation{0};  // the latest request; older results are dropped
    QThreadPool m_pool;          // last member: destroyed (and waited for) first
};
