// See inspectorwidget.h. Painting only reads cached values; recompute() runs on every input change.
#include "inspectorwidget.h"

#include <QEvent>
#include <QHelpEvent>
#include <QToolTip>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace {
constexpr int kCanvasRenderSide = 672;  // pixels of the cached canvas rendering (display only)
const QColor kTileColor(255, 196, 0);
const QColor kKeptColor(60, 220, 120);
const QColor kRemovedColor(235, 64, 52, 90);
const QColor kPadColor(40, 40, 40);

QColor segmentColor(TokenStripSegment::Kind kind) {
    switch (kind) {
    case TokenStripSegment::Kind::Text: return QColor(110, 140, 200);
    case TokenStripSegment::Kind::Base: return QColor(170, 110, 200);
    case TokenStripSegment::Kind::Grid: return QColor(230, 160, 40);
    case TokenStripSegment::Kind::Newlines: return QColor(200, 90, 90);
    }
    return Qt::gray;
}

QString referenceTitle(llava::Reference r) {
    return r == llava::Reference::Original ? InspectorWidget::tr("ORIG (haotian-liu/LLaVA)")
                                           : InspectorWidget::tr("HF (transformers)");
}
}  // namespace

InspectorWidget::InspectorWidget(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setMouseTracking(true);  // tile <-> strip hover
    retranslate();
}

void InspectorWidget::retranslate() {
    setAccessibleName(tr("Image inspector"));
    setAccessibleDescription(tr("How the current image becomes tokens: canvas, tiles, unpadding and prompt layout"));
    update();  // every drawn text is translated when it is painted
}

void InspectorWidget::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

void InspectorWidget::setModelConfig(const llava::ModelConfig& config) {
    m_config = config;
    m_haveConfig = true;
    recompute();
}

void InspectorWidget::setSource(const QString& source) {
    m_source = source;
    update();
}

void InspectorWidget::setPreferredReference(llava::Reference reference) {
    m_preferred = reference;
    recompute();
}

void InspectorWidget::setImage(const QString& name, QSize size) {
    m_name = name;
    m_size = size;
    m_preview = QImage();
    recompute();
}

void InspectorWidget::setPreview(const QImage& preview) {
    m_preview = preview;
    renderCaches();
    update();
}

void InspectorWidget::setTextTokens(int before, int after, bool estimated) {
    m_textBefore = before;
    m_textAfter = after;
    m_textEstimated = estimated;
    update();
}

void InspectorWidget::setLabelLane(const LabelLane& lane) {
    m_lane = lane;
    update();
}

void InspectorWidget::setContext(int usedBefore, int limit) {
    m_contextUsed = usedBefore;
    m_contextLimit = limit;
    update();
}

std::optional<llava::ImageLayout> InspectorWidget::layout(llava::Reference reference) const {
    return reference == llava::Reference::Original ? m_orig : m_hf;
}

bool InspectorWidget::showsBothReferences() const {
    if (!m_orig || !m_hf) return false;
    return m_orig->imageTokens != m_hf->imageTokens || m_orig->gridCols != m_hf->gridCols ||
           m_orig->gridRows != m_hf->gridRows || m_orig->resizedHeight != m_hf->resizedHeight ||
           m_orig->resizedWidth != m_hf->resizedWidth;
}

int InspectorWidget::totalPromptTokens() const {
    const auto l = layout(m_preferred);
    return m_textBefore + m_textAfter + (l ? l->imageTokens : 0);
}

void InspectorWidget::recompute() {
    m_orig.reset();
    m_hf.reset();
    m_error.clear();
    if (m_haveConfig && m_size.isValid()) {
        auto o = llava::computeImageLayout(m_size.width(), m_size.height(), m_config, llava::Reference::Original);
        auto h = llava::computeImageLayout(m_size.width(), m_size.height(), m_config, llava::Reference::Transformers);
        if (o.isOk()) m_orig = *o;
        if (h.isOk()) m_hf = *h;
        if (!o.isOk()) m_error = QString::fromStdString(o.status().message());
    }
    renderCaches();
    update();
    emit layoutChanged();
}

