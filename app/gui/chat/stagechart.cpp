// See stagechart.h.
#include "stagechart.h"

#include <QPainter>

namespace {
constexpr double kRowPadding = 2;

QColor stageColor(const std::string& name) {
    if (name == llava::kStagePreprocess) return QColor(120, 160, 220);
    if (name == llava::kStageClip) return QColor(170, 110, 200);
    if (name == llava::kStageProjector) return QColor(200, 130, 180);
    if (name == llava::kStageMerge) return QColor(200, 90, 90);
    if (name.rfind("prefill", 0) == 0) return QColor(230, 160, 40);
    if (name.rfind("decode", 0) == 0) return QColor(60, 180, 110);
    return QColor(140, 140, 140);  // stages added by the app (image decode)
}
}  // namespace

QList<StageRow> stageRows(const std::vector<llava::StageTiming>& stages, const std::optional<llava::MachineCeilings>& ceilings) {
    QList<StageRow> rows;
    for (const llava::StageTiming& s : stages) {
        StageRow r;
        r.label = QString::fromStdString(s.name);
        const bool numbered = s.name != llava::kStageDecodeFirst && s.name != llava::kStageDecodeSteady;
        if (numbered) r.label += QStringLiteral(" #%1").arg(s.index);
        if (s.items > 1) r.label += QStringLiteral(" (%1)").arg(s.items);
        r.startMs = s.startMs;
        r.ms = s.ms;
        r.gbPerS = s.ms > 0 ? s.bytes / s.ms / 1e6 : 0;      // bytes per ms / 1e6 = GB/s
        r.gflopPerS = s.ms > 0 ? s.flops / s.ms / 1e6 : 0;  // flops per ms / 1e6 = GFLOP/s
        if (ceilings && r.gbPerS > 0 && ceilings->copyGBs > 0) r.bandwidthFraction = r.gbPerS / ceilings->copyGBs;
        if (ceilings && r.gflopPerS > 0 && ceilings->gemmGflops > 0) r.flopsFraction = r.gflopPerS / ceilings->gemmGflops;
        rows << r;
    }
    return rows;
}

