// Where a requested weight precision is not what the backends store (planWeightUpload, backend.h): q4
// keeps a matrix whose column count is not a multiple of 128 (its quantisation group) as q8. Tiny models
// fall back entirely; real LLaVA v1.6 checkpoints not at all. The one line goes into
// BackendReport::notice, so the CLI, --json and the GUI say it instead of silently running q8.
#pragma once

#include <string>
#include <vector>

#include "llava/backend.h"

namespace llava {

// "" when every matrix gets the requested precision (always for as-stored, f16, f32, q8).
std::string precisionFallbackNotice(const std::vector<const TensorView*>& tensors, WeightPrecision precision);

}  // namespace llava
