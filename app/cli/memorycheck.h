// The memory plan for the CLI: which device a load would use (the --backend choice; auto = CUDA when its
// backend can be created), its free memory (MemAvailable, or the CUDA backend's free VRAM), and the plan
// for a model folder's tensors (read from the shard headers, llava::inspectModelFolder).
#pragma once

#include <filesystem>

#include "llava/backend.h"
#include "llava/memoryplan.h"
#include "llava/modellibrary.h"

namespace cli {

struct PlanTarget {
    llava::PlanDevice device = llava::PlanDevice::Cpu;
    std::uint64_t availableBytes = 0;
};
PlanTarget planTarget(const llava::BackendRegistry& registry, llava::BackendKind kind);

// kvCache: --kv-cache (auto plans F16 for 16-bit or quantised rows, as the load will choose).
llava::MemoryPlan planFor(const llava::LibraryEntry& entry, const PlanTarget& target, int contextLength,
                          llava::WeightPrecision requested, llava::KvCacheFormat kvCache = llava::KvCacheFormat::Auto);

}  // namespace cli
