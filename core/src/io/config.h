// Internal helpers of the config loaders shared with presets and Checkpoint::open.
#pragma once

#include <cstdint>
#include <string>

#include "llava/modelconfig.h"

namespace llava::io {

// Chat template per docs/spec.md §6.6 from the model name, falling back to the LLM family.
std::string chooseTemplateName(const std::string& name, LlmFamily family);

// Range checks every loader applies after filling a ModelConfig (positive sizes, divisibility, caps
// that keep a hostile config from making later stages allocate absurd tables).
Status validateModelConfig(const ModelConfig& config, const std::string& what);

// The pinpoint rules (part of validateModelConfig): each side a positive multiple of the tile size
// (vision image_size), the vision scratch of the largest grid (1 + tiles crops) within 1 GiB, at most 64
// pinpoints. Messages name the entry and the rule (docs/limits.md).
Status validatePinpoints(const ModelConfig& config, const std::string& what);
// Bytes of CLIP scratch LlavaModel allocates per crop (fp32), for the rule above.
std::uint64_t visionScratchBytesPerCrop(const ModelConfig& config);

}  // namespace llava::io
