// Help → Backend self-check: what the loaded model runs on and why (the backend Auto chose, the reason
// it fell back to the CPU, what the backend changed from the request, e.g. q4 kept as q8 or threads
// clamped) and the CUDA self-check's full report when one ran, with a Copy button for a bug report.
// The same text is what the notice above the chat links to after a load that fell back.
#pragma once

#include <QDialog>
#include <optional>

#include "inference/chatengine.h"

class QPlainTextEdit;
class QLabel;

class BackendReportDialog : public QDialog {
    Q_OBJECT
public:
    explicit BackendReportDialog(const std::optional<ModelInfo>& model, QWidget* parent = nullptr);

    // The summary (a few lines) and the full plain-text report (summary + self-check lines).
    static QString summary(const std::optional<ModelInfo>& model);
    static QString report(const std::optional<ModelInfo>& model);
    // One line for the notice after a load; "" when the load needs none (CPU-only build, no changes).
    static QString loadNotice(const ModelInfo& model);

    QString text() const;  // tests and screenshots

private:
    QLabel* m_summary;
    QPlainTextEdit* m_report;
};
