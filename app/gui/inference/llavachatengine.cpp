// See llavachatengine.h.
#include "llavachatengine.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include "imagedecoder.h"
#include "llava/chattemplate.h"
#include "llava/checkpoint.h"
#include "llava/demomodel.h"
#include "llava/explain.h"
#include "llava/machineceilings.h"
#include "llava/tokenizer.h"

// LLAVA_APP_HAVE_CUDA is set by app/gui/CMakeLists.txt when the llava_kernels target exists.
#if defined(LLAVA_APP_HAVE_CUDA) && __has_include("llava_cuda/cuda_backend.h")
#include "llava_cuda/cuda_backend.h"
#define LLAVA_APP_REGISTER_CUDA 1
#endif

namespace {

std::filesystem::path toPath(const QString& dir) { return std::filesystem::path(QDir(dir).absolutePath().toStdString()); }

// Identifies a conversation's content, to tell whether the session holds exactly a request's history.
QByteArray fingerprint(const QString& conversationId, const QList<ChatMessage>& messages) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(conversationId.toUtf8());
    for (const ChatMessage& m : messages) {
        hash.addData(QByteArrayView("\x1e"));
        hash.addData(QByteArrayView(m.role == MessageRole::User ? "u" : "a"));
        hash.addData(m.text.toUtf8());
        for (const QString& image : m.images) {
            hash.addData(QByteArrayView("\x1f"));
            hash.addData(image.toUtf8());
        }
    }
    return hash.result();
}

// Decodes image files exactly as a new message's are decoded (decodeImageFile, no EXIF transpose), so
// restored image rows equal the live ones. A missing or unreadable file fails with its name: answering
// without the image would silently be about a different conversation.
llava::Status decodeImages(const QStringList& paths, std::vector<llava::RgbImage>* out) {
    for (const QString& path : paths) {
        auto image = imageio::decodeImageFile(path);
        if (!image.isOk())
            return llava::makeError(image.status().code(),
                                    "an image of this chat could not be read (" + path.toStdString() + "): " + image.status().message());
        out->push_back(std::move(*image));
    }
    return llava::Status::ok();
}

// The history as ChatSession::restore wants it: user messages paired with the answer that follows them.
// A user message with no answer after it (the app was killed while answering) is an exchange with an
// empty answer, explicitly: pairing by position would shift every later reply onto the wrong question.
llava::Result<std::vector<llava::ChatExchange>> toExchanges(const QList<ChatMessage>& history) {
    std::vector<llava::ChatExchange> exchanges;
    for (qsizetype i = 0; i < history.size(); ++i) {
        const ChatMessage& m = history[i];
        if (m.role != MessageRole::User) continue;  // an answer is taken with its question below
        llava::ChatExchange e;
        e.user = m.text.toStdString();
        LLAVA_TRY(decodeImages(m.images, &e.images));
        if (i + 1 < history.size() && history[i + 1].role == MessageRole::Assistant) e.assistant = history[++i].text.toStdString();
        exchanges.push_back(std::move(e));
    }
    return exchanges;
}

}  // namespace

LlavaChatEngine::LlavaChatEngine() {
#ifdef LLAVA_APP_REGISTER_CUDA
    llava::cuda::registerCudaBackend(m_registry);
#endif
}

LlavaChatEngine::~LlavaChatEngine() = default;

llava::Status ensureDemoModel(const QString& dir, const ChatEngine::Progress& progress) {
    const QDir d(dir);
    if (d.exists(QStringLiteral("config.json")) && d.exists(QStringLiteral("model.safetensors")) &&
        d.exists(QStringLiteral("tokenizer.model")))
        return llava::Status::ok();
    auto written = llava::writeDemoModel(toPath(dir), [&](int step, int steps, std::string_view stage) {
        return !progress || progress(quint64(step), quint64(steps),
                                     QStringLiteral("demo model: %1").arg(QString::fromUtf8(stage.data(), qsizetype(stage.size()))));
    });
    return written.isOk() ? llava::Status::ok() : written.status();
}

// Everything that can be checked without allocating: config, tokenizer, every shard mapped and every
// tensor's name, dtype and shape. A folder that fails here never unloads the working model.
llava::Status preflight(const QString& modelDir) {
    LLAVA_ASSIGN_OR_RETURN(auto checkpoint, llava::Checkpoint::open(toPath(modelDir)));
    (void)checkpoint;  // unmapped again at once: only the checks were wanted
    LLAVA_ASSIGN_OR_RETURN(llava::Tokenizer tokenizer, llava::Tokenizer::loadFile(toPath(modelDir) / "tokenizer.model"));
    return tokenizer.applyTokenizerConfig(toPath(modelDir));
}

bool cudaBackendBuilt() {
#ifdef LLAVA_APP_REGISTER_CUDA
    return true;
#else
    return false;
#endif
}

