// The stage waterfall of one answer (issue 12 item 4): one row per stage of GenerationStats::stages in
// time order (preprocess, CLIP per pass, projector, merge, each prefill chunk, the first decode step,
// the steady decode), a bar from its start to its end on a shared time axis, and the achieved GB/s and
// GFLOP/s from core's byte and FLOP estimates, each next to this machine's ceiling when one is known
// ("12.3 GB/s of 24.5 (50 %)": copy bandwidth and GEMM peak, llava/machineceilings.h; measured for the CPU
// backend only). Paints only; the numbers come from core.
#pragma once

#include <QColor>
#include <QList>
#include <QWidget>
#include <optional>
#include <vector>

#include "llava/machineceilings.h"
#include "llava/stages.h"

struct StageRow {
    QString label;        // "clip #0 (5)", "prefill.chunk #1 (512)", "decode.steady (31)"
    double startMs = 0;
    double ms = 0;
    double gbPerS = 0;    // bytes / ms / 1e6 (0 when the stage took no measurable time)
    double gflopPerS = 0; // flops / ms / 1e6
    std::optional<double> bandwidthFraction;  // gbPerS / copy ceiling (with ceilings, for stages that moved bytes)
    std::optional<double> flopsFraction;      // gflopPerS / GEMM ceiling (with ceilings, for stages that computed)
};

QList<StageRow> stageRows(const std::vector<llava::StageTiming>& stages,
                          const std::optional<llava::MachineCeilings>& ceilings = std::nullopt);

class StageChart : public QWidget {
    Q_OBJECT
public:
    explicit StageChart(QWidget* parent = nullptr);
    void setStages(const std::vector<llava::StageTiming>& stages,
                   const std::optional<llava::MachineCeilings>& ceilings = std::nullopt);
    const QList<StageRow>& rows() const { return m_rows; }
    // The footer: the time axis, then the ceilings the fractions refer to (or that there are none).
    QString footerText() const;
    // A row's numbers as painted ("3.50 ms  12.3 GB/s of 24.6 (50 %)  80.0 GFLOP/s of 110.0 (73 %)").
    QString valueText(const StageRow& row) const;
    double totalMs() const { return m_totalMs; }
    // The bar of row i in widget coordinates (for tests: bars follow start and duration).
    QRectF barRect(int row) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {200, sizeHint().height()}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    double labelWidth() const;
    double valueWidth() const;
    bool twoLine() const { return twoLineAt(width()); }
    bool twoLineAt(int width) const;
    double rowHeight() const;
    int footerHeight(int width) const;

    QList<StageRow> m_rows;
    QList<QColor> m_colors;
    bool m_twoLine = false;
    double m_totalMs = 0;
    std::optional<llava::MachineCeilings> m_ceilings;
};
