// The memory plan shown before every load: for each weight precision (as stored, f16, q8, q4) the bytes
// of the converted weights, the KV cache for the chosen context and the activation scratch, against the
// memory available on the chosen device (free RAM for the CPU backend, free VRAM for CUDA). The plan
// recommends the largest precision that fits and refuses, with the numbers, what does not: a model that
// cannot fit is never loaded into an OOM kill.
//
// Weight bytes come from plannedWeightBytes (backend.h), the same per-tensor format choice the backends
// make at upload, so plan and load cannot disagree. KV cache and scratch follow the buffers LlavaModel
// allocates (core/src/model/llavamodel.cpp allocateActivations); tst_memoryplan checks the plan against
// the CPU backend's own memory report after a real load.
// Deliberately not here: how free memory is measured on a GPU (the app asks its CUDA backend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llava/backend.h"
#include "llava/checkpoint.h"
#include "llava/modelconfig.h"
#include "llava/status.h"

namespace llava {

enum class PlanDevice : std::uint8_t { Cpu, Cuda };
std::string_view planDeviceName(PlanDevice device);  // "cpu" | "cuda"

struct MemoryPlanOptions {
    PlanDevice device = PlanDevice::Cpu;
    int contextLength = 4096;   // clamped to the model's max positions, as Engine::load does
    // As EngineOptions::kvCache. Auto plans an F16 cache for every row whose decoder matrices are below F32,
    // on both devices (CUDA and the CPU backend read 16-bit caches: BackendInfo::f16KvCache).
    KvCacheFormat kvCache = KvCacheFormat::Auto;
    // Free bytes on the device: MemAvailable for the CPU, the CUDA backend's free VRAM. 0 = unknown
    // (every row then "fits": the plan still shows the numbers).
    std::uint64_t availableBytes = 0;
};

struct PrecisionPlan {
    WeightPrecision precision = WeightPrecision::AsStored;
    std::uint64_t weightBytes = 0;   // after conversion (CPU as-stored: read in place from the mapping)
    std::uint64_t kvCacheBytes = 0;  // 2 x layers x context x kvWidth x (2 for an F16 cache, else 4)
    std::uint64_t scratchBytes = 0;  // activations for one prefill chunk + one image's crops
    std::uint64_t totalBytes() const { return weightBytes + kvCacheBytes + scratchBytes; }
    bool fits = true;
};

struct MemoryPlan {
    PlanDevice device = PlanDevice::Cpu;
    int contextLength = 0;           // after clamping
    std::uint64_t availableBytes = 0;
    std::vector<PrecisionPlan> rows; // as-stored, f16, q8, q4 (largest first for 16-bit checkpoints)
    std::optional<WeightPrecision> recommended;  // the first row that fits; nullopt: nothing fits
    const PrecisionPlan* find(WeightPrecision precision) const;
};

// Tensors without data (TensorView::data == nullptr) a checkpoint of `config` stores with every weight in
// `stored` (F16/BF16/F32): the whole weight table, lm_head only when embeddings are untied. For presets
// and for folders whose shards are not all present.
std::vector<TensorView> plannedTensorsFromConfig(const ModelConfig& config, DType stored);

// The plan for the given tensors (a Checkpoint's, plannedTensorsFromConfig's or a library entry's), named
// canonically (checkpoint.h): CLIP layers past the selected one and post_layernorm are stored but never
// uploaded, so they are not counted.
// `extraPrecision`: one more row (e.g. f32 when the user asked for it).
MemoryPlan planMemory(const ModelConfig& config, const std::vector<const TensorView*>& tensors,
                      const MemoryPlanOptions& options,
                      std::optional<WeightPrecision> extraPrecision = std::nullopt);

// The KV cache and scratch parts alone (shared by planMemory and its tests).
std::uint64_t plannedKvCacheBytes(const ModelConfig& config, int contextLength, bool f16Cache);
std::uint64_t plannedScratchBytes(const ModelConfig& config, int contextLength, int prefillRows);

// OutOfMemory naming every number ("q8 needs 8.1 GiB (weights 7.2 + KV cache 0.5 + scratch 0.4) but
// only 6.0 GiB of RAM is free; q4 fits (4.3 GiB)") when `precision` does not fit; ok otherwise.
Status checkPlanFits(const MemoryPlan& plan, WeightPrecision precision);

// A fixed-width table (one row per precision: weights, KV cache, scratch, total, fits) plus the
// recommendation line; what `llava-insight-cli chat --plan-only` and `models` print.
std::string formatMemoryPlan(const MemoryPlan& plan);
std::string formatGiB(std::uint64_t bytes);    // "14.09 GiB"
std::string formatBytes(std::uint64_t bytes);  // formatGiB from 1 GiB up, else "12.3 MiB"

// MemAvailable from /proc/meminfo (what the kernel can give without swapping), in bytes.
Result<std::uint64_t> availableHostMemory();
// Parses /proc/meminfo text (exposed for tests).
Result<std::uint64_t> parseMemAvailable(const std::string& meminfo);

}  // namespace llava
