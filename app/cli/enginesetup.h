// Engine and sampling options shared by `chat`, `serve` and `batch`: the option rows, their parsing into
// llava::EngineOptions / llava::SamplingParams, and the backend report printed to stderr after loading.
// (`chat` lists its own rows for its --help order and defaults, and parses them here.)
#pragma once

#include <vector>

#include "args.h"
#include "llava/engine.h"
#include "llava/status.h"

namespace cli {

// --backend, --threads, --precision, --context, --template, --tokenizer, --reference.
std::vector<OptionSpec> engineOptionSpecs();
// --temperature, --top-p, --top-k, --min-p, --repeat-penalty, --max-new-tokens, --seed.
std::vector<OptionSpec> samplingOptionSpecs();

llava::Result<llava::EngineOptions> readEngineOptions(const ParsedArgs& args);
// Starts from `defaults` and overrides what was given.
llava::Result<llava::SamplingParams> readSamplingOptions(const ParsedArgs& args, llava::SamplingParams defaults);

// "backend: cpu, weights as-stored, reference original", any fallback/notice, the self-check report when
// CUDA failed it, and the memory line, on stderr.
void reportBackend(const llava::BackendReport& report, llava::Reference reference);

}  // namespace cli
