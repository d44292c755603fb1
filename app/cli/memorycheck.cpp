// See memorycheck.h.
#include "memorycheck.h"

namespace cli {

PlanTarget planTarget(const llava::BackendRegistry& registry, llava::BackendKind kind) {
    PlanTarget target;
    if (kind != llava::BackendKind::Cpu && registry.has(llava::BackendKind::Cuda)) {
        // Creating the backend is how this process learns the device's free memory (no model is loaded).
        auto choice = registry.create(llava::BackendKind::Cuda, {});
        if (choice.isOk() && choice->backend) {
            target.device = llava::PlanDevice::Cuda;
            target.availableBytes = choice->backend->info().memory.deviceFreeBytes;
            return target;
        }
    }
    auto host = llava::availableHostMemory();
    target.availableBytes = host.isOk() ? *host : 0;
    return target;
}

llava::MemoryPlan planFor(const llava::LibraryEntry& entry, const PlanTarget& target, int contextLength,
                          llava::WeightPrecision requested, llava::KvCacheFormat kvCache) {
    llava::MemoryPlanOptions options;
    options.device = target.device;
    options.contextLength = contextLength;
    options.kvCache = kvCache;
    options.availableBytes = target.availableBytes;
    llava::ModelConfig config = entry.config.value_or(llava::ModelConfig{});
    return llava::planMemory(config, llava::tensorPointers(entry), options, requested);
}

}  // namespace cli