llava::Result<ModelInfo> LlavaChatEngine::load(const LoadRequest& request, const Progress& progress) {
    if (request.randomWeights) LLAVA_TRY(ensureDemoModel(request.modelDir, progress));
    LLAVA_TRY(preflight(request.modelDir));
    // Only now is the old model freed, before the new one is mapped: two models rarely fit. If the
    // load still fails (memory, a file changed meanwhile), the previous model is loaded again.
    const std::optional<LoadRequest> previous = m_engine ? m_loaded : std::nullopt;
    m_engine.reset();
    m_sessionFingerprint.clear();
    auto info = loadEngine(request, progress);
    if (info.isOk() || !previous) return info;
    auto again = loadEngine(*previous, {});
    if (!again.isOk()) m_engine.reset();
    return info.status();
}

llava::Result<ModelInfo> LlavaChatEngine::loadEngine(const LoadRequest& request, const Progress& progress) {

    llava::EngineOptions options;
    options.backend = request.backend;
    options.registry = &m_registry;
    options.threads = request.threads;
    options.precision = request.precision;
    options.contextLength = request.contextLength;
    options.reference = request.reference;
    options.weightCache = request.weightCache;
    if (!request.weightCacheDir.isEmpty()) options.weightCacheDir = toPath(request.weightCacheDir);
    auto engine = llava::Engine::load(toPath(request.modelDir), options,
                                      [&](std::uint64_t done, std::uint64_t total, std::string_view stage) {
                                          return !progress ||
                                                 progress(done, total, QString::fromUtf8(stage.data(), qsizetype(stage.size())));
                                      });
    if (!engine.isOk()) return engine.status();
    m_engine = std::move(*engine);

    const llava::BackendReport report = m_engine->backendReport();
    ModelInfo info;
    info.config = m_engine->config();
    info.name = request.randomWeights ? QString::fromUtf8(llava::kDemoModelName.data(), qsizetype(llava::kDemoModelName.size()))
                                      : QFileInfo(request.modelDir).fileName();
    if (info.name.isEmpty()) info.name = QString::fromStdString(info.config.name);
    info.modelDir = request.modelDir;
    info.backend = QString::fromStdString(report.name);
    info.device = QString::fromStdString(report.device);
    info.fallbackReason = QString::fromStdString(report.fallbackReason);
    info.notice = QString::fromStdString(report.notice);
    info.selfCheckReport = QString::fromStdString(report.selfCheckReport);
    info.weightCache = QString::fromStdString(report.weightCache);
    info.cudaBuilt = m_registry.has(llava::BackendKind::Cuda);
    info.precision = QString::fromUtf8(llava::weightPrecisionName(report.precision).data());
    info.weightBytes = report.memory.weightBytes + report.memory.mappedWeightBytes;
    info.kvCacheBytes = report.memory.kvCacheBytes;
    info.scratchBytes = report.memory.scratchBytes;
    info.contextLimit = m_engine->session().contextLimit();
    info.randomWeights = request.randomWeights;
    info.reference = m_engine->reference();
    // What Engine::load rendered with: the config's template, else the one named by the model's name.
    std::string templateName = info.config.templateName;
    if (templateName.empty())
        if (auto named = llava::autoChatTemplateName(info.config.name); named.isOk()) templateName = *named;
    info.templateName = QString::fromStdString(templateName);
    m_loaded = request;
    return info;
}

QString machineCeilingsCacheFile() {
    return QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/machine-ceilings.json");
}

std::optional<llava::MachineCeilings> LlavaChatEngine::ceilings() {
    if (!m_engine || !m_loaded || m_engine->backendReport().name != "cpu") return std::nullopt;
    const int threads = llava::cpuBackendThreads(m_loaded->threads);
    if (const auto known = m_ceilings.constFind(threads); known != m_ceilings.constEnd()) return *known;
    auto cached = llava::cachedMachineCeilings(machineCeilingsCacheFile().toStdString(), threads);
    if (cached.isOk() && !cached->cacheNote.empty()) qInfo("machine ceilings: %s", cached->cacheNote.c_str());
    if (!cached.isOk()) qWarning("machine ceilings not measured: %s", cached.status().message().c_str());
    m_ceilings.insert(threads, cached.isOk() ? std::optional<llava::MachineCeilings>(cached->ceilings) : std::nullopt);
    return m_ceilings.value(threads);
}

llava::Result<llava::GenerationStats> LlavaChatEngine::reply(const GenerationRequest& request,
                                                             const llava::TokenCallback& onToken,
                                                             const llava::CancelPredicate& cancel) {
    if (!m_engine) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    llava::ChatSession& session = m_engine->session();
    LLAVA_TRY(syncSession(request));
    llava::UserMessage message;
    message.text = request.text.toStdString();
    LLAVA_TRY(decodeImages(request.imagePaths, &message.images));

    QByteArray answer;
    auto collect = [&](const llava::TokenEvent& event) {
        answer.append(event.piece.data(), qsizetype(event.piece.size()));
        return !onToken || onToken(event);
    };
    auto stats = session.reply(message, request.sampling, collect, cancel);
    if (!stats.isOk() && stats.status().code() == llava::ErrorCode::FileChanged) {
        // A shard was truncated or rewritten under the mapping: reading it again could SIGBUS. Unload.
        m_engine.reset();
        m_loaded.reset();
        m_sessionFingerprint.clear();
        return stats;
    }
    if (!stats.isOk()) return stats;  // the session still holds exactly request.history
    QList<ChatMessage> now = request.history;
    ChatMessage user;
    user.text = request.text;
    user.images = request.imagePaths;
    ChatMessage reply;
    reply.role = MessageRole::Assistant;
    reply.text = QString::fromUtf8(answer);
    now << user << reply;
    m_sessionFingerprint = fingerprint(request.conversationId, now);
    stats->ceilings = ceilings();  // after the answer: measuring never delays a token
    return stats;
}

