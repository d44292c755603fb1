// Launchers of every hand-written kernel, one line each (kernels live in <op>.cu, file-static).
// PRECONDITIONS for all: pointers are device pointers already validated by BackendCuda (shapes,
// formats, sizes); every launch goes on `stream` and is followed by LLAVA_LAUNCH_CHECK (throws
// BackendError). Activations are fp32 row-major; `format` names how a weight/vector is stored.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "llava/attentionshape.h"
#include "llava/tensor.h"

namespace llava::cuda {

using Format = llava::StorageFormat;

// ---- norm, rope, activations, elementwise -----------------------------------------------------
// out, x: (rows, d); w: (d) stored as wFormat (F32/F16/BF16). In place ok.
void rmsNorm(float* out, const float* x, const void* w, Format wFormat, std::int64_t rows, std::int64_t d, float eps,
             cudaStream_t stream);
void layerNorm(float* out, const float* x, const void* w, Format wFormat, const void* b, Format bFormat,
               std::int64_t rows, std::int64_t d, float eps, cudaStream_t stream);
// x (rows, nHeads*headDim) in place; row r at position positionStart + r (positionStart = *positionFrom,
// a device int, when that is given). headDim <= kRopeMaxHeadDim (else BackendError Unsupported);
// inv_freq is computed on the host exactly as the CPU does.
constexpr int kRopeMaxHeadDim = 512;
void rope(float* x, std::int64_t rows, int nHeads, int headDim, int positionStart, float theta, cudaStream_t stream,
          const std::int32_t* positionFrom = nullptr);
// cache row *positionFrom (skipped unless 0 <= row < cacheRows) = rope(src) at that position, stored as
// cacheFormat; src (nHeads*headDim) fp32, unchanged. Bit-identical to rope() then convertRowAt().
void ropeWriteRowAt(void* cache, Format cacheFormat, const float* src, std::int64_t cacheRows, int nHeads, int headDim,
                    float theta, const std::int32_t* positionFrom, cudaStream_t stream);
enum class Activation { QuickGelu, Gelu };
void activation(float* x, std::int64_t n, Activation kind, cudaStream_t stream);  // in place
void siluMul(float* out, const float* gate, const float* up, std::int64_t n, cudaStream_t stream);
// out (rows, d) = a + b; b: (rows, d) or (d) when broadcast, stored as bFormat.
void add(float* out, const float* a, const void* b, Format bFormat, std::int64_t rows, std::int64_t d, bool broadcast,
         cudaStream_t stream);

// ---- data movement ------------------------------------------------------------------------------
// out row i = table row ids[i] as fp32 for 0 <= ids[i] < tableRows (ids: device, checked by the caller;
// others leave the row as it was). table (tableRows, d) in any storage format, Q8/Q4 included.
void embed(float* out, const void* table, Format tableFormat, const std::int32_t* ids, std::int64_t nIds,
           std::int64_t d, std::int64_t tableRows, cudaStream_t stream);
// pixels (crops, 3, side, side) -> cols (crops * (side/p)², 3*p*p), row = patch, col = (ch, y, x).
void im2col(float* cols, const float* pixels, std::int64_t crops, std::int64_t side, std::int64_t p,
            cudaStream_t stream);
// cache row *rowFrom (device int; skipped unless 0 <= row < cacheRows) = src (cols fp32), converted.
void convertRowAt(void* cache, Format cacheFormat, const float* src, std::int64_t cols, std::int64_t cacheRows,
                  const std::int32_t* rowFrom, cudaStream_t stream);
// n elements, F32/F16/BF16 in any combination (the same format is a plain memcpy done by the caller).
void convert(void* dst, Format dstFormat, const void* src, Format srcFormat, std::int64_t n, cudaStream_t stream);
// Index of the max of x[0, n) (ties -> lowest) written to *result (device).
void argmax(std::int32_t* result, const float* x, std::int64_t n, cudaStream_t stream);

// ---- weights at load ----------------------------------------------------------------------------
// src (rows, cols) F32/F16/BF16 -> dst Q8PerChannel or Q4Group128 in tensor.h's layout, with the same
// arithmetic as the CPU backend (amax/127 or amax/7, round half away from zero), so bytes match.
void quantise(void* dst, Format dstFormat, const void* src, Format srcFormat, std::int64_t rows, std::int64_t cols,
              cudaStream_t stream);
// dst (rows, cols) BF16 = dequantised rows [row0, row0 + rows) of a Q8/Q4 matrix with totalRows rows.
void dequantiseRows(std::uint16_t* dst, const void* q, Format format, std::int64_t totalRows, std::int64_t row0,
                    std::int64_t rows, std::int64_t cols, cudaStream_t stream);
// Deterministic pseudo-random fill for benchmarks: floats uniform in [-amplitude, amplitude]; for Q8/Q4
// random values and scales of amplitude/127 or amplitude/7.
void fillRandom(void* dst, Format format, std::int64_t rows, std::int64_t cols, float amplitude, std::uint64_t seed,
                cudaStream_t stream);

// ---- matrix-vector for decode (M <= kMatvecMaxRows) ---------------------------------------------
constexpr std::int64_t kMatvecMaxRows = 8;
// out (m, n) (=|+=) x (m, k) · wᵀ + bias; w (n, k) in any weight format; bias (n) or null.
void matvec(float* out, const float* x, const void* w, Format wFormat, const void* bias, Format biasFormat,
            std::int64_t m, std::int64_t n, std::int64_t k, bool accumulate, cudaStream_t stream);

// ---- attention ------------------------------------------------------------------------------------
// Dims: llava::AttentionShape (llava/attentionshape.h), filled by checkAttention / checkAttentionAt.
constexpr int kAttentionMaxHeadDim = 128;
// Flash-style tiled attention for any number of queries (prefill, CLIP): fp32 SIMT, the path for short
// query blocks (attention_gemm.h takes long ones to the tensor cores).
// k, v: kvFormat F32 or F16 (a 16-bit KV cache); q and out fp32.
void attentionPrefill(float* out, const float* q, const void* k, const void* v, Format kvFormat,
                      const AttentionShape& dims, cudaStream_t stream);
// Split-K decode attention for one query row; partial needs attentionDecodeScratchFloats(dims) floats.
// lastKeyFrom (device int): the row sees keys [0, *lastKeyFrom] of the dims.nKeys-row cache.
std::int64_t attentionDecodeScratchFloats(const AttentionShape& dims);
void attentionDecode(float* out, const float* q, const void* k, const void* v, Format kvFormat,
                     const AttentionShape& dims, float* partial, cudaStream_t stream,
                     const std::int32_t* lastKeyFrom = nullptr);
// Scores -> probabilities for the GEMM path: s holds nBatch * m rows of n floats, `ld` apart (>= n),
// row r being query r % m of batch item r / m. p (same layout; F32 may alias s, or F16) = softmax over the
// row's first `visible` entries and 0 after them, visible = causal ? min(n, firstPosition + r % m + 1) : n;
// a row with nothing visible becomes zeros. Columns [n, ld) are not touched.
void attentionSoftmax(void* p, Format pFormat, const float* s, std::int64_t m, std::int64_t nBatch, std::int64_t n,
                      std::int64_t ld, std::int64_t firstPosition, bool causal, cudaStream_t stream);

}  // namespace llava::cuda
