// See viewercontroller.h.
#include "viewercontroller.h"

#include <QImageReader>

#include "chat/conversationstore.h"
#include "imageviewer.h"
#include "inference/inferencecontroller.h"

namespace {
constexpr int kUnknownAnswerTokens = 64;  // re-run length when the chat kept no per-token data
}

ViewerController::ViewerController(ConversationStore* store, InferenceController* inference, ModelProvider model,
                                   ConversationProvider conversation, QWidget* window)
    : QObject(window), m_store(store), m_inference(inference), m_model(std::move(model)),
      m_conversation(std::move(conversation)), m_window(window) {
    connect(inference, &InferenceController::explainFinished, this, [this](const ExplainResult& r) {
        if (m_viewer) m_viewer->setExplainResult(r);
    });
    connect(inference, &InferenceController::explainFailed, this, [this](quint64, const QString& message) {
        if (m_viewer) m_viewer->setExplainFailed(message);
    });
}

ImageViewer* ViewerController::ensureViewer() {
    if (m_viewer) return m_viewer;
    m_viewer = new ImageViewer(m_window);
    connect(m_viewer, &ImageViewer::explainRequested, m_inference, &InferenceController::explain);
    connect(m_viewer, &ImageViewer::explainCancelled, m_inference, &InferenceController::cancelExplain);
    connect(m_viewer, &ImageViewer::showInInspectorRequested, this, &ViewerController::showInInspectorRequested);
    return m_viewer;
}

// The question `path` was sent with, when it was the message's only picture and a local model answered it.
std::optional<ExplainContext> ViewerController::contextFor(const QString& path) const {
    const Conversation* c = m_store->find(m_conversation());
    const std::optional<ModelInfo> model = m_model();
    if (!c || !model || model->backend.isEmpty()) return std::nullopt;
    for (qsizetype i = 0; i + 1 < c->messages.size(); ++i) {
        const ChatMessage& m = c->messages[i];
        if (m.role != MessageRole::User || m.images != QStringList{path}) continue;
        const ChatMessage& answer = c->messages[i + 1];
        if (answer.role != MessageRole::Assistant) return std::nullopt;
        ExplainContext context;
        context.prompt = m.text;
        context.systemPrompt = c->systemPrompt;
        context.sampling.temperature = 0;  // greedy: the chat's answer when it was answered greedily
        context.answerTokens = answer.tokens.isEmpty() ? kUnknownAnswerTokens : int(answer.tokens.size());
        context.sampling.maxNewTokens = context.answerTokens;
        context.layers = model->config.text.nLayers;
        return context;
    }
    return std::nullopt;
}

void ViewerController::openImage(const QString& path) {
    ImageViewer* viewer = ensureViewer();
    std::optional<llava::ImageLayout> layout;
    const std::optional<ModelInfo> model = m_model();
    const QSize size = QImageReader(path).size();
    int tileSize = 336, patches = 24;
    if (model && size.isValid()) {
        auto l = llava::computeImageLayout(size.width(), size.height(), model->config, model->reference);
        if (l.isOk()) layout = *l;
        tileSize = model->config.vision.imageSize;
        patches = model->config.vision.patchesPerSide();
    }
    viewer->showImage(path, layout, tileSize, patches);
    viewer->setExplainContext(contextFor(path));
    viewer->show();
    viewer->raise();
}

void ViewerController::explainAnswerToken(int row, int token) {
    const Conversation* c = m_store->find(m_conversation());
    if (!c || row < 1 || row >= c->messages.size()) return;
    const ChatMessage& question = c->messages[row - 1];
    if (question.role != MessageRole::User || question.images.size() != 1) return;
    openImage(question.images.front());
    if (m_viewer->attentionSummary() && contextFor(question.images.front())) m_viewer->selectTokens(token, token);
}