void InspectorWidget::renderCaches() {
    auto render = [this](const std::optional<llava::ImageLayout>& l) {
        if (!l || m_preview.isNull()) return QImage();
        const double s = double(kCanvasRenderSide) / std::max(l->canvasWidth, l->canvasHeight);
        QImage canvas(int(l->canvasWidth * s + 0.5), int(l->canvasHeight * s + 0.5), QImage::Format_RGB32);
        canvas.fill(Qt::black);  // padding is black before normalisation (docs/spec.md §4.3)
        QPainter p(&canvas);
        p.setRenderHint(QPainter::SmoothPixmapTransform);
        p.drawImage(QRectF(l->padLeft * s, l->padTop * s, l->resizedWidth * s, l->resizedHeight * s), m_preview);
        return canvas;
    };
    m_canvasOrig = render(m_orig);
    m_canvasHf = render(m_hf);
    m_base = m_preview.isNull() ? QImage()
                                : m_preview.scaled(96, 96, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
}

void InspectorWidget::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    m_cropHits.clear();
    m_stripHits.clear();
    m_textTips.clear();
    QRectF area = QRectF(rect()).adjusted(8, 8, -8, -8);
    if (!m_source.isEmpty()) {
        const QFontMetricsF fm(font());
        p.setPen(palette().color(QPalette::PlaceholderText));
        drawLine(p, QRectF(area.left(), area.top(), area.width(), fm.height()), m_source);
        area.setTop(area.top() + fm.height() + 4);
    }
    if (!m_size.isValid()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
                   tr("Drop, paste or attach an image to see its anyres canvas, tiles and token layout."));
        return;
    }
    if (!m_orig) {
        p.setPen(palette().color(QPalette::Text));
        p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap, tr("No layout: %1").arg(m_error));
        return;
    }
    if (showsBothReferences() && m_hf) {
        const double w = (area.width() - 8) / 2;
        paintPanel(p, QRectF(area.left(), area.top(), w, area.height()), llava::Reference::Original, *m_orig);
        paintPanel(p, QRectF(area.left() + w + 8, area.top(), w, area.height()), llava::Reference::Transformers, *m_hf);
    } else {
        paintPanel(p, area, m_preferred, m_preferred == llava::Reference::Original ? *m_orig : *m_hf);
    }
}

void InspectorWidget::paintPanel(QPainter& p, const QRectF& area, llava::Reference reference,
                                 const llava::ImageLayout& l) {
    const QFontMetricsF fm(font());
    const double line = fm.height();
    p.setPen(palette().color(QPalette::Text));
    // The badge: which reference flavour this panel follows; ✓ marks the one the model (or setting) uses.
    const bool used = reference == m_preferred;
    QString title = (used ? QStringLiteral("✓ ") : QString()) + referenceTitle(reference) + QStringLiteral(" — ");
    title += tr("%1×%2 → canvas %3×%4, grid %5×%6 (cols×rows)")
                 .arg(l.imageWidth).arg(l.imageHeight).arg(l.canvasWidth).arg(l.canvasHeight)
                 .arg(l.gridCols).arg(l.gridRows);
    const QRectF titleRect(area.left(), area.top(), area.width(), line * 2);
    p.drawText(titleRect, Qt::TextWordWrap, title);
    if (fm.boundingRect(titleRect, Qt::TextWordWrap, title).height() > titleRect.height() + 0.5)
        m_textTips << TextTip{titleRect, title};
    if (used && showsBothReferences()) {  // the strip of the flavour in use is framed
        p.save();
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRoundedRect(area.adjusted(-3, -3, 3, 3), 4, 4);
        p.restore();
    }
    const double stripH = line * 10.2;  // title, bar, two legend lines, context, label lane (two lines + bar)
    const double cropsH = std::min(96.0, area.width() / 5) + line;
    QRectF canvasArea(area.left(), area.top() + line * 2 + 4, area.width(),
                      area.height() - line * 2 - 4 - stripH - cropsH - 8);
    const QImage& pixels = reference == llava::Reference::Original ? m_canvasOrig : m_canvasHf;
    p.save();
    p.setClipRect(area.adjusted(0, 0, 2, 2));  // side-by-side panels never draw into each other
    paintCanvas(p, canvasArea, l, pixels);
    // The crops follow the canvas as drawn (width-limited canvases leave no gap below them).
    const double scale = std::min(canvasArea.width() / l.canvasWidth, canvasArea.height() / l.canvasHeight);
    const double cropsTop = canvasArea.top() + std::max(0.0, l.canvasHeight * scale) + 6;
    paintCrops(p, QRectF(area.left(), cropsTop, area.width(), cropsH), l, pixels);
    paintStrip(p, QRectF(area.left(), std::min(area.bottom() - stripH, cropsTop + cropsH + 6), area.width(), stripH), l);
    p.restore();
}

