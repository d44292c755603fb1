// The seam between the inference worker and a model: a small abstract interface the worker drives on
// the inference thread, with value types that can cross threads. Implementations: LlavaChatEngine (adapter
// over llava::Engine), RemoteChatEngine (an OpenAI-compatible server), SwitchingChatEngine (the app's: one
// of those two, switched at run time) and FakeChatEngine (tests/app/support, scripted tokens). Every method
// is called from the inference thread only; nothing here touches Qt widgets or item models.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "llava/backend.h"
#include "llava/attentionmap.h"
#include "llava/engine.h"
#include "llava/image.h"
#include "llava/modelconfig.h"
#include "llava/sampler.h"
#include "llava/status.h"
#include "llava/types.h"

#include "chat/chattypes.h"
#include "remoteendpoint.h"

// What to load and how (the Settings dialog fills it).
struct LoadRequest {
    QString modelDir;
    llava::BackendKind backend = llava::BackendKind::Auto;
    int threads = 0;
    llava::WeightPrecision precision = llava::WeightPrecision::AsStored;
    int contextLength = 4096;
    std::optional<llava::Reference> reference;
    // q8/q4: read/write the quantised-weight cache beside the model, else under weightCacheDir
    // (docs/weight-cache.md). Off unless asked (tests never write beside a model unasked).
    bool weightCache = false;
    QString weightCacheDir;
    bool randomWeights = false;  // the built-in demo model: answers are meaningless
    // Set: answer through this OpenAI-compatible server instead (modelDir and the local options unused).
    std::optional<RemoteEndpoint> remote;
    // Switch back to the local model already loaded (after a server answered), without reloading it.
    bool reuseLocal = false;
};

// What the status bar shows after a load.
struct ModelInfo {
    QString name;
    QString modelDir;
    QString backend;         // "cpu" / "cuda"
    QString device;
    QString fallbackReason;  // why Auto did not pick CUDA
    QString notice;          // what the backend changed from the request ("threads 8 clamped to 2", q4 kept as q8)
    QString selfCheckReport; // the CUDA self-check's full text when one ran (for a bug report)
    QString weightCache;     // q8/q4 with LoadRequest::weightCache: what the cache did (read, built, why not)
    bool cudaBuilt = false;  // a CUDA backend is in this build (so a fallback to the CPU is news)
    quint64 weightBytes = 0;
    quint64 kvCacheBytes = 0;
    quint64 scratchBytes = 0;
    int contextLimit = 0;
    bool randomWeights = false;
    llava::Reference reference = llava::Reference::Original;
    QString templateName;    // the chat template replies are rendered with ("mistral_instruct", ...)
    QString precision;       // "as-stored" / "f16" / "f32" / "q8" / "q4"
    llava::ModelConfig config;  // drives the inspector (canvas candidates, tile size, template)
};

// One user message to answer, with the conversation it continues. Everything is a value (file paths,
// not pixels): the engine decodes images on the inference thread.
struct GenerationRequest {
    quint64 id = 0;                  // assigned by the controller, increasing
    QString conversationId;
    QList<ChatMessage> history;      // the chat's earlier messages, oldest first, exactly as stored
    QString text;
    QStringList imagePaths;          // the new message's images (copies in the chat store)
    QString systemPrompt;            // the chat's; empty = the template's own
    llava::SamplingParams sampling;
};

// "Where did the answer look?" for one question about one image (llava::explainAnswer): the question is
// answered again with `sampling` and the chosen answer tokens' attention is averaged over heads and layers.
struct ExplainRequest {
    quint64 id = 0;                  // assigned by the controller; a newer request cancels an older one
    QString imagePath;
    QString prompt;
    QString systemPrompt;
    llava::SamplingParams sampling;
    int firstToken = 0, lastToken = -1;  // answer tokens, inclusive; -1: to the end
    int firstLayer = 0, lastLayer = -1;  // layers, inclusive; -1: the last
    int heatmapSide = 512;           // longest side of the rendered heatmap (values, not colours)
};

struct ExplainResult {
    quint64 id = 0;
    QString answerText;              // the re-run answer (equals the chat's for greedy decoding)
    int answerTokens = 0;
    int firstToken = 0, lastToken = 0;
    llava::ImageLayout layout;
    llava::ImageAttentionMap map;
    int heatmapWidth = 0, heatmapHeight = 0;
    std::vector<float> heatmap;      // (heatmapHeight, heatmapWidth) grid + base attention over the picture
    double massTextBefore = 0, massImage = 0, massTextAfter = 0, massAnswer = 0;
};

class ChatEngine {
public:
    // bytesDone/bytesTotal/stage; return false to cancel the load.
    using Progress = std::function<bool(quint64 done, quint64 total, const QString& stage)>;

    virtual ~ChatEngine() = default;
    virtual llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) = 0;
    virtual bool isLoaded() const = 0;
    // A failed load leaves the model that was loaded before loaded and usable (isLoaded() says).
    // Continues request.conversationId when the engine's session holds exactly request.history;
    // otherwise restores the history into a fresh session first (ChatSession::restore: the same tokens
    // the live chat had, with every message's images). A user message without an answer (the app was
    // killed while it was answered) stays a turn of its own with an empty answer, so no later message
    // pairs with the wrong reply. Cancellation with a partial answer is
    // reported through stats.stopReason == Cancelled.
    virtual llava::Result<llava::GenerationStats> reply(const GenerationRequest& request,
                                                        const llava::TokenCallback& onToken,
                                                        const llava::CancelPredicate& cancel) = 0;
    // The context the request's conversation plus its new message would take (llava::ContextPlan), without
    // answering: what the context meter shows before Send. Computed by the same path reply() checks with,
    // so the numbers are the ones reply() would refuse with. May restore request.history into the session
    // (as reply() would); errors as reply() gives them before it encodes anything.
    virtual llava::Result<llava::ContextPlan> plan(const GenerationRequest& request) = 0;
    virtual void clear() = 0;
    // Default: Unsupported (remote and scripted engines cannot capture attention).
    virtual llava::Result<ExplainResult> explain(const ExplainRequest& request, const llava::CancelPredicate& cancel);
    virtual int contextUsed() const = 0;
    virtual int contextLimit() const = 0;
    // The server's usage numbers of the last reply when a server answered it; nullopt for local answers.
    virtual std::optional<ServerUsage> lastServerUsage() const { return std::nullopt; }
    // Runs `job` on the loaded local llava::Engine (the GUI's "Serve this model": the API server's requests
    // run on this same engine and thread, no second copy of the weights). The job may use and clear the
    // engine's session; the next reply() restores its chat. False when no local model is loaded.
    virtual bool runOnLocalEngine(const std::function<void(llava::Engine&)>& job) {
        (void)job;
        return false;
    }
};

using ChatEngineFactory = std::function<std::unique_ptr<ChatEngine>()>;

Q_DECLARE_METATYPE(LoadRequest)
Q_DECLARE_METATYPE(ModelInfo)
Q_DECLARE_METATYPE(GenerationRequest)
Q_DECLARE_METATYPE(llava::GenerationStats)
Q_DECLARE_METATYPE(ExplainRequest)
Q_DECLARE_METATYPE(ExplainResult)
Q_DECLARE_METATYPE(llava::ContextPlan)
