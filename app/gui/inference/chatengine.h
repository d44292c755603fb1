// The seam between the inference worker and a model: a small abstract interface the worker drives on
// the inference thread, with value types that can cross threads. Implementations: FakeChatEngine
// (tests only, scripted tokens) and LlavaChatEngine (adapter over llava::Engine, the app). Every method is called
// from the inference thread only; nothing here touches Qt widgets or item models.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "llava/backend.h"
#include "llava/engine.h"
#include "llava/image.h"
#include "llava/modelconfig.h"
#include "llava/sampler.h"
#include "llava/status.h"
#include "llava/types.h"

// What to load and how (the Settings dialog fills it).
struct LoadRequest {
    QString modelDir;
    llava::BackendKind backend = llava::BackendKind::Auto;
    int threads = 0;
    llava::WeightPrecision precision = llava::WeightPrecision::AsStored;
    int contextLength = 4096;
    std::optional<llava::Reference> reference;
    bool randomWeights = false;  // the built-in demo model: answers are meaningless
};

// What the status bar shows after a load.
struct ModelInfo {
    QString name;
    QString modelDir;
    QString backend;         // "cpu" / "cuda"
    QString device;
    QString fallbackReason;  // why Auto did not pick CUDA
    quint64 weightBytes = 0;
    quint64 kvCacheBytes = 0;
    quint64 scratchBytes = 0;
    int contextLimit = 0;
    bool randomWeights = false;
    llava::Reference reference = llava::Reference::Original;
    QString precision;       // "as-stored" / "f16" / "f32" / "q8" / "q4"
    llava::ModelConfig config;  // drives the inspector (canvas candidates, tile size, template)
};

// One completed exchange of the conversation a request continues.
struct HistoryTurn {
    QString user;
    int imageCount = 0;
    QString assistant;
    // The files of the message's images (copies in the chat store). Read only when the conversation is
    // restored into a fresh session, on the inference thread: continuing a cached session never decodes
    // them again. Only the first message of a chat has images.
    QStringList imagePaths;
};

// One user message to answer. Images are already decoded (GUI side) and moved in.
struct GenerationRequest {
    quint64 id = 0;                  // assigned by the controller, increasing
    QString conversationId;
    std::vector<HistoryTurn> history;   // earlier turns of the conversation, oldest first
    QString text;
    std::vector<llava::RgbImage> images;
    QString systemPrompt;            // the chat's; empty = the template's own
    llava::SamplingParams sampling;
};

class ChatEngine {
public:
    // bytesDone/bytesTotal/stage; return false to cancel the load.
    using Progress = std::function<bool(quint64 done, quint64 total, const QString& stage)>;

    virtual ~ChatEngine() = default;
    virtual llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) = 0;
    virtual bool isLoaded() const = 0;
    // Continues request.conversationId when the engine's session holds exactly request.history;
    // otherwise restores the history into a fresh session first (ChatSession::restore: the same tokens
    // the live chat had, images of the first message included). Cancellation with a partial answer is
    // reported through stats.stopReason == Cancelled.
    virtual llava::Result<llava::GenerationStats> reply(const GenerationRequest& request,
                                                        const llava::TokenCallback& onToken,
                                                        const llava::CancelPredicate& cancel) = 0;
    virtual void clear() = 0;
    virtual int contextUsed() const = 0;
    virtual int contextLimit() const = 0;
};

using ChatEngineFactory = std::function<std::unique_ptr<ChatEngine>()>;

Q_DECLARE_METATYPE(LoadRequest)
Q_DECLARE_METATYPE(ModelInfo)
Q_DECLARE_METATYPE(GenerationRequest)
Q_DECLARE_METATYPE(llava::GenerationStats)
