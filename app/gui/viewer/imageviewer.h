// The image viewer window (issue 9 "look at images properly", issue 12 "where the answer looked"): the
// picture with fit / 100 % / wheel and Ctrl +/− zoom and drag panning (ImageCanvas), a toggle for the
// anyres overlay (canvas, tiles, unpadded region) of the loaded model's geometry, "Show in inspector",
// and — when the picture belongs to a question that was answered — the attention heatmap of chosen
// answer tokens over the picture with an opacity slider, a colour scale with values and the mass split
// (base / tiles / newlines / prompt text / earlier answer). The heatmap is computed by the inference
// thread (ExplainRequest); a newer request replaces the running one.
#pragma once

#include <QDialog>
#include <optional>

#include "inference/chatengine.h"

class ImageCanvas;
class QCheckBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QGroupBox;

// What the viewer needs to ask for attention: the question the picture was sent with.
struct ExplainContext {
    QString prompt;
    QString systemPrompt;
    llava::SamplingParams sampling;
    int answerTokens = 0;  // tokens of the chat's answer (the spin boxes' range); 0: unknown
    int layers = 1;        // the language model's layers
};

class ImageViewer : public QDialog {
    Q_OBJECT
public:
    explicit ImageViewer(QWidget* parent = nullptr);

    // layout: the model's anyres layout for this picture (nullopt: no overlay).
    void showImage(const QString& path, const std::optional<llava::ImageLayout>& layout, int tileSize, int patchesPerSide);
    void setExplainContext(const std::optional<ExplainContext>& context);
    void selectTokens(int first, int last);  // fills the spin boxes and asks at once
    void requestExplain();
    void setExplainResult(const ExplainResult& result);
    void setExplainFailed(const QString& message);

    ImageCanvas* canvas() const { return m_canvas; }
    const QString& path() const { return m_path; }
    QSlider* opacitySlider() const { return m_opacity; }
    QCheckBox* layoutToggle() const { return m_layoutToggle; }
    QLabel* attentionSummary() const { return m_summary; }
    const std::optional<ExplainResult>& explanation() const { return m_result; }
    bool explaining() const { return m_explaining; }

signals:
    void showInInspectorRequested(const QString& path);
    void explainRequested(const ExplainRequest& request);
    void explainCancelled();

protected:
    void changeEvent(QEvent* event) override;

private:
    QWidget* buildToolbar();
    QGroupBox* buildAttention();
    void retranslate();
    void updateZoomLabel();
    void updateSummary();

    ImageCanvas* m_canvas;
    QString m_path;
    QPushButton *m_fit, *m_actual, *m_inspector, *m_show, *m_cancel;
    QCheckBox* m_layoutToggle;
    QLabel *m_zoom, *m_summary, *m_scale, *m_opacityLabel, *m_tokensLabel, *m_layersLabel, *m_scaleValues;
    QGroupBox* m_attention;
    QSpinBox *m_firstToken, *m_lastToken, *m_firstLayer, *m_lastLayer;
    QSlider* m_opacity;
    std::optional<ExplainContext> m_context;
    std::optional<ExplainResult> m_result;
    QString m_problem;
    bool m_explaining = false;
};
