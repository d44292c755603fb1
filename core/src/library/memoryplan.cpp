// The memory plan (memoryplan.h): weights through plannedWeightBytes, KV cache and scratch from the
// buffer shapes LlavaModel::allocateActivations uses, MemAvailable from /proc/meminfo.
#include "llava/memoryplan.h"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "llava/weights.h"

namespace llava {
namespace {

// BackendInfo::prefillRows of the CPU backend (256) and the CUDA backend (1024, kernels/backend_cuda.cpp).
constexpr int kCpuPrefillRows = 256;
constexpr int kCudaPrefillRows = 1024;

int clampedContext(const ModelConfig& config, int contextLength) {
    return std::max(1, std::min(contextLength, config.text.maxPositions));
}

// LlavaModel::create: base crop + the tiles of the largest pinpoint.
std::int64_t maxCrops(const ModelConfig& config) {
    const int side = config.vision.imageSize;
    std::int64_t crops = 1;
    for (const auto& [w, h] : config.gridPinpoints)
        if (side > 0) crops = std::max<std::int64_t>(crops, 1 + std::int64_t{(w + side - 1) / side} * ((h + side - 1) / side));
    return crops;
}

// The LLM's matrices stay F32 only for f32 and for as-stored F32 checkpoints; otherwise KvCacheFormat::Auto
// keeps an F16 KV cache on both backends (BackendInfo::f16KvCache, LlavaModel::allocateActivations).
bool llmMatricesBelowF32(const std::vector<const TensorView*>& tensors, WeightPrecision precision) {
    if (precision == WeightPrecision::F32) return false;
    if (precision != WeightPrecision::AsStored) return true;
    for (const TensorView* view : tensors)
        if (view->shape.size() == 2 && view->name.find("q_proj") != std::string::npos) return view->dtype != DType::F32;
    return true;
}

std::string padLeft(const std::string& text, std::size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

// LlavaModel::loadWeights uploads the CLIP layers up to the selected one and never post_layernorm: a
// checkpoint stores them, but they take no memory at run time. Names are canonical (checkpoint.h).
bool isUploaded(const std::string& name, const ModelConfig& config) {
    if (name.rfind("vision.post_layernorm.", 0) == 0) return false;
    const std::string layers = "vision.encoder.layers.";
    if (name.rfind(layers, 0) != 0) return true;
    const int layer = std::atoi(name.c_str() + layers.size());
    return layer < config.vision.layersToRun();
}

}  // namespace

std::string_view planDeviceName(PlanDevice device) { return device == PlanDevice::Cuda ? "cuda" : "cpu"; }

const PrecisionPlan* MemoryPlan::find(WeightPrecision precision) const {
    for (const PrecisionPlan& row : rows)
        if (row.precision == precision) return &row;
    return nullptr;
}

std::vector<TensorView> plannedTensorsFromConfig(const ModelConfig& config, DType stored) {
    std::vector<TensorView> views;
    for (const WeightSpec& spec : buildWeightTable(config)) {
        // Real checkpoints store every CLIP layer and post_layernorm (optional in the table because they
        // never run); only a tied lm_head is really absent.
        if (spec.name == "llm.lm_head.weight" && config.text.tieWordEmbeddings) continue;
        TensorView view;
        view.name = spec.name;
        view.dtype = stored;
        view.shape = spec.shape;
        view.byteSize = static_cast<std::size_t>(view.elementCount()) * dtypeSize(stored);
        views.push_back(std::move(view));
    }
    return views;
}

std::uint64_t plannedKvCacheBytes(const ModelConfig& config, int contextLength, bool f16Cache) {
    const TextConfig& t = config.text;
    const std::uint64_t kvWidth = static_cast<std::uint64_t>(t.nKvHeads) * static_cast<std::uint64_t>(t.headDim);
    // k and v, (context, nKvHeads*headDim) per layer
    return 2ull * static_cast<std::uint64_t>(t.nLayers) * static_cast<std::uint64_t>(contextLength) * kvWidth *
           (f16Cache ? 2u : 4u);
}

std::uint64_t plannedScratchBytes(const ModelConfig& config, int contextLength, int prefillRows) {
    const TextConfig& t = config.text;
    const VisionConfig& v = config.vision;
    const std::uint64_t c = static_cast<std::uint64_t>(std::max(1, std::min(prefillRows, contextLength)));
    const std::uint64_t d = static_cast<std::uint64_t>(t.dModel);
    const std::uint64_t q = static_cast<std::uint64_t>(t.nHeads) * static_cast<std::uint64_t>(t.headDim);
    const std::uint64_t kv = static_cast<std::uint64_t>(t.nKvHeads) * static_cast<std::uint64_t>(t.headDim);
    const std::uint64_t f = static_cast<std::uint64_t>(t.dFfn);
    // LLM, F32: x, xn (c, d); q, att (c, q); k, v (c, kv); gate, up (c, f); final norm (1, d); logits
    // (1, nVocab); the decode step (2 x I32).
    std::uint64_t elements = c * (2 * d + 2 * q + 2 * kv + 2 * f) + d + static_cast<std::uint64_t>(t.nVocab) + 2;
    // CLIP, F32, every crop of one image at once: pixels (crops, 3, S, S); patches (crops*576, dV);
    // h, hn, q, k, v, att (crops*577, dV); fc1 (crops*577, dFfnV); projector 1, 2 (crops*576, dModel).
    const std::uint64_t crops = static_cast<std::uint64_t>(maxCrops(config));
    const std::uint64_t s = static_cast<std::uint64_t>(v.imageSize), dv = static_cast<std::uint64_t>(v.dVision);
    const std::uint64_t patches = crops * static_cast<std::uint64_t>(v.nPatches());
    const std::uint64_t rows = crops * static_cast<std::uint64_t>(v.nPatches() + 1);
    elements += crops * 3 * s * s + patches * dv + 6 * rows * dv + rows * static_cast<std::uint64_t>(v.dFfn) +
                2 * patches * d;
    return elements * 4;
}

MemoryPlan planMemory(const ModelConfig& config, const std::vector<const TensorView*>& tensors,
                      const MemoryPlanOptions& options, std::optional<WeightPrecision> extraPrecision) {
    MemoryPlan plan;
    plan.device = options.device;
    plan.contextLength = clampedContext(config, options.contextLength);
    plan.availableBytes = options.availableBytes;
    std::vector<WeightPrecision> precisions = {WeightPrecision::AsStored, WeightPrecision::F16, WeightPrecision::Q8,
                                               WeightPrecision::Q4};
    if (extraPrecision && std::find(precisions.begin(), precisions.end(), *extraPrecision) == precisions.end())
        precisions.insert(precisions.begin(), *extraPrecision);
    std::vector<const TensorView*> uploaded;
    for (const TensorView* view : tensors)
        if (isUploaded(view->name, config)) uploaded.push_back(view);
    const bool cuda = options.device == PlanDevice::Cuda;
    const std::uint64_t scratch =
        plannedScratchBytes(config, plan.contextLength, cuda ? kCudaPrefillRows : kCpuPrefillRows);
    for (WeightPrecision precision : precisions) {
        PrecisionPlan row;
        row.precision = precision;
        row.weightBytes = plannedWeightBytes(uploaded, precision);
        const StorageFormat kvFormat =
            resolveKvCacheFormat(options.kvCache, llmMatricesBelowF32(tensors, precision), /*backendReadsF16Cache=*/true);
        row.kvCacheBytes = plannedKvCacheBytes(config, plan.contextLength, kvFormat == StorageFormat::F16);
        row.scratchBytes = scratch;
        row.fits = options.availableBytes == 0 || row.totalBytes() <= options.availableBytes;
        plan.rows.push_back(row);
    }
    // Largest first: the recommendation is the highest-fidelity row that fits.
    std::stable_sort(plan.rows.begin(), plan.rows.end(), [](const PrecisionPlan& a, const PrecisionPlan& b) {
        return a.weightBytes > b.weightBytes;
    });
    for (const PrecisionPlan& row : plan.rows) {
        if (row.fits) {
            plan.recommended = row.precision;
            break;
        }
    }
    return plan;
}

std::string formatGiB(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / double(1ull << 30));
    return text;
}

std::string formatBytes(std::uint64_t bytes) {
    if (bytes >= (1ull << 30)) return formatGiB(bytes);
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / double(1ull << 20));
    return text;
}

