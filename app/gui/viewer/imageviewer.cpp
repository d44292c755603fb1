// See imageviewer.h.
#include "imageviewer.h"

#include <QCheckBox>
#include <QEvent>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "attentionimage.h"
#include "imagecanvas.h"

namespace {
// The colour scale: the ramp from 0 to the heatmap's maximum, as a pixmap for a label.
QPixmap scalePixmap(int width, int height) {
    QImage ramp(width, height, QImage::Format_ARGB32);
    ramp.fill(Qt::transparent);
    QPainter p(&ramp);
    for (int x = 0; x < width; ++x) p.fillRect(QRect(x, 0, 1, height), heatColor(double(x) / std::max(1, width - 1)));
    return QPixmap::fromImage(ramp);
}

QString percent(double mass) { return QString::number(mass * 100, 'f', 1) + QStringLiteral(" %"); }
}  // namespace

ImageViewer::ImageViewer(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("imageViewer"));
    resize(900, 680);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildToolbar());
    m_canvas = new ImageCanvas(this);
    layout->addWidget(m_canvas, 1);
    layout->addWidget(buildAttention());
    connect(m_canvas, &ImageCanvas::scaleChanged, this, &ImageViewer::updateZoomLabel);
    retranslate();
}

QWidget* ImageViewer::buildToolbar() {
    auto* bar = new QWidget(this);
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    m_fit = new QPushButton(bar);
    m_actual = new QPushButton(bar);
    m_zoom = new QLabel(bar);
    m_layoutToggle = new QCheckBox(bar);
    m_inspector = new QPushButton(bar);
    for (QWidget* w : {static_cast<QWidget*>(m_fit), static_cast<QWidget*>(m_actual), static_cast<QWidget*>(m_zoom)}) row->addWidget(w);
    row->addWidget(m_layoutToggle);
    row->addStretch();
    row->addWidget(m_inspector);
    connect(m_fit, &QPushButton::clicked, this, [this] { m_canvas->fit(); });
    connect(m_actual, &QPushButton::clicked, this, [this] { m_canvas->actualSize(); });
    connect(m_layoutToggle, &QCheckBox::toggled, this, [this](bool on) { m_canvas->setLayoutVisible(on); });
    connect(m_inspector, &QPushButton::clicked, this, [this] { emit showInInspectorRequested(m_path); });
    return bar;
}

QGroupBox* ImageViewer::buildAttention() {
    m_attention = new QGroupBox(this);
    auto* grid = new QVBoxLayout(m_attention);
    auto* controls = new QHBoxLayout;
    m_tokensLabel = new QLabel(m_attention);
    m_firstToken = new QSpinBox(m_attention);
    m_lastToken = new QSpinBox(m_attention);
    m_layersLabel = new QLabel(m_attention);
    m_firstLayer = new QSpinBox(m_attention);
    m_lastLayer = new QSpinBox(m_attention);
    m_show = new QPushButton(m_attention);
    m_cancel = new QPushButton(m_attention);
    for (QWidget* w : std::initializer_list<QWidget*>{m_tokensLabel, m_firstToken, m_lastToken, m_layersLabel, m_firstLayer,
                                                      m_lastLayer, m_show, m_cancel})
        controls->addWidget(w);
    controls->addStretch();
    auto* look = new QHBoxLayout;
    m_opacityLabel = new QLabel(m_attention);
    m_opacity = new QSlider(Qt::Horizontal, m_attention);
    m_opacity->setRange(0, 100);
    m_opacity->setValue(60);
    m_scale = new QLabel(m_attention);
    look->addWidget(m_opacityLabel);
    look->addWidget(m_opacity, 1);
    m_scaleValues = new QLabel(m_attention);
    look->addWidget(m_scale);
    look->addWidget(m_scaleValues, 1);
    m_summary = new QLabel(m_attention);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    grid->addLayout(controls);
    grid->addLayout(look);
    grid->addWidget(m_summary);
    connect(m_show, &QPushButton::clicked, this, &ImageViewer::requestExplain);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_explaining = false;
        emit explainCancelled();
        updateSummary();
    });
    connect(m_opacity, &QSlider::valueChanged, this, [this](int v) { m_canvas->setHeatmapOpacity(v / 100.0); });
    return m_attention;
}

