// The image viewer's drawing surface: the picture at any zoom (fit, 100 %, wheel and Ctrl +/− around the
// cursor), panned by dragging, with two optional overlays in the picture's own coordinates: the anyres
// layout (the chosen canvas, its 336-px tiles in crop order, the feature rows/cols unpadding removed) and
// an attention heatmap with adjustable opacity. The layout overlay is mapped from canvas pixels back into
// the picture through the resize and padding of llava::ImageLayout, so a tile edge sits on the pixels
// that tile's crop saw.
#pragma once

#include <QImage>
#include <QWidget>
#include <optional>

#include "llava/anyres.h"

class ImageCanvas : public QWidget {
    Q_OBJECT
public:
    explicit ImageCanvas(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    void setImageLayout(const std::optional<llava::ImageLayout>& layout, int tileSize = 336, int patchesPerSide = 24);
    void setLayoutVisible(bool visible);
    void setHeatmap(const QImage& heatmap);  // stretched over the picture; null: none
    void setHeatmapOpacity(double opacity);  // 0..1

    void fit();
    void actualSize();
    void zoomBy(double factor, QPointF anchor);  // anchor in widget coordinates stays put
    double scale() const { return m_scale; }
    bool fitted() const { return m_fit; }
    QPointF imageToWidget(QPointF imagePoint) const;
    // A canvas-pixel rectangle (inspectorGeometry) mapped into picture pixels.
    QRectF canvasToImage(const QRectF& canvasRect) const;
    bool layoutVisible() const { return m_showLayout; }
    double heatmapOpacity() const { return m_opacity; }

signals:
    void scaleChanged(double scale);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void paintLayout(QPainter& p);
    QRectF fitBounds() const;
    void clampOffset();

    QImage m_image;
    QImage m_heatmap;
    std::optional<llava::ImageLayout> m_layout;
    int m_tileSize = 336, m_patchesPerSide = 24;
    bool m_showLayout = false;
    double m_opacity = 0.6;
    double m_scale = 1;
    QPointF m_offset;          // widget position of the picture's top-left corner
    bool m_fit = true;         // follow the widget size until the user zooms
    std::optional<QPointF> m_dragFrom;
};
