// The one weight table: for a ModelConfig, every tensor LLaVA-NeXT needs under its canonical name
// (see checkpoint.h) with expected shape, accepted dtypes and whether it is required, plus the
// canonical <-> file name mapping of the three checkpoint layouts (docs/spec.md §2.4).
// Validation collects every problem at once so a user sees the whole list, not the first miss.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llava/checkpoint.h"
#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/types.h"

namespace llava {

enum class WeightRequirement { Required, Optional };

struct WeightSpec {
    std::string name;   // canonical
    Shape shape;        // expected, outer -> inner
    WeightRequirement requirement = WeightRequirement::Required;
};

// Storage dtypes the backends convert from; everything else is WrongDtype.
bool isAcceptedWeightDtype(DType dtype);  // F16, BF16, F32

// Expected tensors in canonical order (vision, projector, image_newline, llm). CLIP layers past the
// ones the feature layer needs and post_layernorm are Optional (stored but never run); lm_head is
// Optional only when tie_word_embeddings is set.
std::vector<WeightSpec> buildWeightTable(const ModelConfig& config);

std::string fileTensorName(std::string_view canonicalName, CheckpointLayout layout);
// nullopt when the name has no canonical counterpart in that layout.
std::optional<std::string> canonicalTensorName(std::string_view fileName, CheckpointLayout layout);
// Buffers some savers include that carry no weights: *.rotary_emb.inv_freq, *embeddings.position_ids.
bool isIgnoredTensor(std::string_view fileName);
// From the LLM tensor prefixes; error when no known LLM tensor name is present.
Result<CheckpointLayout> detectLayout(const std::vector<std::string>& fileNames);
std::string_view layoutName(CheckpointLayout layout);  // "original", "llava-hf", "re-saved (transformers >= 4.52)"

// Checks `tensors` (file names) against the table; returns every problem found.
std::vector<WeightProblem> validateWeights(const std::vector<WeightSpec>& table,
                                           const std::vector<const TensorView*>& tensors, CheckpointLayout layout);
// One line per problem: "missing llm.norm.weight (model.norm.weight): expected F16/BF16/F32 [4096]".
std::string formatWeightProblems(const std::vector<WeightProblem>& problems);

}  // namespace llava
