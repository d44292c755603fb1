// See inspectorcontroller.h.
#include "inspectorcontroller.h"

#include "labellane.h"

#include <QFileInfo>
#include <memory>

#include "imagedecoder.h"
#include "inspectorwidget.h"
#include "models/modelpresets.h"

InspectorController::InspectorController(InspectorWidget* widget, QObject* parent) : QObject(parent), m_widget(widget) {
    m_pool.setMaxThreadCount(1);
    showDefault();
}

InspectorController::~InspectorController() {
    ++m_generation;  // results still running are not wanted any more
    m_pool.waitForDone();
}

void InspectorController::showModel(const llava::ModelConfig& config, const QString& modelName, const QString& modelDir) {
    setConfig(config, Source::Model, modelName, modelDir);
}

void InspectorController::showPreset(const QString& name) {
    auto config = llava::loadPreset(name.toStdString());
    if (!config.isOk()) {
        emit problem(QString::fromStdString(config.status().message()));
        return;
    }
    setConfig(*config, Source::Preset, name, QString());
}

void InspectorController::showDefault() { setConfig(defaultInspectorConfig(), Source::Default, QString(), QString()); }

void InspectorController::setReferenceSetting(const QString& reference) {
    m_referenceSetting = reference;
    llava::Reference preferred = m_config.defaultReference;
    (void)llava::parseReference(reference.toStdString(), &preferred);  // "auto" keeps the config's default
    m_widget->setPreferredReference(preferred);
}

void InspectorController::setConfig(const llava::ModelConfig& config, Source source, const QString& name,
                                    const QString& tokenizerDir) {
    m_config = config;
    m_source = source;
    m_sourceName = name;
    m_tokenizerDir = tokenizerDir;
    m_tokenizerProblem.clear();
    m_counter = PromptCounter(config, nullptr);
    m_widget->setModelConfig(config);
    setReferenceSetting(m_referenceSetting);
    updateSource();
    updateCounts();
    startJob();
}

void InspectorController::showImage(const QString& path) {
    m_imagePath = path;
    if (path.isEmpty()) {
        m_widget->setImage(QString(), QSize());
    } else {
        auto size = imageio::readImageSize(path);  // the header only: the grid shows before the pixels
        if (!size.isOk()) {
            emit problem(QString::fromStdString(size.status().message()));
            m_imagePath.clear();
            m_widget->setImage(QString(), QSize());
        } else {
            m_widget->setImage(QFileInfo(path).fileName(), *size);
        }
    }
    startJob();
}

void InspectorController::setDraft(const QString& text, const QString& systemPrompt) {
    m_draft = text;
    m_systemPrompt = systemPrompt;
    updateCounts();
}

void InspectorController::setContext(int used, int limit) { m_widget->setContext(used, limit); }

void InspectorController::startJob() {
    const quint64 generation = ++m_generation;
    const QString tokenizerDir = m_tokenizerDir;
    const QString imagePath = m_imagePath;
    const llava::ModelConfig config = m_config;
    m_pool.start([this, generation, tokenizerDir, imagePath, config] {
        if (generation != m_generation) return;  // superseded before it started
        std::shared_ptr<const llava::Tokenizer> tokenizer;
        QString problem;
        if (!tokenizerDir.isEmpty()) {
            auto loaded = PromptCounter::loadTokenizer(tokenizerDir);
            if (loaded.isOk()) tokenizer = *loaded;
            else problem = QString::fromStdString(loaded.status().message());
        }
        QImage preview;
        if (!imagePath.isEmpty()) {
            auto decoded = imageio::readPreview(imagePath, 1024);
            if (decoded.isOk()) preview = *decoded;
        }
        QMetaObject::invokeMethod(this, [this, generation, tokenizer, problem, preview, config] {
            if (generation != m_generation) return;  // a newer request is on its way
            m_counter = PromptCounter(config, tokenizer);
            m_tokenizerProblem = problem;
            m_widget->setPreview(preview);
            updateSource();
            updateCounts();
            updateLabels();
        }, Qt::QueuedConnection);
    });
}

void InspectorController::updateSource() {
    QString suffix;
    if (m_counter.exact()) suffix = tr(" · exact text tokens");
    else if (!m_tokenizerProblem.isEmpty()) suffix = tr(" · text tokens estimated (≈): %1").arg(m_tokenizerProblem);
    else suffix = tr(" · text tokens estimated (≈)");
    const QString source = m_source == Source::Model    ? tr("model %1").arg(m_sourceName)
                           : m_source == Source::Preset ? tr("preset %1").arg(m_sourceName)
                                                        : tr("default geometry (no model loaded)");
    m_widget->setSource(source + suffix);
}

void InspectorController::updateCounts() {
    const TextTokenCounts counts = m_counter.count(m_draft, m_systemPrompt);
    m_widget->setTextTokens(counts.before, counts.after, counts.estimated);
}

void InspectorController::setConversation(const QList<ChatMessage>& messages, const QString& systemPrompt) {
    m_messages = messages;
    m_chatSystemPrompt = systemPrompt;
    updateLabels();
}

// Training labels of the chat's answered exchanges; each image's tokens from its header size and layout.
void InspectorController::updateLabels() {
    LabelLane lane;
    if (!m_counter.tokenizer()) {
        lane.problem = tr("needs the loaded model's tokenizer");
        m_widget->setLabelLane(lane);
        return;
    }
    std::vector<int> imageTokens;
    for (const ChatMessage& m : m_messages)
        for (const QString& path : m.images) {
            auto size = imageio::readImageSize(path);
            auto layout = size.isOk() ? llava::computeImageLayout(size->width(), size->height(), m_config,
                                                                  m_widget->preferredReference())
                                      : llava::Result<llava::ImageLayout>(size.status());
            imageTokens.push_back(layout.isOk() ? layout->imageTokens : 0);
        }
    m_widget->setLabelLane(computeLabelLane(*m_counter.tokenizer(), m_config.templateName, m_messages, m_chatSystemPrompt,
                                            imageTokens, m_config.imageTokenId));
}