void ImageViewer::retranslate() {
    setWindowTitle(tr("Image — %1").arg(m_path.section(QLatin1Char('/'), -1)));
    m_fit->setText(tr("&Fit"));
    m_actual->setText(tr("&100 %"));
    m_layoutToggle->setText(tr("&Tiles and unpadding"));
    m_layoutToggle->setToolTip(tr("Overlay the anyres canvas, its 336-px tiles (numbered in crop order) and the rows/columns unpadding removes"));
    m_inspector->setText(tr("Show in &inspector"));
    m_attention->setTitle(tr("Where the answer looked"));
    m_tokensLabel->setText(tr("Answer tokens"));
    m_layersLabel->setText(tr("Layers"));
    m_show->setText(tr("&Show attention"));
    m_cancel->setText(tr("Cancel"));
    m_opacityLabel->setText(tr("Opacity"));
    updateZoomLabel();
    updateSummary();
}

void ImageViewer::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QDialog::changeEvent(event);
}

void ImageViewer::updateZoomLabel() { m_zoom->setText(tr("Zoom %1 %").arg(qRound(m_canvas->scale() * 100))); }

void ImageViewer::showImage(const QString& path, const std::optional<llava::ImageLayout>& layout, int tileSize, int patchesPerSide) {
    m_path = path;
    QImageReader reader(path);
    m_canvas->setImage(reader.read());
    m_canvas->setImageLayout(layout, tileSize, patchesPerSide);
    m_layoutToggle->setEnabled(layout.has_value());
    m_result.reset();
    m_problem.clear();
    m_explaining = false;
    retranslate();
}

void ImageViewer::setExplainContext(const std::optional<ExplainContext>& context) {
    m_context = context;
    const int tokens = context ? std::max(1, context->answerTokens) : 1;
    const int layers = context ? std::max(1, context->layers) : 1;
    for (QSpinBox* s : {m_firstToken, m_lastToken}) s->setRange(0, tokens - 1);
    for (QSpinBox* s : {m_firstLayer, m_lastLayer}) s->setRange(0, layers - 1);
    m_firstToken->setValue(0);
    m_lastToken->setValue(tokens - 1);
    m_firstLayer->setValue(0);
    m_lastLayer->setValue(layers - 1);
    m_attention->setEnabled(context.has_value());
    updateSummary();
}

void ImageViewer::selectTokens(int first, int last) {
    m_firstToken->setValue(first);
    m_lastToken->setValue(last);
    requestExplain();
}

void ImageViewer::requestExplain() {
    if (!m_context) return;
    ExplainRequest request;
    request.imagePath = m_path;
    request.prompt = m_context->prompt;
    request.systemPrompt = m_context->systemPrompt;
    request.sampling = m_context->sampling;
    request.firstToken = std::min(m_firstToken->value(), m_lastToken->value());
    request.lastToken = std::max(m_firstToken->value(), m_lastToken->value());
    request.firstLayer = std::min(m_firstLayer->value(), m_lastLayer->value());
    request.lastLayer = std::max(m_firstLayer->value(), m_lastLayer->value());
    m_explaining = true;
    m_problem.clear();
    updateSummary();
    emit explainRequested(request);
}

void ImageViewer::setExplainResult(const ExplainResult& result) {
    m_result = result;
    m_explaining = false;
    double top = 0;
    m_canvas->setHeatmap(attentionImage(result.heatmap, result.heatmapWidth, result.heatmapHeight, &top));
    m_scale->setPixmap(scalePixmap(160, 12));
    m_scaleValues->setText(tr("0 … %1 per cell").arg(top, 0, 'g', 3));
    updateSummary();
}

void ImageViewer::setExplainFailed(const QString& message) {
    m_explaining = false;
    m_problem = message;
    updateSummary();
}

void ImageViewer::updateSummary() {
    if (!m_context) {
        m_summary->setText(tr("Attention needs a picture sent with a question that was answered by a local model."));
    } else if (m_explaining) {
        m_summary->setText(tr("Answering again with attention capture…"));
    } else if (!m_problem.isEmpty()) {
        m_summary->setText(tr("No attention map: %1").arg(m_problem));
    } else if (m_result) {
        const ExplainResult& r = *m_result;
        const double image = r.map.baseMass + r.map.gridMass + r.map.newlineMass;
        m_summary->setText(tr("Tokens %1–%2 of %3 (layers %4–%5, mean over heads): picture %6 (base %7, tiles %8, "
                              "newlines %9), prompt text %10, earlier answer %11. Re-run answer: %12")
                               .arg(r.firstToken).arg(r.lastToken).arg(r.answerTokens)
                               .arg(m_firstLayer->value()).arg(m_lastLayer->value())
                               .arg(percent(image), percent(r.map.baseMass), percent(r.map.gridMass), percent(r.map.newlineMass),
                                    percent(r.massTextBefore + r.massTextAfter), percent(r.massAnswer), r.answerText.left(160)));
    } else {
        m_summary->setText(tr("Click a word of the answer in the chat, or choose tokens here and press Show attention."));
    }
    m_cancel->setVisible(m_explaining);
}