void InspectorWidget::paintCanvas(QPainter& p, const QRectF& area, const llava::ImageLayout& l, const QImage& pixels) {
    if (area.height() < 20) return;
    const InspectorGeometry g = inspectorGeometry(l, m_config.vision.imageSize, m_config.vision.patchesPerSide());
    const double s = std::min(area.width() / g.canvas.width(), area.height() / g.canvas.height());
    const QPointF origin(area.center().x() - g.canvas.width() * s / 2, area.top());
    auto map = [&](const QRect& r) {
        return QRectF(origin.x() + r.x() * s, origin.y() + r.y() * s, r.width() * s, r.height() * s);
    };
    p.fillRect(map(g.canvas), kPadColor);
    if (!pixels.isNull())
        p.drawImage(map(g.canvas), pixels);
    else
        p.fillRect(map(g.image), palette().color(QPalette::Mid));  // pixels still decoding
    for (const QRect& pad : g.padding) p.fillRect(map(pad), QBrush(QColor(255, 255, 255, 40), Qt::BDiagPattern));
    for (const QRect& band : g.removed) p.fillRect(map(band), kRemovedColor);
    QPen tilePen(kTileColor, 2);
    p.setFont(QFont(font().family(), std::max(8, int(s * 48))));
    for (int k = 0; k < g.tiles.size(); ++k) {
        m_cropHits << CropHit{map(g.tiles[k]), k + 1};
        if (m_hoverCrop == k + 1) p.fillRect(map(g.tiles[k]), QColor(255, 196, 0, 90));
        p.setPen(tilePen);
        p.drawRect(map(g.tiles[k]));
        p.drawText(map(g.tiles[k]).adjusted(6, 2, 0, 0), Qt::AlignLeft | Qt::AlignTop, QString::number(k + 1));
    }
    p.setFont(font());
    QPen keptPen(kKeptColor, 2, Qt::DashLine);
    p.setPen(keptPen);
    p.setBrush(Qt::NoBrush);
    p.drawRect(map(g.kept).adjusted(1, 1, -1, -1));
}

void InspectorWidget::paintCrops(QPainter& p, const QRectF& area, const llava::ImageLayout& l, const QImage& pixels) {
    const QFontMetricsF fm(font());
    const int n = l.cropCount();
    const double side = std::min(area.height() - fm.height(), (area.width() - (n - 1) * 4) / n);
    if (side < 8) return;
    p.setPen(palette().color(QPalette::Text));
    for (int i = 0; i < n; ++i) {
        const QRectF cell(area.left() + i * (side + 4), area.top(), side, side);
        m_cropHits << CropHit{cell, i};
        if (i == 0) {
            if (!m_base.isNull()) p.drawImage(cell, m_base); else p.fillRect(cell, palette().color(QPalette::Mid));
            p.drawText(QRectF(cell.left(), cell.bottom(), side + 40, fm.height()), tr("base"));
        } else {
            const int k = i - 1, r = k / l.gridCols, c = k % l.gridCols;
            if (!pixels.isNull()) {
                const double s = double(pixels.width()) / l.canvasWidth;
                const QRectF src(c * 336 * s, r * 336 * s, 336 * s, 336 * s);
                p.drawImage(cell, pixels, src);
            } else {
                p.fillRect(cell, palette().color(QPalette::Mid));
            }
            p.drawText(QRectF(cell.left(), cell.bottom(), side, fm.height()), QString::number(i));
        }
        p.setPen(QPen(i == 0 ? QColor(170, 110, 200) : kTileColor, m_hoverCrop == i ? 4 : 1));
        p.drawRect(cell);
        p.setPen(palette().color(QPalette::Text));
    }
}

