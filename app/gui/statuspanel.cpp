// See statuspanel.h.
#include "statuspanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolButton>

#include "chat/chatcontroller.h"
#include "icons.h"
#include "inference/inferencecontroller.h"

namespace {
QString formatBytes(quint64 bytes) {
    const double mib = double(bytes) / (1024.0 * 1024.0);
    return mib >= 1024 ? QStringLiteral("%1 GiB").arg(mib / 1024.0, 0, 'f', 2) : QStringLiteral("%1 MiB").arg(mib, 0, 'f', 1);
}
}  // namespace

StatusPanel::StatusPanel(QStatusBar* bar) : QObject(bar) {
    m_modelLabel = new QLabel(bar);
    m_modelLabel->setObjectName(QStringLiteral("modelLabel"));
    m_modelLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_backendLabel = new QLabel(bar);
    m_memoryLabel = new QLabel(bar);
    m_speedLabel = new QLabel(bar);
    m_usageLabel = new QLabel(bar);
    m_usageLabel->setObjectName(QStringLiteral("serverUsage"));
    m_progress = new QProgressBar(bar);
    m_progress->setMaximumWidth(220);
    m_progress->setRange(0, 1000);
    m_progress->hide();
    m_cancel = new QToolButton(bar);
    m_cancel->setIcon(appIcon(AppIcon::Stop));
    m_cancel->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_cancel->hide();
    connect(m_cancel, &QToolButton::clicked, this, &StatusPanel::cancelLoadRequested);
    bar->addWidget(m_modelLabel, 1);
    bar->addPermanentWidget(m_progress);
    bar->addPermanentWidget(m_cancel);
    bar->addPermanentWidget(m_backendLabel);
    bar->addPermanentWidget(m_memoryLabel);
    bar->addPermanentWidget(m_speedLabel);
    bar->addPermanentWidget(m_usageLabel);
    retranslate();
}

void StatusPanel::setLoading(const QString& name, bool demo) {
    m_loadingName = name;
    m_loadingDemo = demo;
    m_loadStage.clear();
    m_failure.clear();
    m_progress->setValue(0);
    retranslate();
}

void StatusPanel::setLoadProgress(quint64 done, quint64 total, const QString& stage) {
    m_loadStage = stage;
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_progress->setValue(total ? int(1000.0 * double(done) / double(total)) : 0);
    retranslate();
}

void StatusPanel::setLoaded(const ModelInfo& info) {
    m_model = info;
    m_loadingName.clear();
    m_failure.clear();
    m_stats.reset();
    m_serverUsage.reset();
    retranslate();
}

void StatusPanel::setLoadFailed(const QString& reason, bool stillLoaded) {
    m_loadingName.clear();
    m_failure = reason;
    if (!stillLoaded) m_model.reset();
    retranslate();
}

void StatusPanel::setAnswerStats(const llava::GenerationStats& stats, bool complete) {
    m_stats = stats;
    m_statsComplete = complete;
    retranslate();
}

void StatusPanel::clearAnswerStats() {
    m_stats.reset();
    m_serverUsage.reset();
    retranslate();
}

void StatusPanel::setServerUsage(const ServerUsage& usage) {
    m_serverUsage = usage;
    retranslate();
}

QString StatusPanel::serverUsageText() const {
    if (!m_serverUsage || m_serverUsage->promptTokens <= 0) return {};
    const ServerUsage& u = *m_serverUsage;
    if (u.localPromptTokens < 0)
        return tr("server: %1 prompt tokens (local: %2 image tokens, no tokenizer for the text)").arg(u.promptTokens).arg(u.localImageTokens);
    if (u.localPromptTokens == u.promptTokens) return tr("server: %1 prompt tokens (= local count)").arg(u.promptTokens);
    return tr("server: %1 prompt tokens ≠ local %2").arg(u.promptTokens).arg(u.localPromptTokens);
}