llava::Status LlavaChatEngine::syncSession(const GenerationRequest& request) {
    llava::ChatSession& session = m_engine->session();
    const QByteArray history = fingerprint(request.conversationId, request.history);
    if (history != m_sessionFingerprint) {
        // Another chat (or another version of this one) is in the session: give it this chat's messages.
        // Lazy in core: the images are encoded and everything is prefilled by the next reply.
        session.clear();
        m_sessionFingerprint.clear();
        LLAVA_ASSIGN_OR_RETURN(std::vector<llava::ChatExchange> exchanges, toExchanges(request.history));
        LLAVA_TRY(session.restore(exchanges));
        m_sessionFingerprint = history;
    }
    // Same prompt for a continued chat is a no-op; a changed one re-renders (core re-prefills the diff).
    session.setSystemPrompt(request.systemPrompt.toStdString());
    return llava::Status::ok();
}

llava::Status LlavaChatEngine::draftImages(const QStringList& paths, std::vector<llava::RgbImage>* out) {
    QHash<QString, llava::RgbImage> kept;
    for (const QString& path : paths) {
        auto cached = m_draftImages.constFind(path);
        if (cached != m_draftImages.constEnd()) {
            kept.insert(path, *cached);
        } else {
            std::vector<llava::RgbImage> decoded;
            LLAVA_TRY(decodeImages({path}, &decoded));
            kept.insert(path, std::move(decoded.front()));
        }
        out->push_back(kept.value(path));
    }
    m_draftImages = std::move(kept);  // only the attached ones stay in memory
    return llava::Status::ok();
}

llava::Result<llava::ContextPlan> LlavaChatEngine::plan(const GenerationRequest& request) {
    if (!m_engine) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    LLAVA_TRY(syncSession(request));
    llava::UserMessage message;
    message.text = request.text.toStdString();
    LLAVA_TRY(draftImages(request.imagePaths, &message.images));
    return m_engine->session().plan(message);
}

void LlavaChatEngine::clear() {
    if (m_engine) m_engine->session().clear();
    m_sessionFingerprint.clear();
}

int LlavaChatEngine::contextUsed() const { return m_engine ? m_engine->session().contextUsed() : 0; }
int LlavaChatEngine::contextLimit() const { return m_engine ? m_engine->session().contextLimit() : 0; }

llava::Result<ExplainResult> LlavaChatEngine::explain(const ExplainRequest& request, const llava::CancelPredicate& cancel) {
    if (!m_engine) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    llava::UserMessage message;
    message.text = request.prompt.toStdString();
    LLAVA_TRY(decodeImages({request.imagePath}, &message.images));
    // explainAnswer clears the session: the next reply restores its chat from the history.
    m_sessionFingerprint.clear();
    m_engine->session().clear();
    m_engine->session().setSystemPrompt(request.systemPrompt.toStdString());
    llava::ExplainOptions options;
    options.firstToken = request.firstToken;
    options.lastToken = request.lastToken;
    options.firstLayer = request.firstLayer;
    options.lastLayer = request.lastLayer;
    LLAVA_ASSIGN_OR_RETURN(llava::AttentionExplanation e,
                           llava::explainAnswer(*m_engine, message, request.sampling, options, cancel));
    ExplainResult out;
    out.id = request.id;
    out.answerText = QString::fromStdString(e.answerText);
    out.answerTokens = int(e.answerIds.size());
    out.firstToken = request.firstToken;
    out.lastToken = request.lastToken < 0 ? out.answerTokens - 1 : request.lastToken;
    const double longest = std::max(e.layout.imageWidth, e.layout.imageHeight);
    out.heatmapWidth = std::max(1, int(e.layout.imageWidth * request.heatmapSide / longest + 0.5));
    out.heatmapHeight = std::max(1, int(e.layout.imageHeight * request.heatmapSide / longest + 0.5));
    LLAVA_ASSIGN_OR_RETURN(out.heatmap, llava::renderAttentionHeatmap(e.layout, e.map, llava::HeatmapParts::GridAndBase,
                                                                     out.heatmapWidth, out.heatmapHeight));
    out.layout = e.layout;
    out.map = std::move(e.map);
    out.massTextBefore = e.massTextBefore;
    out.massImage = e.massImage;
    out.massTextAfter = e.massTextAfter;
    out.massAnswer = e.massAnswer;
    return out;
}

bool LlavaChatEngine::runOnLocalEngine(const std::function<void(llava::Engine&)>& job) {
    if (!m_engine) return false;
    m_sessionFingerprint.clear();  // the job may replace the session's conversation: the next reply restores
    job(*m_engine);
    m_sessionFingerprint.clear();
    return true;
}
