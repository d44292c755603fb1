// Engine::load (checkpoint, tokenizer, backend selection, weight upload, KV cache) and the small
// Engine queries. The chat loop is in chatsession.cpp.
#include <algorithm>

#include "engine/engineimpl.h"
#include "engine/vocabcheck.h"
#include "llava/anyres.h"
#include "llava/weightscan.h"
#include "llava/memoryplan.h"
#include "model/quantcache.h"
#include "llava/precisionnotice.h"

namespace llava {

std::string_view stopReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::Eos: return "eos";
    case StopReason::StopString: return "stop-string";
    case StopReason::MaxTokens: return "max-tokens";
    case StopReason::ContextFull: return "context-full";
    case StopReason::Cancelled: return "cancelled";
    }
    return "?";
}

namespace {

// The memory plan on the CPU backend, before any weight is converted or copied.
Status checkHostMemory(const Checkpoint& checkpoint, const EngineOptions& options, int context) {
    MemoryPlanOptions plan;
    plan.device = PlanDevice::Cpu;
    plan.contextLength = context;
    plan.kvCache = options.kvCache;
    plan.availableBytes = options.hostMemoryBudget;
    if (plan.availableBytes == 0) {
        auto available = availableHostMemory();
        if (!available.isOk()) return Status::ok();  // unknown (no /proc): nothing to check against
        plan.availableBytes = *available;
    }
    return checkPlanFits(planMemory(checkpoint.config(), checkpoint.tensors(), plan, options.precision),
                         options.precision);
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::load(const std::filesystem::path& modelDir, const EngineOptions& options,
                                             const LoadProgress& progress) {
    auto engine = std::make_unique<EngineImpl>();
    if (progress && !progress(0, 0, "config")) return makeError(ErrorCode::Cancelled, "loading cancelled");
    LLAVA_ASSIGN_OR_RETURN(engine->m_checkpoint, Checkpoint::open(modelDir));
    const ModelConfig& config = engine->m_checkpoint->config();
    engine->m_reference = options.reference.value_or(config.defaultReference);
    if (options.checkWeights) {
        ScanProgress scanProgress;
        if (progress)
            scanProgress = [&](std::uint64_t done, std::uint64_t total) { return progress(done, total, "check-weights"); };
        LLAVA_TRY(scanWeightsFinite(*engine->m_checkpoint, scanProgress));
    }

    if (progress && !progress(0, 0, "tokenizer")) return makeError(ErrorCode::Cancelled, "loading cancelled");
    const auto tokPath = options.tokenizerPath.empty() ? modelDir / "tokenizer.model" : options.tokenizerPath;
    LLAVA_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::loadFile(tokPath));
    LLAVA_TRY(tokenizer.applyTokenizerConfig(modelDir));
    LLAVA_TRY(checkTokenizerMatchesModel(tokenizer.vocabSize(), tokPath, config, modelDir / "config.json"));
    engine->m_tokenizer = std::make_unique<Tokenizer>(std::move(tokenizer));

    std::string templateName = options.templateName.empty() ? config.templateName : options.templateName;
    if (templateName.empty()) {
        LLAVA_ASSIGN_OR_RETURN(templateName, autoChatTemplateName(config.name));
    }
    LLAVA_ASSIGN_OR_RETURN(engine->m_template, findChatTemplate(templateName));

    const auto& t = config.text;
    const int context = std::min(options.contextLength, t.maxPositions);
    BackendRequest request;
    request.threads = options.threads;
    request.selfCheck = options.selfCheck;
    request.requiredBytes = plannedWeightBytes(*engine->m_checkpoint, options.precision) +
                            2ull * static_cast<std::uint64_t>(t.nLayers) * context * t.nKvHeads * t.headDim * 4;
    const BackendRegistry cpuOnly;
    const BackendRegistry& registry = options.registry ? *options.registry : cpuOnly;
    LLAVA_ASSIGN_OR_RETURN(BackendChoice choice, registry.create(options.backend, request));
    engine->m_backend = std::move(choice.backend);
    engine->m_fallbackReason = choice.fallbackReason;
    engine->m_selfCheckReport = choice.selfCheckReport;
    if (options.memoryCheck == MemoryCheck::Refuse && engine->m_backend->info().name == "cpu") {
        LLAVA_TRY(checkHostMemory(*engine->m_checkpoint, options, context));
    }
    engine->m_precision = options.precision;
    engine->m_precisionNotice = precisionFallbackNotice(engine->m_checkpoint->tensors(), options.precision);

    ModelProgress weightProgress;
    if (progress)
        weightProgress = [&](std::uint64_t done, std::uint64_t total) { return progress(done, total, "weights"); };
    QuantCacheOptions cacheOptions;
    cacheOptions.enabled = options.weightCache;
    cacheOptions.fallbackDir = options.weightCacheDir;
    cacheOptions.threads = engine->m_backend->info().threads;
    QuantCacheReport cacheReport;
    LLAVA_ASSIGN_OR_RETURN(engine->m_model, LlavaModel::create(*engine->m_backend, *engine->m_checkpoint,
                                                               options.precision, context, weightProgress,
                                                               cacheOptions, &cacheReport, options.kvCache));
    engine->m_weightCacheNote = describeQuantCache(cacheReport);
    if (progress && !progress(1, 1, "kv-cache")) return makeError(ErrorCode::Cancelled, "loading cancelled");
    engine->m_session = std::make_unique<ChatSessionImpl>(*engine);
    return std::unique_ptr<Engine>(std::move(engine));
}

BackendReport EngineImpl::backendReport() const {
    const BackendInfo info = m_backend->info();
    BackendReport report;
    report.name = info.name;
    report.device = info.device;
    report.fallbackReason = m_fallbackReason;
    report.notice = info.notice;
    if (!m_precisionNotice.empty()) report.notice += (report.notice.empty() ? "" : "; ") + m_precisionNotice;
    report.selfCheckReport = m_selfCheckReport;
    report.precision = m_precision;
    report.kvCacheFormat = m_model->kvCacheFormat();
    report.weightCache = m_weightCacheNote;
    report.memory = info.memory;
    return report;
}

Result<ImageLayout> EngineImpl::planImage(int width, int height) const {
    const ModelConfig& config = m_checkpoint->config();
    AnyresParams params;
    params.tileSize = config.vision.imageSize;
    params.patchesPerSide = config.vision.patchesPerSide();
    params.candidates = candidateResolutions(config, m_reference);
    params.reference = m_reference;
    return computeImageLayout(width, height, params);
}

}  // namespace llava
