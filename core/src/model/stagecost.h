// Work estimates for the stage waterfall (llava/stages.h): FLOPs from the model's shapes and bytes from
// the uploaded weights' storage plus the activations and KV-cache rows a stage reads and writes.
// Conventions (what the numbers mean, so a GB/s figure can be judged):
//   FLOPs: 2 per multiply-add of every matrix product (linear layers, attention scores and values,
//          patch embedding); norms, activations, softmax and RoPE are left out (< 1% of the total).
//   bytes: every weight matrix the stage uses read once (its stored format: F16 2 B, Q4 ~0.52 B ...),
//          each layer's input rows read and output rows written once in F32, the KV cache rows attention
//          reads plus the rows written. Caches and fusion can only lower the real traffic.
#pragma once

#include <cstdint>

#include "llava/modelconfig.h"

namespace llava {

struct StageCosts {
    double clipWeightBytes = 0;       // patch + class + position embeddings and the CLIP layers that run
    double projectorWeightBytes = 0;  // both projector linears
    double llmLayerWeightBytes = 0;   // every decoder layer (attention, MLP, norms)
    double lmHeadBytes = 0;           // final norm + lm_head
    double embedRowBytes = 0;         // one token-embedding row
    double kvBytesPerValue = 4;       // F32 KV cache on the CPU, 2 for an F16 cache
};

double clipFlops(const ModelConfig& config, std::int64_t crops);
double clipBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t crops);
double projectorFlops(const ModelConfig& config, std::int64_t crops);
double projectorBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t crops);
double mergeBytes(const ModelConfig& config, std::int64_t imageTokens, std::int64_t crops);
// `rows` prompt/answer rows written at positions [position, position + rows); withHead: the last row
// also goes through the final norm and lm_head (the end of a prefill and every decode step).
double decoderFlops(const ModelConfig& config, std::int64_t rows, std::int64_t position, bool withHead);
double decoderBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t rows, std::int64_t position,
                    bool withHead);

}  // namespace llava
