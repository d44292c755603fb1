// Opt-in load-time check that every weight of a checkpoint is finite (EngineOptions::checkWeights,
// `llava-insight-cli chat --check-weights`). NaN/Inf weights otherwise surface only as non-finite logits
// at the first reply (model/finitecheck.cpp names the stage then); this scan names the tensor before
// anything runs. It reads every byte of every shard once (seconds for a 7B model from the page cache,
// disk speed otherwise), so it is off by default.
#pragma once

#include <cstdint>
#include <functional>

#include "llava/checkpoint.h"
#include "llava/status.h"

namespace llava {

// Called after each tensor with bytes scanned so far; return false to cancel (-> Cancelled).
using ScanProgress = std::function<bool(std::uint64_t bytesDone, std::uint64_t bytesTotal)>;

// Ok when every element of every tensor is finite. Otherwise ParseError naming the first bad tensor in
// weight-table order (vision, projector, image_newline, llm layer by layer; its canonical name), the
// kind (NaN / +Inf / -Inf), the first bad element as (row, column), and how many elements are bad.
Status scanWeightsFinite(const Checkpoint& checkpoint, const ScanProgress& progress = {});

}  // namespace llava
