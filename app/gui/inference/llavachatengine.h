// The real ChatEngine: an adapter over llava::Engine / ChatSession (core). Loads a model folder (or
// writes the built-in random-weights demo model first), reports the backend actually used with the
// reason Auto fell back to CPU, the memory it holds, and streams replies. The CUDA backend is in the
// registry when the app is built with the kernels library (LLAVA_APP_HAVE_CUDA).
// Answers on the CPU backend carry this machine's ceilings (GenerationStats::ceilings: copy bandwidth and
// GEMM peak with the loaded thread count), measured on this thread at the first such answer and cached in
// the user's cache folder (QStandardPaths::CacheLocation/machine-ceilings.json) across runs.
// Inference thread only, like every ChatEngine.
#pragma once

#include <QHash>

#include "chatengine.h"

class LlavaChatEngine : public ChatEngine {
public:
    LlavaChatEngine();
    ~LlavaChatEngine() override;

    llava::Result<ModelInfo> load(const LoadRequest& request, const Progress& progress) override;
    bool isLoaded() const override { return m_engine != nullptr; }
    llava::Result<llava::GenerationStats> reply(const GenerationRequest& request, const llava::TokenCallback& onToken,
                                                const llava::CancelPredicate& cancel) override;
    llava::Result<llava::ContextPlan> plan(const GenerationRequest& request) override;
    void clear() override;
    llava::Result<ExplainResult> explain(const ExplainRequest& request, const llava::CancelPredicate& cancel) override;
    int contextUsed() const override;
    int contextLimit() const override;
    bool runOnLocalEngine(const std::function<void(llava::Engine&)>& job) override;

private:
    llava::Result<ModelInfo> loadEngine(const LoadRequest& request, const Progress& progress);
    // Makes the session hold exactly request.history (restoring it when another chat or version is
    // there) with the chat's system prompt.
    llava::Status syncSession(const GenerationRequest& request);
    // The draft's images for plan(): decoded once per path while they stay attached.
    llava::Status draftImages(const QStringList& paths, std::vector<llava::RgbImage>* out);
    // The machine ceilings for the loaded CPU engine's thread count (measured or read once per count);
    // none for other backends or when measuring failed.
    std::optional<llava::MachineCeilings> ceilings();

    llava::BackendRegistry m_registry;
    std::unique_ptr<llava::Engine> m_engine;
    std::optional<LoadRequest> m_loaded;  // what m_engine was loaded from
    // Fingerprint of the conversation id + messages the session holds (continue vs restore).
    QByteArray m_sessionFingerprint;
    QHash<QString, llava::RgbImage> m_draftImages;  // path -> pixels of the images plan() last saw
    // Thread count -> ceilings (nullopt: tried and failed; not tried again for that count).
    QHash<int, std::optional<llava::MachineCeilings>> m_ceilings;
};

// Where the GUI caches the machine ceilings: <QStandardPaths::CacheLocation>/machine-ceilings.json.
QString machineCeilingsCacheFile();

// Writes the demo model into dir unless a complete one is already there; progress as for load.
llava::Status ensureDemoModel(const QString& dir, const ChatEngine::Progress& progress);

// Whether this build registers a CUDA backend (the memory plan then cannot know the free memory of the
// device Auto may pick: the backend checks it at load).
bool cudaBackendBuilt();
