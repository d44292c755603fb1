// The argument checks of every Backend op (backend.h), written once: each backend calls the op's checker
// first and then only resolves its own pointers and runs its kernels, so the CPU reference and the CUDA
// backend accept and reject exactly the same calls with the same messages ("matmul x·wᵀ: [7, 64] vs
// [32, 60]"). A checker looks at formats and shapes only (never at data); what only a device knows
// (step-tensor values, a kernel's size limits, whether a handle is live) stays with the backend.
// Codes: ShapeMismatch for shapes and activation formats, Unsupported for quantised tensors where floats
// are needed, InvalidArgument for bad head counts, OutOfRange for ids and counts past the data.
#pragma once

#include <cstdint>
#include <span>

#include "llava/attentionshape.h"
#include "llava/backend.h"

namespace llava {

inline bool isFloatFormat(StorageFormat f) {
    return f == StorageFormat::F32 || f == StorageFormat::F16 || f == StorageFormat::BF16;
}
// Bytes the whole tensor occupies (rows x cols in its format).
inline std::size_t tensorBytes(const Tensor& t) { return storageBytes(t.format, t.rows(), t.cols()); }

// "op: [2, 3] vs [4]" (ShapeMismatch).
Status shapeMismatch(const char* op, const Tensor& a, const Tensor& b);
// An F32 activation (ShapeMismatch otherwise); `op` names the argument ("matmul out").
Status checkActivation(const Tensor& t, const char* op);
// F32/F16/BF16: norm weights, biases, added tensors (Unsupported for quantised tensors).
Status checkFloatTensor(const Tensor& t, const char* op);
// A decode-step tensor: I32 with 2 elements (position, token id).
Status checkStep(const Tensor& step, const char* op);
// Bytes of a new buffer: InvalidArgument for a negative dim, OutOfMemory ("<backend>: cannot allocate ...")
// when the size does not fit 64 bits.
Result<std::size_t> checkAllocate(const Shape& shape, StorageFormat format, std::string_view name,
                                  std::string_view backendName);

// ---- one checker per op (argument names as in backend.h) -------------------------------------------
Status checkMatmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias);
Status checkRmsNorm(const Tensor& out, const Tensor& x, const Tensor& w);
Status checkLayerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b);
Status checkRope(const Tensor& x, int nHeads, int headDim);
// The dims every attention kernel takes; k/v both F32 or both F16.
Result<AttentionShape> checkAttention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                                      const AttentionParams& params);
Status checkSiluMul(const Tensor& out, const Tensor& gate, const Tensor& up);
// true when b is one row broadcast over a's rows.
Result<bool> checkAdd(const Tensor& out, const Tensor& a, const Tensor& b);
// Every id < table rows (negative ids are splice slots and allowed); the table in any format (Q8/Q4 rows
// are dequantised as matmul reads them).
Status checkEmbed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids);

struct PatchEmbedShape {
    std::int64_t crops = 0, side = 0, patch = 0, width = 0;  // pixels (crops, 3, side, side), weight (width, 3, patch, patch)
    std::int64_t grid = 0;     // side / patch
    std::int64_t patches = 0;  // crops * grid², the output rows
    std::int64_t k = 0;        // 3 * patch², the im2col row length
};
Result<PatchEmbedShape> checkPatchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight);
Status checkCopy(const Tensor& dst, const Tensor& src);
Status checkArgmax(const Tensor& x, std::int64_t nValid);

// Decode-step ops: the shapes only; the step's values are checked (or skipped) by the backend.
Status checkEmbedAt(const Tensor& out, const Tensor& table);
Status checkRopeAt(const Tensor& x, int nHeads, int headDim);
Status checkWriteRowAt(const Tensor& cache, const Tensor& src);
Status checkRopeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim);
// nQueries 1, nKeys = the cache's rows (the step says how many a query sees), causal.
Result<AttentionShape> checkAttentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache,
                                        const Tensor& vCache, const AttentionParams& params);

}  // namespace llava
