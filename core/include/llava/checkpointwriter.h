// Writing safetensors files, shard indexes and whole model folders from (name, dtype, shape, bytes)
// records. Used by the demo-model generator and by tests that build checkpoints at run time.
// The writer refuses inconsistent input (byte size != elements x dtype size, duplicate names)
// instead of producing a file our own reader would reject.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/types.h"

namespace llava {

struct TensorRecord {
    std::string name;                 // stored as is (file naming of the target layout)
    DType dtype = DType::F32;
    Shape shape;                      // outer -> inner
    std::span<const std::byte> bytes; // not owned; elements x dtypeSize(dtype) bytes, little-endian
};

using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

// The complete file image: u64 header length, JSON header padded with spaces to a multiple of 8
// (so the data region is 8-byte aligned), then the tensors in record order.
Result<std::vector<std::byte>> serializeSafetensors(const std::vector<TensorRecord>& tensors,
                                                    const SafetensorsMetadata& metadata = {});
Status writeSafetensors(const std::filesystem::path& path, const std::vector<TensorRecord>& tensors,
                        const SafetensorsMetadata& metadata = {});

// model.safetensors.index.json with {"metadata": {"total_size": N}, "weight_map": {...}}.
Status writeShardIndex(const std::filesystem::path& path, const std::map<std::string, std::string>& weightMap,
                       std::uint64_t totalSize);

// A model folder: config.json (given text) and the tensors split round-robin-free, in order, into
// `shardCount` shards "model-0000i-of-0000n.safetensors" + index; shardCount 1 writes a single
// model.safetensors without index.
Status writeModelFolder(const std::filesystem::path& dir, const std::string& configJson,
                        const std::vector<TensorRecord>& tensors, int shardCount);

// config.json text for `config` in the given layout, which parseModelConfig reads back to the same
// sizes. Original layout: top-level LLM fields + mm_* fields, plus the "vision_config" extension
// when the tower is not CLIP-L/336. HfLegacy/HfResaved: llava_next with full text/vision configs.
// Family Yi is not stored (it is inferred from a 64000 vocabulary or "34b" in the name).
std::string serializeModelConfig(const ModelConfig& config, CheckpointLayout layout);

}  // namespace llava
