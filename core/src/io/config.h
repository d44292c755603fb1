// Internal helpers of the config loaders shared with presets and Checkpoint::open.
#pragma once

#include <string>

#include "llava/modelconfig.h"

namespace llava::io {

// Chat template per spec §6 from the model name, falling back to the LLM family.
std::string chooseTemplateName(const std::string& name, LlmFamily family);

// Range checks every loader applies after filling a ModelConfig (positive sizes, divisibility, caps
// that keep a hostile config from making later stages allocate absurd tables).
Status validateModelConfig(const ModelConfig& config, const std::string& what);

}  // namespace llava::io
