// See backendreportdialog.h.
#include "backendreportdialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

BackendReportDialog::BackendReportDialog(const std::optional<ModelInfo>& model, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Backend self-check"));
    auto* layout = new QVBoxLayout(this);
    m_summary = new QLabel(summary(model), this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    m_report = new QPlainTextEdit(this);
    m_report->setReadOnly(true);
    m_report->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_report->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_report->setPlainText(report(model));
    layout->addWidget(m_report, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton* copy = buttons->addButton(tr("Copy report"), QDialogButtonBox::ActionRole);
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_report->toPlainText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(760, 460);
}

QString BackendReportDialog::summary(const std::optional<ModelInfo>& model) {
    if (!model) return tr("No model is loaded. The CUDA self-check runs when a model is loaded with the Auto or CUDA backend "
                          "(Settings → Backend) in a build with CUDA; this window then shows its report.");
    QStringList lines;
    lines << tr("Model: %1").arg(model->name);
    lines << tr("Backend: %1 (%2), weights %3").arg(model->backend, model->device, model->precision);
    if (!model->fallbackReason.isEmpty()) lines << tr("Auto did not use CUDA: %1").arg(model->fallbackReason);
    if (!model->notice.isEmpty()) lines << tr("Changed from what was asked: %1").arg(model->notice);
    if (!model->weightCache.isEmpty()) lines << tr("Weight cache: %1").arg(model->weightCache);
    if (!model->selfCheckReport.isEmpty())
        lines << (model->fallbackReason.isEmpty() ? tr("The CUDA self-check passed: every op matched the CPU reference.")
                                                  : tr("The CUDA self-check failed: answers come from the CPU. Please attach "
                                                       "the report below to a bug report."));
    else if (!model->cudaBuilt)
        lines << tr("This build has no CUDA backend: the CPU backend (the reference the self-check compares against) is used.");
    else
        lines << tr("No self-check ran for this load (the CPU backend was chosen, or the check was skipped).");
    return lines.join(QLatin1Char('\n'));
}

QString BackendReportDialog::report(const std::optional<ModelInfo>& model) {
    QString text = summary(model);
    if (model && !model->selfCheckReport.isEmpty()) text += QStringLiteral("\n\n") + model->selfCheckReport;
    return text;
}

QString BackendReportDialog::loadNotice(const ModelInfo& model) {
    QStringList parts;
    if (!model.fallbackReason.isEmpty() && model.cudaBuilt)
        parts << tr("The CPU is used instead of CUDA: %1").arg(model.fallbackReason);
    if (!model.notice.isEmpty()) parts << tr("Backend note: %1").arg(model.notice);
    return parts.join(QLatin1Char('\n'));
}

QString BackendReportDialog::text() const { return m_report->toPlainText(); }
