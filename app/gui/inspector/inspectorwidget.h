// The inspector: a custom-painted view of how one image becomes tokens for the current model config.
// Draws the image on its chosen canvas with the letterbox padding, the 336-px tiles numbered in
// row-major crop order, the feature rows/cols removed by unpadding, the base thumbnail, the crops CLIP
// sees, and the token-layout strip text | base | grid + newlines | text with positions and context use.
// When ORIG and HF disagree (docs/spec.md §4.2 tie-break, §5.2 rounding) both panels are drawn side by side.
// Everything is computed from sizes first, so the grid shows before the pixels are decoded.
#pragma once

#include <QImage>
#include <QWidget>
#include <optional>

#include "inspectorgeometry.h"
#include "labellane.h"
#include "llava/anyres.h"
#include "llava/modelconfig.h"

class InspectorWidget : public QWidget {
    Q_OBJECT
public:
    explicit InspectorWidget(QWidget* parent = nullptr);

    void setModelConfig(const llava::ModelConfig& config);
    const llava::ModelConfig& modelConfig() const { return m_config; }
    llava::Reference preferredReference() const { return m_preferred; }
    // One line above the drawing naming where the geometry comes from ("model …", "preset …").
    void setSource(const QString& source);
    const QString& source() const { return m_source; }
    bool textEstimated() const { return m_textEstimated; }
    int textBefore() const { return m_textBefore; }
    int textAfter() const { return m_textAfter; }
    void setPreferredReference(llava::Reference reference);
    // Size from the file header; preview pixels may follow later via setPreview. An empty name and an
    // invalid size show no image.
    void setImage(const QString& name, QSize size);
    void setPreview(const QImage& preview);
    void setTextTokens(int before, int after, bool estimated);
    void setContext(int usedBefore, int limit);
    // The training-label lane under the strip (learned vs masked positions of the chat's exchanges).
    void setLabelLane(const LabelLane& lane);
    const LabelLane& labelLane() const { return m_lane; }

    // For tests and the status line: the layouts currently drawn (nullopt when none / invalid).
    std::optional<llava::ImageLayout> layout(llava::Reference reference) const;
    bool showsBothReferences() const;
    // The whole text of every line the last paint had to shorten (each is the tooltip over its line).
    QStringList shortenedLines() const;
    int totalPromptTokens() const;  // text + image tokens of the preferred reference

    // Tile <-> strip hover (issue 9): the crop under the mouse (0 base, k >= 1 tile k - 1, -1 none), whether
    // it was pointed at on the picture/crops or through its tokens in the strip; its token runs
    // (image-relative positions, inspectorgeometry.h) are highlighted in the strip.
    int hoveredCrop() const { return m_hoverCrop; }
    QList<TokenRun> highlightedTokens() const;
    void hoverAt(QPointF position);
    // Widget positions for tests and the screenshot tour: the centre of a crop's tile on the canvas
    // (crop 0: the base thumbnail), and the strip x of an image-relative token position.
    std::optional<QPointF> cropCentre(int crop) const;
    std::optional<QPointF> stripPoint(int imagePosition) const;

    QSize sizeHint() const override { return {520, 640}; }
    QSize minimumSizeHint() const override { return {280, 320}; }

signals:
    void layoutChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void changeEvent(QEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;  // tooltips: the full text of any line drawn shortened
    void leaveEvent(QEvent* event) override;

private:
    void recompute();
    void retranslate();
    void renderCaches();
    void paintPanel(QPainter& p, const QRectF& area, llava::Reference reference, const llava::ImageLayout& layout);
    void paintCanvas(QPainter& p, const QRectF& area, const llava::ImageLayout& layout, const QImage& canvasPixels);
    void paintCrops(QPainter& p, const QRectF& area, const llava::ImageLayout& layout, const QImage& canvasPixels);
    void paintStrip(QPainter& p, const QRectF& area, const llava::ImageLayout& layout);
    void paintStripHighlight(QPainter& p, const llava::ImageLayout& layout);
    void paintLabelLane(QPainter& p, const QRectF& area);
    int cropAt(QPointF position) const;

    struct CropHit {
        QRectF rect;
        int crop = 0;
    };
    struct StripHit {
        QRectF rect;
        TokenStripSegment segment;
        llava::Reference reference;
    };

    llava::ModelConfig m_config;
    bool m_haveConfig = false;
    llava::Reference m_preferred = llava::Reference::Original;
    QString m_name;
    QString m_source;
    QSize m_size;
    QImage m_preview;
    std::optional<llava::ImageLayout> m_orig, m_hf;
    QString m_error;
    QImage m_canvasOrig, m_canvasHf;  // preview rendered onto each canvas at reduced scale
    QImage m_base;                    // the squashed base crop
    int m_textBefore = 0, m_textAfter = 0;
    bool m_textEstimated = true;
    int m_contextUsed = 0, m_contextLimit = 0;
    int m_hoverCrop = -1;
    LabelLane m_lane;
    mutable QList<CropHit> m_cropHits;    // filled while painting
    mutable QList<StripHit> m_stripHits;
    // A line that did not fit and is drawn elided: where, and its whole text (shown as the tooltip).
    struct TextTip {
        QRectF rect;
        QString text;
    };
    mutable QList<TextTip> m_textTips;
    // Draws `text` on one line of `rect`, elided when it does not fit (then remembered for its tooltip).
    void drawLine(QPainter& p, const QRectF& rect, const QString& text, int flags = Qt::AlignLeft | Qt::AlignVCenter) const;
};