void InspectorWidget::paintStrip(QPainter& p, const QRectF& area, const llava::ImageLayout& l) {
    const QFontMetricsF fm(font());
    const auto segments = tokenStrip(m_textBefore, l, m_textAfter, m_textEstimated);
    int total = 0;
    for (const auto& s : segments) total += s.count;
    const double barTop = area.top() + fm.height();
    const double barH = fm.height() * 1.4;
    p.setPen(palette().color(QPalette::Text));
    const QString tilde = m_textEstimated ? QStringLiteral("≈") : QString();
    QString layoutText = tr("Prompt layout: %1%2 + %3 + %4%5 = %6 tokens")
                             .arg(tilde).arg(m_textBefore).arg(l.imageTokens).arg(tilde).arg(m_textAfter).arg(total);
    if (m_hoverCrop >= 0) {
        int count = 0;
        for (const TokenRun& run : highlightedTokens()) count += run.count;
        layoutText = m_hoverCrop == 0 ? tr("Base thumbnail: %1 tokens from position %2").arg(count).arg(m_textBefore)
                                      : tr("Tile %1: %2 tokens (one run per kept row)").arg(m_hoverCrop).arg(count);
    }
    drawLine(p, QRectF(area.left(), area.top(), area.width(), fm.height()), layoutText);
    double x = area.left();
    for (const auto& s : segments) {
        // Each segment gets a minimum width so small text runs stay visible.
        const double w = std::max(s.count > 0 ? 28.0 : 0.0, area.width() * s.count / std::max(1, total) * 0.85);
        if (w <= 0) continue;
        const QRectF r(x, barTop, std::min(w, area.right() - x), barH);
        m_stripHits << StripHit{r, s, &l == &*m_orig ? llava::Reference::Original : llava::Reference::Transformers};
        p.fillRect(r, segmentColor(s.kind));
        p.setPen(Qt::white);
        p.drawText(r.adjusted(2, 0, -2, 0), Qt::AlignVCenter | Qt::AlignLeft,
                   fm.elidedText(QString::number(s.count), Qt::ElideRight, r.width() - 4));
        p.setPen(palette().color(QPalette::Text));
        x += w;
    }
    paintStripHighlight(p, l);
    double y = barTop + barH + fm.ascent() + 2;
    QStringList legend;
    for (const auto& s : segments)
        legend << QStringLiteral("%1%2 @%3").arg(s.estimated ? tilde : QString(), s.label).arg(s.begin);
    p.drawText(QRectF(area.left(), y - fm.ascent(), area.width(), fm.height() * 2), Qt::TextWordWrap,
               legend.join(QStringLiteral("  ·  ")));
    y += fm.height() * 2;
    const QRectF contextLine(area.left(), y - fm.ascent(), area.width(), fm.height());
    if (m_contextLimit > 0 && m_contextUsed == 0) {
        drawLine(p, contextLine, tr("Context: this first message uses %1 of %2 (%3%)")
                                     .arg(total).arg(m_contextLimit).arg(100.0 * total / m_contextLimit, 0, 'f', 1));
    } else if (m_contextLimit > 0) {
        // The layout above is the image as a first message; the chat so far already holds its tokens.
        drawLine(p, contextLine, tr("Context: %1 of %2 used by this chat (%3%)")
                                     .arg(m_contextUsed).arg(m_contextLimit)
                                     .arg(100.0 * m_contextUsed / m_contextLimit, 0, 'f', 1));
    }
    paintLabelLane(p, QRectF(area.left(), y + fm.height() * 0.4, area.width(), fm.height() * 3.2));
}

// ---- tile <-> strip hover -------------------------------------------------------------------------------

QList<TokenRun> InspectorWidget::highlightedTokens() const {
    const auto l = layout(m_preferred);
    if (!l || m_hoverCrop < 0) return {};
    return cropTokenRuns(*l, m_hoverCrop, m_config.vision.patchesPerSide());
}

// The strip draws the grid cells as one block (newlines apart), so a run's cells sit at their grid index.
void InspectorWidget::paintStripHighlight(QPainter& p, const llava::ImageLayout& l) {
    if (m_hoverCrop < 0) return;
    const int gridCells = l.unpaddedRows * l.unpaddedCols;
    for (const StripHit& hit : std::as_const(m_stripHits)) {
        if (&l != &*(hit.reference == llava::Reference::Original ? m_orig : m_hf)) continue;
        if (hit.segment.kind == TokenStripSegment::Kind::Base && m_hoverCrop == 0)
            p.fillRect(hit.rect, QColor(255, 255, 255, 140));
        if (hit.segment.kind != TokenStripSegment::Kind::Grid || m_hoverCrop == 0 || gridCells == 0) continue;
        for (const TokenRun& run : cropTokenRuns(l, m_hoverCrop, m_config.vision.patchesPerSide())) {
            const int k = run.begin - l.baseTokens, row = k / (l.unpaddedCols + 1), index = row * l.unpaddedCols + k % (l.unpaddedCols + 1);
            const double x = hit.rect.left() + hit.rect.width() * index / gridCells;
            p.fillRect(QRectF(x, hit.rect.top(), std::max(1.0, hit.rect.width() * run.count / gridCells), hit.rect.height()),
                       QColor(255, 255, 255, 170));
        }
    }
}

