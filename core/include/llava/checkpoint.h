// A model folder opened for inference: config + every shard mapped read-only + the weight table that
// maps each checkpoint tensor to a layout-independent canonical name with its expected dtype/shape.
//
// Canonical names (the same for all three layouts of docs/spec.md §2; L = LLM layer, l = CLIP layer):
//   llm.embed_tokens.weight                     (nVocab, dModel)
//   llm.layers.L.input_layernorm.weight         (dModel)
//   llm.layers.L.self_attn.q_proj.weight        (nHeads*headDim, dModel)
//   llm.layers.L.self_attn.k_proj.weight        (nKvHeads*headDim, dModel)   v_proj likewise
//   llm.layers.L.self_attn.o_proj.weight        (dModel, nHeads*headDim)
//   llm.layers.L.post_attention_layernorm.weight (dModel)
//   llm.layers.L.mlp.gate_proj.weight / up_proj (dFfn, dModel);  mlp.down_proj.weight (dModel, dFfn)
//   llm.norm.weight (dModel);  llm.lm_head.weight (nVocab, dModel)
//   vision.embeddings.class_embedding (dVision); vision.embeddings.patch_embedding.weight (dVision, 3, 14, 14)
//   vision.embeddings.position_embedding.weight (577, dVision); vision.pre_layrnorm.weight/.bias (dVision)
//   vision.encoder.layers.l.layer_norm1.weight/.bias, layer_norm2.weight/.bias          (dVision)
//   vision.encoder.layers.l.self_attn.{q,k,v,out}_proj.weight (dVision, dVision) / .bias (dVision)
//   vision.encoder.layers.l.mlp.fc1.weight (dFfnV, dVision) / .bias; mlp.fc2.weight (dVision, dFfnV) / .bias
//   vision.post_layernorm.weight/.bias (optional, unused)
//   projector.linear_1.weight (dModel, dVision) / .bias;  projector.linear_2.weight (dModel, dModel) / .bias
//   image_newline (dModel)
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/types.h"

namespace llava {

// Non-owning view of one tensor's bytes inside a mapped shard. Valid while the Checkpoint lives.
struct TensorView {
    std::string name;            // canonical name (or the file's own name for raw safetensors access)
    DType dtype = DType::F32;
    Shape shape;                 // outer -> inner
    const std::byte* data = nullptr;
    std::size_t byteSize = 0;
    std::int64_t elementCount() const;
};

struct WeightProblem {
    enum class Kind { Missing, Unexpected, WrongShape, WrongDtype, Duplicate } kind;
    std::string tensorName;      // the name in the file (or the canonical name when missing)
    std::string detail;          // "expected [4096, 1024] got [4096, 1000]"
};

class Checkpoint {
public:
    // Opens <dir>: config.json, model.safetensors.index.json (or a single model.safetensors),
    // maps every shard, validates the weight table. Any problem -> error naming file/tensor/expected.
    static Result<std::unique_ptr<Checkpoint>> open(const std::filesystem::path& modelDir);
    virtual ~Checkpoint() = default;

    virtual const ModelConfig& config() const = 0;
    virtual const std::filesystem::path& directory() const = 0;
    // nullptr when absent (only possible for optional tensors).
    virtual const TensorView* find(std::string_view canonicalName) const = 0;
    // Sum of the mapped tensor bytes (for memory reports and load progress).
    virtual std::uint64_t totalTensorBytes() const = 0;
    // Every tensor of the weight table (canonical names), in no particular order.
    virtual std::vector<const TensorView*> tensors() const = 0;
    // Whether every mapped shard still has its size and mtime from load (one fstat each; microseconds).
    // ErrorCode::FileChanged "model file changed on disk: <file> (...)" otherwise: the views must not be
    // read again (a truncated mapping faults with SIGBUS); the owner unloads the model.
    virtual Status checkFilesUnchanged() const = 0;
};

}  // namespace llava
