// Attention on the tensor cores through cuBLAS, for long query blocks (CLIP's 577 tokens per crop,
// prefill chunks): per chunk of query rows, S = scale · Q Kᵀ (strided-batched GEMM, fp32 scores),
// P = softmax(S) with the causal mask (attentionSoftmax), O = P V (strided-batched GEMM written straight
// into the output columns of each head). GQA without copying K/V: one GEMM call per position j of a
// query head within its group (head = kvHead * group + j), batched over the kv heads.
// Precision: reduced = q, k, v and P rounded to F16 (tensor cores, fp32 accumulation; an F16 KV cache is
// used as it is); otherwise the same steps in pure fp32 (the parity path for F32 weights; F16 k/v are
// widened first). Any headDim.
// The causal rectangle: a chunk computes keys up to its own last visible one, so causal work is about
// half a full product plus one chunk's triangle.
#pragma once

#include <cuda_runtime.h>

#include "device_buffer.h"
#include "gemm.h"
#include "ops.h"

namespace llava::cuda {

// Below this many query rows the flash kernel (attention.cu) is used: the GEMMs would be tiny.
constexpr std::int64_t kAttentionGemmMinQueries = 64;
// Scores + probabilities of one chunk stay under this (rows per chunk are chosen to fit).
constexpr std::size_t kAttentionScoreBudgetBytes = std::size_t{256} << 20;

struct AttentionGemmScratch {
    ScratchBuffer* operands = nullptr;  // F16 copies of q, k, v (reduced precision only)
    ScratchBuffer* scores = nullptr;    // S (fp32) and P (F16, or in place over S)
};

void attentionByGemm(const GemmContext& gemm, const AttentionGemmScratch& scratch, float* out, const float* q,
                     const void* k, const void* v, Format kvFormat, const AttentionShape& dims, bool reducedPrecision,
                     cudaStream_t stream);

}  // namespace llava::cuda