QString StatusPanel::modelText() const {
    if (!m_loadingName.isEmpty())
        return m_loadingDemo ? tr("Preparing the demo model (random weights)…") : tr("Loading %1…").arg(m_loadingName);
    QString text;
    if (m_model) {
        text = m_model->backend == QLatin1String("remote") ? tr("%1 via server %2").arg(m_model->name, m_model->device)
                                                            : m_model->name;
        // Which prompt format and reference numerics answer (the first thing to check after a download).
        if (!m_model->randomWeights && !m_model->templateName.isEmpty() && m_model->backend != QLatin1String("remote"))
            text += tr(" · %1 template · %2 reference")
                        .arg(m_model->templateName, QString::fromLatin1(llava::referenceName(m_model->reference).data()));
        // The demo's own name already says "random weights" (the banner and title say what follows from it);
        // the label stays short so it is not cut at 1024 px.
        if (m_model->randomWeights && !m_model->name.contains(QStringLiteral("random weights")))
            text += tr(" (random weights)");
    } else {
        text = tr("No model loaded");
    }
    if (!m_failure.isEmpty())
        text += m_model ? tr(" (the other model could not be loaded: %1)").arg(m_failure) : QStringLiteral(": ") + m_failure;
    return text;
}

void StatusPanel::followAnswers(ChatController* chat, InferenceController* inference) {
    connect(inference, &InferenceController::serverUsageReported, this, [this](quint64, const ServerUsage& usage) { setServerUsage(usage); });
    connect(chat, &ChatController::busyChanged, this, [this](bool busy) {
        if (busy) clearAnswerStats();
    });
    connect(chat, &ChatController::settled, this, [this](const llava::GenerationStats& stats, MessageState state) {
        if (state == MessageState::Complete || (state == MessageState::Stopped && stats.generatedTokens > 0))
            setAnswerStats(stats, state == MessageState::Complete);
    });
}

void StatusPanel::retranslate() {
    m_modelLabel->setText(modelText());
    m_modelLabel->setToolTip(modelText());
    const bool loading = !m_loadingName.isEmpty();
    m_progress->setVisible(loading && m_progress->isVisible());
    m_cancel->setVisible(loading && m_cancel->isVisible());
    m_progress->setFormat(tr("Loading %1: %p%").arg(m_loadStage));
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Cancel loading"));
    m_cancel->setAccessibleName(tr("Cancel loading"));
    if (m_model && m_model->backend == QLatin1String("remote")) {  // answers come from a server
        m_backendLabel->setText(tr("Server %1").arg(m_model->device));
        m_backendLabel->setToolTip(tr("Answers come from the OpenAI-compatible server at %1; the inspector counts locally.")
                                       .arg(m_model->device));
        m_memoryLabel->clear();
        m_memoryLabel->setToolTip({});
    } else if (m_model) {
        QString backend = m_model->backend.toUpper();
        if (!m_model->device.isEmpty()) backend += QStringLiteral(" (%1)").arg(m_model->device);
        QString tip = backend;
        if (!m_model->fallbackReason.isEmpty()) {
            backend += tr(" — no CUDA (hover for why)");  // the reason is long; it is in the tooltip, whole
            tip += tr("\nAuto did not pick CUDA: %1").arg(m_model->fallbackReason);
        }
        m_backendLabel->setText(backend);
        m_backendLabel->setToolTip(tip);
        m_memoryLabel->setText(tr("weights %1 · KV %2").arg(formatBytes(m_model->weightBytes), formatBytes(m_model->kvCacheBytes)));
        m_memoryLabel->setToolTip(tr("weights %1 (%2) · KV cache %3 · scratch %4")
                                      .arg(formatBytes(m_model->weightBytes), m_model->precision,
                                           formatBytes(m_model->kvCacheBytes), formatBytes(m_model->scratchBytes)));
    } else {
        m_backendLabel->clear();
        m_memoryLabel->clear();
        m_backendLabel->setToolTip({});
        m_memoryLabel->setToolTip({});
    }
    if (m_stats && m_stats->timeToFirstTokenMs > 0) {
        const QString speed = tr("TTFT %1 ms · %2 tok/s").arg(m_stats->timeToFirstTokenMs, 0, 'f', 0).arg(m_stats->decodeTokPerS, 0, 'f', 1);
        m_speedLabel->setText(m_statsComplete ? speed : tr("stopped · %1").arg(speed));
    } else {
        m_speedLabel->clear();
    }
    m_usageLabel->setText(serverUsageText());
    m_usageLabel->setToolTip(m_serverUsage ? tr("Prompt tokens as the server's usage reports them, next to this app's own count "
                                                "of the same conversation (template, tokenizer and anyres layout).")
                                           : QString());
}
