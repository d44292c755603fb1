// The dimensions of one attention call, as every backend's kernels take them (CPU cpuattention.cpp, CUDA
// attention.cu / attention_gemm.cpp). Filled once by checkAttention / checkAttentionAt (backendchecks.h).
// Plain data with no includes beyond <cstdint>, so CUDA kernels can take it by value.
#pragma once

#include <cstdint>

namespace llava {

struct AttentionShape {
    std::int64_t nQueries = 0;  // query rows
    std::int64_t nKeys = 0;     // keys a query may see at most (causal: nPast + nQueries; a cache: its rows)
    int nHeads = 0, nKvHeads = 0, headDim = 0;
    int nPast = 0;              // causal: query row i sits at position nPast + i
    float scale = 1.0f;
    bool causal = true;
};

}  // namespace llava
