// See imagecanvas.h.
#include "imagecanvas.h"

#include <QKeyEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>

#include "inspector/inspectorgeometry.h"

namespace {
constexpr double kMinScale = 0.02, kMaxScale = 32;
constexpr double kWheelStep = 1.25;  // one notch
}  // namespace

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(200, 150);
    setCursor(Qt::OpenHandCursor);
}

void ImageCanvas::setImage(const QImage& image) {
    m_image = image;
    m_heatmap = QImage();
    fit();
}

void ImageCanvas::setImageLayout(const std::optional<llava::ImageLayout>& layout, int tileSize, int patchesPerSide) {
    m_layout = layout;
    m_tileSize = tileSize;
    m_patchesPerSide = patchesPerSide;
    update();
}

void ImageCanvas::setLayoutVisible(bool visible) {
    m_showLayout = visible;
    if (m_fit) fit();  // the canvas may reach past the picture: fit it all
    update();
}

// What "fit" shows: the picture, and with the overlay on the whole anyres canvas (it reaches into the padding).
QRectF ImageCanvas::fitBounds() const {
    QRectF bounds(0, 0, m_image.width(), m_image.height());
    if (m_showLayout && m_layout) bounds |= canvasToImage(QRectF(0, 0, m_layout->canvasWidth, m_layout->canvasHeight));
    return bounds;
}

void ImageCanvas::setHeatmap(const QImage& heatmap) {
    m_heatmap = heatmap;
    update();
}

void ImageCanvas::setHeatmapOpacity(double opacity) {
    m_opacity = std::clamp(opacity, 0.0, 1.0);
    update();
}

void ImageCanvas::fit() {
    m_fit = true;
    if (m_image.isNull() || width() <= 0) return;
    const QRectF b = fitBounds();
    m_scale = std::min(width() / b.width(), height() / b.height()) * 0.96;  // a small margin around it
    m_offset = QPointF(width() / 2.0, height() / 2.0) - b.center() * m_scale;
    update();
    emit scaleChanged(m_scale);
}

void ImageCanvas::actualSize() { zoomBy(1.0 / m_scale, QPointF(width() / 2.0, height() / 2.0)); }

void ImageCanvas::zoomBy(double factor, QPointF anchor) {
    const double next = std::clamp(m_scale * factor, kMinScale, kMaxScale);
    const QPointF imagePoint = (anchor - m_offset) / m_scale;  // stays under the anchor
    m_scale = next;
    m_offset = anchor - imagePoint * m_scale;
    m_fit = false;
    clampOffset();
    update();
    emit scaleChanged(m_scale);
}

// Keep at least a quarter of the picture on screen, so it cannot be panned out of reach.
void ImageCanvas::clampOffset() {
    const double w = m_image.width() * m_scale, h = m_image.height() * m_scale;
    m_offset.setX(std::clamp(m_offset.x(), -w * 0.75, width() - w * 0.25));
    m_offset.setY(std::clamp(m_offset.y(), -h * 0.75, height() - h * 0.25));
}

QPointF ImageCanvas::imageToWidget(QPointF imagePoint) const { return m_offset + imagePoint * m_scale; }

QRectF ImageCanvas::canvasToImage(const QRectF& r) const {
    const llava::ImageLayout& l = *m_layout;
    const double sx = double(l.imageWidth) / l.resizedWidth, sy = double(l.imageHeight) / l.resizedHeight;
    return QRectF((r.x() - l.padLeft) * sx, (r.y() - l.padTop) * sy, r.width() * sx, r.height() * sy);
}

void ImageCanvas::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (m_fit) fit();
}

void ImageCanvas::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Dark));
    if (m_image.isNull()) return;
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_scale < 2);  // crisp pixels when magnified
    const QRectF target(m_offset, QSizeF(m_image.width() * m_scale, m_image.height() * m_scale));
    p.drawImage(target, m_image);
    if (!m_heatmap.isNull() && m_opacity > 0) {
        p.setOpacity(m_opacity);
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // cells stay cells
        p.drawImage(target, m_heatmap);
        p.setOpacity(1);
    }
    if (m_showLayout && m_layout) paintLayout(p);
}

void ImageCanvas::paintLayout(QPainter& p) {
    const InspectorGeometry g = inspectorGeometry(*m_layout, m_tileSize, m_patchesPerSide);
    auto map = [&](const QRect& canvasRect) {
        const QRectF r = canvasToImage(canvasRect);
        return QRectF(imageToWidget(r.topLeft()), imageToWidget(r.bottomRight()));
    };
    p.setRenderHint(QPainter::Antialiasing);
    for (const QRect& band : g.removed) p.fillRect(map(band), QColor(235, 64, 52, 90));
    p.setPen(QPen(QColor(255, 255, 255, 160), 1, Qt::DotLine));
    p.drawRect(map(g.canvas));  // the canvas reaches into the letterbox padding
    QFont f = font();
    f.setPointSizeF(std::clamp(m_tileSize * m_scale / 12, 8.0, 28.0));
    p.setFont(f);
    for (int k = 0; k < g.tiles.size(); ++k) {
        p.setPen(QPen(QColor(255, 196, 0), 2));
        p.drawRect(map(g.tiles[k]));
        p.drawText(map(g.tiles[k]).adjusted(6, 2, 0, 0), Qt::AlignLeft | Qt::AlignTop, QString::number(k + 1));
    }
    p.setPen(QPen(QColor(60, 220, 120), 2, Qt::DashLine));
    p.drawRect(map(g.kept).adjusted(1, 1, -1, -1));
}

void ImageCanvas::wheelEvent(QWheelEvent* event) {
    const double notches = event->angleDelta().y() / 120.0;
    if (notches != 0) zoomBy(std::pow(kWheelStep, notches), event->position());
    event->accept();
}

void ImageCanvas::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_dragFrom = event->position();
    setCursor(Qt::ClosedHandCursor);
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* event) {
    if (!m_dragFrom) return;
    m_offset += event->position() - *m_dragFrom;
    m_dragFrom = event->position();
    m_fit = false;
    clampOffset();
    update();
}

void ImageCanvas::mouseReleaseEvent(QMouseEvent*) {
    m_dragFrom.reset();
    setCursor(Qt::OpenHandCursor);
}

void ImageCanvas::keyPressEvent(QKeyEvent* event) {
    const QPointF centre(width() / 2.0, height() / 2.0);
    if (event->matches(QKeySequence::ZoomIn) || event->key() == Qt::Key_Plus) zoomBy(kWheelStep, centre);
    else if (event->matches(QKeySequence::ZoomOut) || event->key() == Qt::Key_Minus) zoomBy(1 / kWheelStep, centre);
    else QWidget::keyPressEvent(event);
}
