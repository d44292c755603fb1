// See llavachatengine.h.
#include "llavachatengine.h"

#include <QDir>
#include <QFileInfo>

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

// The session cannot be seeded with earlier answers, so a chat continued from a fresh session gets its
// earlier turns as a transcript in front of the new message (images of earlier turns are not re-sent).
std::string withTranscript(const std::vector<HistoryTurn>& history, const QString& text) {
    if (history.empty()) return text.toStdString();
    QString out = QStringLiteral("Earlier in this conversation:\n");
    for (const HistoryTurn& t : history)
        out += QStringLiteral("User: %1\nAssistant: %2\n").arg(t.user, t.assistant);
    out += QStringLiteral("\n") + text;
    return out.toStdString();
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
    llava::UserMessage message;
    const bool continues = request.conversationId == m_conversationId && sameTurns(request.history, m_sessionTurns) &&
                           session.turns() == int(m_sessionTurns.size());
    if (continues) {
        message.text = request.text.toStdString();
    } else {
        session.clear();
        m_sessionTurns.clear();
        m_conversationId = request.conversationId;
        message.text = withTranscript(request.history, request.text);
    }
    message.images = request.images;  // a copy: the request stays intact for the caller

    QByteArray answer;
    auto collect = [&](const llava::TokenEvent& event) {
        answer.append(event.piece.data(), qsizetype(event.piece.size()));
        return !onToken || onToken(event);
    };
    auto stats = session.reply(message, request.sampling, collect, cancel);
    if (!stats.isOk()) {
        // The session is as it was before the call; a fresh conversation keeps no record of it.
        if (!continues) m_conversationId.clear();
        return stats;
    }
    if (!continues) m_sessionTurns = request.history;  // folded into the first turn of the session
    m_sessionTurns.push_back({request.text, int(request.images.size()), QString::fromUtf8(answer)});
    if (!continues && !request.history.empty()) {
        // The session holds one turn for history + message: never matches a later request exactly,
        // so the next message starts over with the full transcript (correct, if slower).
        m_conversationId.clear();
    }
    return stats;
}

void LlavaChatEngine::clear() {
    if (m_engine) m_engine->session().clear();
    m_sessionTurns.clear();
    m_conversationId.clear();
}

int LlavaChatEngine::contextUsed() const { return m_engine ? m_engine->session().contextUsed() : 0; }
int LlavaChatEngine::contextLimit() const { return m_engine ? m_engine->session().contextLimit() : 0; }
