// See inferenceworker.h. Every slot catches everything: an exception must not cross the event loop.
#include "inferenceworker.h"

#include "tokenbatcher.h"

#include <QString>
#include <exception>

InferenceWorker::InferenceWorker(std::unique_ptr<ChatEngine> engine, const std::atomic<quint64>* cancelUpTo,
                                 const std::atomic<bool>* loadCancel)
    : m_engine(std::move(engine)), m_cancelUpTo(cancelUpTo), m_loadCancel(loadCancel) {}

InferenceWorker::~InferenceWorker() = default;  // the engine (and any CUDA context) dies on this thread

void InferenceWorker::loadModel(const LoadRequest& request) {
    try {
        auto progress = [this](quint64 done, quint64 total, const QString& stage) {
            emit loadProgressChanged(done, total, stage);
            return !m_loadCancel->load();
        };
        auto info = m_engine->load(request, progress);
        if (info.isOk()) {
            emit loadFinished(*info);
            return;
        }
        const auto& status = info.status();
        QString hint;
        switch (status.code()) {
        case llava::ErrorCode::NotFound:
            hint = tr("Choose a folder with config.json, *.safetensors and tokenizer.model (a llava-v1.6 checkpoint).");
            break;
        case llava::ErrorCode::Unsupported:
            hint = tr("Only LLaVA v1.6 checkpoints in Hugging Face safetensors layout are supported (not GGUF).");
            break;
        case llava::ErrorCode::OutOfMemory:
            hint = tr("Try the CPU backend, a lower precision (q8/q4) or a shorter context in Settings.");
            break;
        case llava::ErrorCode::Cancelled: hint = tr("Loading was cancelled."); break;
        default: hint = tr("Check that the folder holds a complete, unmodified checkpoint."); break;
        }
        emit loadFailed(hint, QString::fromStdString(status.toString()), m_engine->isLoaded());
    } catch (const std::exception& e) {
        emit loadFailed(tr("Loading the model failed unexpectedly."), QString::fromUtf8(e.what()), m_engine->isLoaded());
    } catch (...) {
        emit loadFailed(tr("Loading the model failed unexpectedly."), QString(), m_engine->isLoaded());
    }
}

void InferenceWorker::generate(const GenerationRequest& request) {
    const quint64 id = request.id;
    auto cancelled = [this, id] { return m_cancelUpTo->load() >= id; };
    if (cancelled()) {  // stopped before it began: confirm without touching the engine
        emit generationStopped(id, llava::GenerationStats{}, m_engine->contextUsed());
        return;
    }
    emit generationStarted(id);
    try {
        TokenBatcher batcher(kCoalesceMs, [&](const QString& text, const TokenProbabilities& tokens) {
            if (!tokens.isEmpty()) emit tokenConfidencesGenerated(id, tokens);
            if (!text.isEmpty()) emit tokensGenerated(id, text);
        });
        auto onToken = [&](const llava::TokenEvent& event) {
            batcher.add(event);
            return !cancelled();
        };
        auto stats = m_engine->reply(request, onToken, cancelled);
        batcher.flush();
        if (!stats.isOk()) {
            if (stats.status().code() == llava::ErrorCode::Cancelled)
                emit generationStopped(id, llava::GenerationStats{}, m_engine->contextUsed());
            else if (stats.status().code() == llava::ErrorCode::FileChanged)
                emit generationFailed(id, tr("The model's files changed on disk, so the model was unloaded. Open it again."),
                                      QString::fromStdString(stats.status().toString()));
            else
                emit generationFailed(id, tr("Generation failed."), QString::fromStdString(stats.status().toString()));
            return;
        }
        if (stats->stopReason == llava::StopReason::Cancelled)
            emit generationStopped(id, *stats, m_engine->contextUsed());
        else
            emit generationFinished(id, *stats, m_engine->contextUsed());
        if (const auto usage = m_engine->lastServerUsage()) emit serverUsageReported(id, *usage);
    } catch (const std::exception& e) {
        emit generationFailed(id, tr("Generation failed unexpectedly."), QString::fromUtf8(e.what()));
    } catch (...) {
        emit generationFailed(id, tr("Generation failed unexpectedly."), QString());
    }
}

bool InferenceWorker::runOnLocalEngine(const std::function<void(llava::Engine&)>& job) {
    try {
        return m_engine->runOnLocalEngine(job);
    } catch (const std::exception& e) {
        qWarning("a served request failed unexpectedly: %s", e.what());  // jobs catch their own; never cross the loop
        return true;
    }
}

void InferenceWorker::clearSession() {
    try {
        m_engine->clear();
    } catch (const std::exception& e) {
        qWarning("clearing the chat session failed: %s", e.what());  // the next reply restores the chat anyway
    }
}

void InferenceWorker::explain(const ExplainRequest& request) {
    const quint64 id = request.id;
    auto superseded = [this, id] { return m_latestExplain && m_latestExplain->load() != id; };
    if (superseded()) return;  // a newer request (or a cancel) came first: nothing to do
    try {
        auto result = m_engine->explain(request, superseded);
        if (superseded()) return;
        if (result.isOk()) emit explainFinished(*result);
        else emit explainFailed(id, QString::fromStdString(result.status().message()));
    } catch (const std::exception& e) {
        emit explainFailed(id, QString::fromUtf8(e.what()));
    }
}

void InferenceWorker::planContext(const GenerationRequest& request) {
    try {
        auto plan = m_engine->plan(request);
        if (plan.isOk()) emit contextPlanned(request.id, *plan, {});
        else emit contextPlanned(request.id, {}, QString::fromStdString(plan.status().message()));
    } catch (const std::exception& e) {
        emit contextPlanned(request.id, {}, QString::fromUtf8(e.what()));
    } catch (...) {
        emit contextPlanned(request.id, {}, tr("counting the context failed unexpectedly"));
    }
}
