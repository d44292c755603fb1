// The built-in demo model: a small LLaVA-NeXT checkpoint with RANDOM WEIGHTS written on request, so the
// app can be tried without a multi-gigabyte download. Its answers are meaningless by construction.
// Everything is deterministic (same bytes on every run): a seeded integer PRNG for the weights and a
// sentencepiece BPE tokenizer trained single-threaded on a corpus compiled into the library
// (resources/demo/corpus.txt). Layout: llava-hf (config.json, model.safetensors, tokenizer.model,
// tokenizer_config.json, README.txt); real CLIP topology (336 px, 14 px patches, 577 positions) with tiny
// widths, Mistral-type decoder with GQA. Deliberately not here: any real weights or downloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "llava/status.h"

namespace llava {

inline constexpr std::string_view kDemoModelName = "llava-insight-demo (random weights)";

struct DemoModelInfo {
    std::filesystem::path directory;
    std::string name;                // kDemoModelName
    std::uint64_t bytesWritten = 0;  // all files
    int tokenizerVocab = 0;          // sentencepiece pieces == image_token_index (llava-hf convention)
    int modelVocab = 0;              // rows of embed_tokens / lm_head (tokenizerVocab + 64 padding rows)
};

// Called between stages ("tokenizer", "weights", "files"); step counts up to steps. Return false to cancel
// (-> ErrorCode::Cancelled; files already written may remain).
using DemoProgress = std::function<bool(int step, int steps, std::string_view stage)>;

// Writes the demo model into outDir (created if missing; our files are overwritten, others left alone).
// Takes well under a second on one core.
Result<DemoModelInfo> writeDemoModel(const std::filesystem::path& outDir, const DemoProgress& progress = {});

// The embedded English training text of the demo tokenizer.
std::string_view demoCorpus();

}  // namespace llava
