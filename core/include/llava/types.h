// Shared vocabulary of core: element types, shapes, and the names used for model dimensions.
//
// Math names (with their HF config keys), used everywhere in code and shape comments:
//   nTokens    sequence length                     dModel     hidden_size
//   nHeads     num_attention_heads                 nKvHeads   num_key_value_heads
//   headDim    hidden_size / num_attention_heads   dFfn       intermediate_size
//   nVocab     vocab_size                          nLayers    num_hidden_layers
//   nPatches   (image_size / patch_size)^2 = 576   dVision    vision_config.hidden_size (1024)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llava {

enum class DType : std::uint8_t { F32, F16, BF16, F64, I8, U8, I16, I32, I64, Bool };

std::size_t dtypeSize(DType dtype);
std::string_view dtypeName(DType dtype);  // safetensors spelling: "F32", "BF16", ...

// Outer -> inner dimensions, like the safetensors header and PyTorch.
using Shape = std::vector<std::int64_t>;

std::string shapeToString(const Shape& shape);  // "[4096, 1024]"

// Which reference implementation's semantics to follow where they differ (docs/spec.md §4.2, §5.2).
enum class Reference { Original, Transformers };

std::string_view referenceName(Reference reference);  // "original" | "transformers"
bool parseReference(std::string_view text, Reference* out);

}  // namespace llava