int InspectorWidget::cropAt(QPointF pos) const {
    for (const CropHit& hit : m_cropHits)
        if (hit.rect.contains(pos)) return hit.crop;
    for (const StripHit& hit : m_stripHits) {
        if (!hit.rect.contains(pos) || hit.segment.count == 0) continue;
        const auto l = layout(hit.reference);
        const double t = (pos.x() - hit.rect.left()) / hit.rect.width();
        const int offset = std::clamp(int(t * hit.segment.count), 0, hit.segment.count - 1);
        if (hit.segment.kind == TokenStripSegment::Kind::Base) return 0;
        if (hit.segment.kind != TokenStripSegment::Kind::Grid || !l || l->unpaddedCols == 0) return -1;
        // Grid index -> position in the merged sequence (each kept row is followed by its newline).
        const int row = offset / l->unpaddedCols, col = offset % l->unpaddedCols;
        return cropOfToken(*l, l->baseTokens + row * (l->unpaddedCols + 1) + col, m_config.vision.patchesPerSide());
    }
    return -1;
}

void InspectorWidget::hoverAt(QPointF pos) {
    const int crop = cropAt(pos);
    if (crop == m_hoverCrop) return;
    m_hoverCrop = crop;
    update();
}

void InspectorWidget::drawLine(QPainter& p, const QRectF& rect, const QString& text, int flags) const {
    const QFontMetricsF fm(font());
    const QString shown = fm.elidedText(text, Qt::ElideRight, rect.width());
    p.drawText(rect, flags, shown);
    if (shown != text) m_textTips << TextTip{rect, text};
}

QStringList InspectorWidget::shortenedLines() const {
    QStringList lines;
    for (const TextTip& tip : m_textTips) lines << tip.text;
    return lines;
}

bool InspectorWidget::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        for (const TextTip& tip : m_textTips)
            if (tip.rect.contains(help->pos())) {
                QToolTip::showText(help->globalPos(), tip.text, this);
                return true;
            }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QWidget::event(event);
}

void InspectorWidget::mouseMoveEvent(QMouseEvent* event) {
    hoverAt(event->position());
    QWidget::mouseMoveEvent(event);
}

void InspectorWidget::leaveEvent(QEvent* event) {
    hoverAt(QPointF(-1, -1));
    QWidget::leaveEvent(event);
}

std::optional<QPointF> InspectorWidget::cropCentre(int crop) const {
    for (const CropHit& hit : m_cropHits)
        if (hit.crop == crop) return hit.rect.center();  // the canvas tile comes first
    return std::nullopt;
}

std::optional<QPointF> InspectorWidget::stripPoint(int imagePosition) const {
    const auto l = layout(m_preferred);
    if (!l) return std::nullopt;
    for (const StripHit& hit : m_stripHits) {
        if (hit.reference != m_preferred) continue;
        if (hit.segment.kind == TokenStripSegment::Kind::Base && imagePosition < l->baseTokens)
            return QPointF(hit.rect.left() + hit.rect.width() * (imagePosition + 0.5) / l->baseTokens, hit.rect.center().y());
        if (hit.segment.kind == TokenStripSegment::Kind::Grid && imagePosition >= l->baseTokens && hit.segment.count > 0) {
            const int k = imagePosition - l->baseTokens, row = k / (l->unpaddedCols + 1);
            const int index = row * l->unpaddedCols + k % (l->unpaddedCols + 1);
            return QPointF(hit.rect.left() + hit.rect.width() * (index + 0.5) / hit.segment.count, hit.rect.center().y());
        }
    }
    return std::nullopt;
}

// Learned (green) and masked (grey) runs over the training sequence, to scale; the counts in the title.
void InspectorWidget::paintLabelLane(QPainter& p, const QRectF& area) {
    const QFontMetricsF fm(font());
    p.setPen(palette().color(QPalette::Text));
    QString title;
    if (m_lane.isEmpty()) {
        title = tr("Training labels: %1").arg(m_lane.problem);
    } else {
        title = tr("Training labels (%1): learned %2 · masked −100 %3").arg(m_lane.preprocess).arg(m_lane.learned).arg(m_lane.masked);
        if (m_lane.mismatch) title += tr(" · tokenization mismatch: the original code masks everything");
    }
    // Wrapped, never elided: two lines fit in narrow side-by-side panels.
    QRectF textRect;
    p.drawText(QRectF(area.left(), area.top(), area.width(), fm.height() * 2.2), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               title, &textRect);
    if (m_lane.isEmpty()) return;
    const QRectF bar(area.left(), textRect.bottom() + 2, area.width(), fm.height() * 0.8);
    const double total = m_lane.learned + m_lane.masked;
    for (const LabelRun& run : m_lane.runs) {
        const QRectF r(bar.left() + bar.width() * run.begin / total, bar.top(), std::max(1.0, bar.width() * run.count / total), bar.height());
        p.fillRect(r, run.learned ? QColor(60, 180, 110) : QColor(150, 150, 150));
    }
}
