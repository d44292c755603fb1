// Opens the image viewer for a chat picture (a double-clicked thumbnail, or a clicked answer word) and
// connects it to the inference thread for attention maps: the picture's anyres layout comes from the
// loaded model's config, the question it was sent with becomes the ExplainContext, and explain results
// go to the viewer (only the latest request's: InferenceController drops superseded ones).
// GUI thread only. One viewer window, reused.
#pragma once

#include <QObject>
#include <QPointer>
#include <functional>
#include <optional>

#include "imageviewer.h"

class ConversationStore;
class InferenceController;
class ImageViewer;
class QWidget;

class ViewerController : public QObject {
    Q_OBJECT
public:
    using ModelProvider = std::function<std::optional<ModelInfo>()>;
    using ConversationProvider = std::function<QString()>;  // the chat shown now
    ViewerController(ConversationStore* store, InferenceController* inference, ModelProvider model,
                     ConversationProvider conversation, QWidget* window);

    void openImage(const QString& path);
    // A word of answer `row` was clicked: open its question's picture and explain that token.
    void explainAnswerToken(int row, int token);
    ImageViewer* viewer() const { return m_viewer; }

signals:
    void showInInspectorRequested(const QString& path);

private:
    ImageViewer* ensureViewer();
    std::optional<ExplainContext> contextFor(const QString& path) const;

    ConversationStore* m_store;
    InferenceController* m_inference;
    ModelProvider m_model;
    ConversationProvider m_conversation;
    QWidget* m_window;
    QPointer<ImageViewer> m_viewer;
};
