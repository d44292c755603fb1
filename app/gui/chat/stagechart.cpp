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

QList<StageRow> stageRows(const std::vector<llava::StageTiming>& stages) {
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
        rows << r;
    }
    return rows;
}

StageChart::StageChart(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void StageChart::setStages(const std::vector<llava::StageTiming>& stages) {
    m_rows = stageRows(stages);
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
    if (r.gbPerS > 0) value += QStringLiteral("  ") + tr("%1 GB/s").arg(r.gbPerS, 0, 'f', 1);
    if (r.gflopPerS > 0) value += QStringLiteral("  ") + tr("%1 GFLOP/s").arg(r.gflopPerS, 0, 'f', 1);
    return value;
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

int StageChart::heightForWidth(int w) const {
    const int line = fontMetrics().height();
    return int(m_rows.size() * (line * (twoLineAt(w) ? 2 : 1) + kRowPadding)) + line + 4;
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
    p.drawText(QRectF(0, m_rows.size() * rowHeight(), width(), line), Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap,
               tr("0 … %1 ms since the message was sent").arg(m_totalMs, 0, 'f', 1));
}

void StageChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (twoLine() != m_twoLine) {  // the row height changes with the width
        m_twoLine = twoLine();
        updateGeometry();
    }
}
