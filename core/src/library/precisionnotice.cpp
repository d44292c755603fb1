// See precisionnotice.h.
#include "llava/precisionnotice.h"

namespace llava {

std::string precisionFallbackNotice(const std::vector<const TensorView*>& tensors, WeightPrecision precision) {
    if (precision != WeightPrecision::Q4) return {};
    int matrices = 0;
    int asQ8 = 0;
    std::string example;
    for (const TensorView* view : tensors) {
        auto plan = planWeightUpload(*view, precision, "plan");
        if (!plan.isOk()) continue;  // the upload reports it
        if (plan->target != StorageFormat::Q4Group128 && plan->target != StorageFormat::Q8PerChannel) continue;
        ++matrices;
        if (plan->target != StorageFormat::Q8PerChannel) continue;
        ++asQ8;
        if (example.empty()) example = view->name + " has " + std::to_string(plan->shape.back()) + " columns";
    }
    if (asQ8 == 0) return {};
    if (asQ8 == matrices)
        return "q4 not applied: all " + std::to_string(matrices) +
               " weight matrices are stored as q8, because q4 needs a column count that is a multiple of 128 (" + example +
               ")";
    return "q4: " + std::to_string(asQ8) + " of " + std::to_string(matrices) +
           " weight matrices are stored as q8, because q4 needs a column count that is a multiple of 128 (" + example + ")";
}

}  // namespace llava