Status checkPlanFits(const MemoryPlan& plan, WeightPrecision precision) {
    const PrecisionPlan* row = plan.find(precision);
    if (!row || row->fits) return Status::ok();
    const std::string where = plan.device == PlanDevice::Cuda ? "GPU memory" : "RAM";
    std::string message = std::string(weightPrecisionName(precision)) + " weights need " + formatGiB(row->totalBytes()) +
                          " (weights " + formatGiB(row->weightBytes) + " + KV cache " + formatGiB(row->kvCacheBytes) +
                          " for " + std::to_string(plan.contextLength) + " tokens + scratch " +
                          formatGiB(row->scratchBytes) + ") but only " + formatGiB(plan.availableBytes) + " of " +
                          where + " is free";
    if (plan.recommended) {
        const PrecisionPlan* best = plan.find(*plan.recommended);
        message += "; " + std::string(weightPrecisionName(*plan.recommended)) + " fits (" +
                   formatGiB(best->totalBytes()) + ")";
    } else {
        message += "; no precision fits: use a shorter context or a smaller model";
    }
    return makeError(ErrorCode::OutOfMemory, message);
}

std::string formatMemoryPlan(const MemoryPlan& plan) {
    std::ostringstream out;
    out << "memory plan (" << planDeviceName(plan.device) << ", context " << plan.contextLength << " tokens, "
        << (plan.availableBytes ? formatBytes(plan.availableBytes) + " free" : std::string("free memory unknown"))
        << ")\n";
    out << "precision " << padLeft("weights", 10) << padLeft("KV cache", 12) << padLeft("scratch", 12)
        << padLeft("total", 12) << "  fits\n";
    for (const PrecisionPlan& row : plan.rows) {
        const std::string name(weightPrecisionName(row.precision));
        out << name << std::string(10 - std::min<std::size_t>(name.size(), 9), ' ') << padLeft(formatBytes(row.weightBytes), 10)
            << padLeft(formatBytes(row.kvCacheBytes), 12) << padLeft(formatBytes(row.scratchBytes), 12)
            << padLeft(formatBytes(row.totalBytes()), 12) << "  " << (row.fits ? "yes" : "no") << "\n";
    }
    if (plan.recommended)
        out << "recommended: " << weightPrecisionName(*plan.recommended) << "\n";
    else
        out << "recommended: none (nothing fits in " << formatGiB(plan.availableBytes) << ")\n";
    return out.str();
}

Result<std::uint64_t> parseMemAvailable(const std::string& meminfo) {
    std::istringstream in(meminfo);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        unsigned long long kib = 0;
        char unit[8] = {};
        if (std::sscanf(line.c_str() + 13, "%llu %7s", &kib, unit) == 2 && std::string(unit) == "kB")
            return static_cast<std::uint64_t>(kib) * 1024u;
        return makeError(ErrorCode::ParseError, "/proc/meminfo: cannot read \"" + line + "\"");
    }
    return makeError(ErrorCode::NotFound, "/proc/meminfo has no MemAvailable line");
}

Result<std::uint64_t> availableHostMemory() {
    std::ifstream file("/proc/meminfo");
    if (!file) return makeError(ErrorCode::IoError, "cannot open /proc/meminfo");
    std::ostringstream text;
    text << file.rdbuf();
    return parseMemAvailable(text.str());
}

}  // namespace llava