StageChart::StageChart(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void StageChart::setStages(const std::vector<llava::StageTiming>& stages, const std::optional<llava::MachineCeilings>& ceilings) {
    m_ceilings = ceilings;
    m_rows = stageRows(stages, ceilings);
    m_colors.clear();
    for (const llava::StageTiming& s : stages) m_colors << stageColor(s.name);
    m_totalMs = 0;
    for (const StageRow& r : m_rows) m_totalMs = std::max(m_totalMs, r.startMs + r.ms);
    setAccessibleName(tr("Stage timeline: %1 stages, %2 ms").arg(m_rows.size()).arg(m_totalMs, 0, 'f', 1));
    updateGeometry();
    update();
}

QString StageChart::valueText(const StageRow& r) const {
    QString value = tr("%1 ms").arg(r.ms, 0, 'f', r.ms < 10 ? 2 : 1);
    // Small rates keep two significant digits ("0.02 GB/s"), so a slow stage does not read as 0.
    auto rate = [](double v) { return QString::number(v, 'f', v < 1 ? 2 : 1); };
    auto percent = [](double f) { return QString::number(f * 100, 'f', f < 0.1 ? 1 : 0); };
    if (r.gbPerS > 0) {
        value += QStringLiteral("  ");
        value += r.bandwidthFraction && m_ceilings
                     ? tr("%1 GB/s of %2 (%3 %)").arg(rate(r.gbPerS), rate(m_ceilings->copyGBs), percent(*r.bandwidthFraction))
                     : tr("%1 GB/s").arg(rate(r.gbPerS));
    }
    if (r.gflopPerS > 0) {
        value += QStringLiteral("  ");
        value += r.flopsFraction && m_ceilings
                     ? tr("%1 GFLOP/s of %2 (%3 %)").arg(rate(r.gflopPerS), rate(m_ceilings->gemmGflops), percent(*r.flopsFraction))
                     : tr("%1 GFLOP/s").arg(rate(r.gflopPerS));
    }
    return value;
}

QString StageChart::footerText() const {
    QString text = tr("0 … %1 ms since the message was sent").arg(m_totalMs, 0, 'f', 1);
    text += QLatin1Char('\n');
    if (m_ceilings)
        text += tr("Ceilings of this machine: copy %1 GB/s, GEMM %2 GFLOP/s (%3 threads, %4, measured %5)")
                    .arg(m_ceilings->copyGBs, 0, 'f', 1)
                    .arg(m_ceilings->gemmGflops, 0, 'f', 1)
                    .arg(m_ceilings->threads)
                    .arg(QString::fromStdString(m_ceilings->cpu), QString::fromStdString(m_ceilings->measuredAt).left(10));
    else
        text += tr("No machine ceilings for this answer (they are measured for the CPU backend only)");
    return text;
}

double StageChart::labelWidth() const {
    double w = 0;
    for (const StageRow& r : m_rows) w = std::max(w, double(fontMetrics().horizontalAdvance(r.label)));
    return w + 8;
}

double StageChart::valueWidth() const {
    double w = 0;
    for (const StageRow& r : m_rows) w = std::max(w, double(fontMetrics().horizontalAdvance(valueText(r))));
    return w + 8;
}

// Narrow columns put the numbers on a line of their own under each bar, so nothing is cut.
bool StageChart::twoLineAt(int w) const { return w - labelWidth() - valueWidth() < 80; }

double StageChart::rowHeight() const { return fontMetrics().height() * (twoLine() ? 2 : 1) + kRowPadding; }

// The footer wraps at the chart's width (a long CPU name on a narrow column).
int StageChart::footerHeight(int w) const {
    return fontMetrics().boundingRect(QRect(0, 0, std::max(w, 50), 10000), Qt::TextWordWrap, footerText()).height();
}

int StageChart::heightForWidth(int w) const {
    const int line = fontMetrics().height();
    return int(m_rows.size() * (line * (twoLineAt(w) ? 2 : 1) + kRowPadding)) + footerHeight(w) + 4;
}

QSize StageChart::sizeHint() const { return {420, heightForWidth(420)}; }

QRectF StageChart::barRect(int row) const {
    const double line = fontMetrics().height();
    const double left = labelWidth(), right = twoLine() ? 4 : valueWidth();
    const double span = std::max(1.0, width() - left - right - 4);
    const StageRow& r = m_rows[row];
    const double x = left + span * (m_totalMs > 0 ? r.startMs / m_totalMs : 0);
    const double w = std::max(1.5, span * (m_totalMs > 0 ? r.ms / m_totalMs : 0));
    return {x, row * rowHeight() + 1, w, line - 2};
}

void StageChart::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QFontMetricsF fm(font());
    const double line = fm.height(), left = labelWidth();
    for (int i = 0; i < m_rows.size(); ++i) {
        const StageRow& r = m_rows[i];
        const double y = i * rowHeight();
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QRectF(0, y, left - 4, line), Qt::AlignLeft | Qt::AlignVCenter, r.label);
        p.fillRect(barRect(i), m_colors[i]);
        p.setPen(palette().color(QPalette::PlaceholderText));
        const QRectF values = twoLine() ? QRectF(0, y + line, width(), line) : QRectF(width() - valueWidth(), y, valueWidth(), line);
        p.drawText(values, Qt::AlignRight | Qt::AlignVCenter, valueText(r));
    }
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRectF(0, m_rows.size() * rowHeight(), width(), footerHeight(width())), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               footerText());
}

void StageChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    // Row height (one or two lines) and the footer's wrapping change with the width.
    if (twoLine() != m_twoLine || heightForWidth(width()) != height()) {
        m_twoLine = twoLine();
        updateGeometry();
    }
}
