// See statuspanel.h.
#include "statuspanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolButton>

#include "icons.h"

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
    retranslate();
}

QString StatusPanel::modelText() const {
    if (!m_loadingName.isEmpty())
        return m_loadingDemo ? tr("Preparing the demo model (random weights)…") : tr("Loading %1…").arg(m_loadingName);
    QString text;
    if (m_model) {
        text = m_model->name;
        // Which prompt format and reference numerics answer (the first thing to check after a download).
        if (!m_model->randomWeights && !m_model->templateName.isEmpty())
            text += tr(" · %1 template · %2 reference")
                        .arg(m_model->templateName, QString::fromLatin1(llava::referenceName(m_model->reference).data()));
        // The demo's own name already says "random weights": only what follows from it is added.
        if (m_model->randomWeights)
            text += m_model->name.contains(QStringLiteral("random weights")) ? tr(" — answers are meaningless")
                                                                              : tr(" — random weights, answers are meaningless");
    } else {
        text = tr("No model loaded");
    }
    if (!m_failure.isEmpty())
        text += m_model ? tr(" (the other model could not be loaded: %1)").arg(m_failure) : QStringLiteral(": ") + m_failure;
    return text;
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
    if (m_model) {
        QString backend = m_model->backend.toUpper();
        if (!m_model->device.isEmpty()) backend += QStringLiteral(" (%1)").arg(m_model->device);
        QString tip = backend;
        if (!m_model->fallbackReason.isEmpty()) {
            backend += tr(" — fallback: %1").arg(m_backendLabel->fontMetrics().elidedText(m_model->fallbackReason, Qt::ElideRight, 120));
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
}
