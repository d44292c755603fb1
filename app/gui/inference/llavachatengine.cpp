// See llavachatengine.h.
#include "llavachatengine.h"

#include <QDir>
#include <QFileInfo>

#include "imagedecoder.h"
#include "llava/demomodel.h"

// LLAVA_APP_HAVE_CUDA is set by app/gui/CMakeLists.txt when the llava_kernels target exists.
#if defined(LLAVA_APP_HAVE_CUDA) && __has_include("llava_cuda/cuda_backend.h")
#include "llava_cuda/cuda_backend.h"
#define LLAVA_APP_REGISTER_CUDA 1
#endif

namespace {

std::filesystem::path toPath(const QString& dir) { return std::filesystem::path(QDir(dir).absolutePath().toStdString()); }

bool sameTurns(const std::vector<HistoryTurn>& a, const std::vector<HistoryTurn>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].user != b[i].user || a[i].imageCount != b[i].imageCount || a[i].assistant != b[i].assistant) return false;
    return true;
}

// The history as ChatSession::restore wants it. Images are decoded here (inference thread) exactly as
// MainWindow decodes a new message's (decodeImageFile, no EXIF transpose), so the restored image rows
// equal the live ones. A missing or unreadable file fails the reply with its name: continuing without
// the image would silently answer about a different conversation.
llava::Result<std::vector<llava::ChatExchange>> toExchanges(const std::vector<HistoryTurn>& history) {
    std::vector<llava::ChatExchange> exchanges;
    exchanges.reserve(history.size());
    for (const HistoryTurn& turn : history) {
        llava::ChatExchange e;
        e.user = turn.user.toStdString();
        e.assistant = turn.assistant.toStdString();
        if (turn.imagePaths.size() != turn.imageCount)
            return llava::makeError(llava::ErrorCode::InvalidArgument,
                                    "an earlier message of this chat has " + std::to_string(turn.imageCount) +
                                        " images but " + std::to_string(turn.imagePaths.size()) + " stored files");
        for (const QString& path : turn.imagePaths) {
            auto image = imageio::decodeImageFile(path);
            if (!image.isOk())
                return llava::makeError(image.status().code(), "an image of this chat could not be read again (" +
                                                                   path.toStdString() + "): " + image.status().message());
            e.images.push_back(std::move(*image));
        }
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

bool LlavaChatEngine::hasCudaBackend() {
#ifdef LLAVA_APP_REGISTER_CUDA
    return true;
#else
    return false;
#endif
}

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

llava::Result<ModelInfo> LlavaChatEngine::load(const LoadRequest& request, const Progress& progress) {
    m_engine.reset();  // free the old model before the new one is mapped
    m_sessionTurns.clear();
    m_conversationId.clear();
    if (request.randomWeights) LLAVA_TRY(ensureDemoModel(request.modelDir, progress));

    llava::EngineOptions options;
    options.backend = request.backend;
    options.registry = &m_registry;
    options.threads = request.threads;
    options.precision = request.precision;
    options.contextLength = request.contextLength;
    options.reference = request.reference;
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
    info.precision = QString::fromUtf8(llava::weightPrecisionName(report.precision).data());
    info.weightBytes = report.memory.weightBytes + report.memory.mappedWeightBytes;
    info.kvCacheBytes = report.memory.kvCacheBytes;
    info.scratchBytes = report.memory.scratchBytes;
    info.contextLimit = m_engine->session().contextLimit();
    info.randomWeights = request.randomWeights;
    info.reference = m_engine->reference();
    return info;
}

llava::Result<llava::GenerationStats> LlavaChatEngine::reply(const GenerationRequest& request,
                                                             const llava::TokenCallback& onToken,
                                                             const llava::CancelPredicate& cancel) {
    if (!m_engine) return llava::makeError(llava::ErrorCode::InvalidArgument, "no model loaded");
    llava::ChatSession& session = m_engine->session();
    const bool continues = request.conversationId == m_conversationId && sameTurns(request.history, m_sessionTurns) &&
                           session.turns() == int(m_sessionTurns.size());
    if (!continues) {
        // Another chat (or none) is in the session: give it this chat's earlier turns. Lazy in core:
        // the images are encoded and everything is prefilled by the reply below.
        session.clear();
        m_sessionTurns.clear();
        m_conversationId.clear();
        LLAVA_ASSIGN_OR_RETURN(std::vector<llava::ChatExchange> exchanges, toExchanges(request.history));
        LLAVA_TRY(session.restore(exchanges));
        m_sessionTurns = request.history;
        m_conversationId = request.conversationId;
    }
    // Same prompt for a continued chat is a no-op; a changed one re-renders (core re-prefills the diff).
    session.setSystemPrompt(request.systemPrompt.toStdString());
    llava::UserMessage message;
    message.text = request.text.toStdString();
    message.images = request.images;  // a copy: the request stays intact for the caller

    QByteArray answer;
    auto collect = [&](const llava::TokenEvent& event) {
        answer.append(event.piece.data(), qsizetype(event.piece.size()));
        return !onToken || onToken(event);
    };
    auto stats = session.reply(message, request.sampling, collect, cancel);
    if (!stats.isOk() && stats.status().code() == llava::ErrorCode::FileChanged) {
        // A shard was truncated or rewritten under the mapping: reading it again could SIGBUS. Unload.
        m_engine.reset();
        m_sessionTurns.clear();
        m_conversationId.clear();
        return stats;
    }
    if (!stats.isOk()) return stats;  // the session still holds exactly request.history
    m_sessionTurns.push_back({request.text, int(request.images.size()), QString::fromUtf8(answer), {}});
    return stats;
}

void LlavaChatEngine::clear() {
    if (m_engine) m_engine->session().clear();
    m_sessionTurns.clear();
    m_conversationId.clear();
}

int LlavaChatEngine::contextUsed() const { return m_engine ? m_engine->session().contextUsed() : 0; }
int LlavaChatEngine::contextLimit() const { return m_engine ? m_engine->session().contextLimit() : 0; }
