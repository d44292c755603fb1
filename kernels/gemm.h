// The only place that calls cuBLAS: out (m, n) (=|+=) x (m, k) · wᵀ for row-major fp32 activations and a
// row-major weight w (n, k) in any storage format. Row-major -> column-major is written once here:
// out (m, n) row-major is outᵀ (n, m) column-major = op_T(w as (k, n) column-major) · (x as (k, m)).
//   F32        cublasSgemm, true fp32 (the handle's math mode forbids TF32): the 1e-7 parity path.
//   F16/BF16   x converted to the weight's type, cublasGemmEx with fp32 accumulation and fp32 output.
//   Q8/Q4      x -> BF16, weight rows dequantised to BF16 in chunks of <= 64 MiB, then as BF16.
// Bias is not fused: BackendCuda adds it with the add kernel (one more pass over out).
// batchedGemm: the strided-batched products of the tensor-core attention path (attention_gemm.cpp).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "device_buffer.h"
#include "ops.h"

namespace llava::cuda {

struct GemmContext {
    cublasHandle_t handle = nullptr;
    cudaStream_t stream = nullptr;
    ScratchBuffer* activationScratch = nullptr;  // x in 16-bit
    ScratchBuffer* weightScratch = nullptr;      // dequantised weight chunk
};

void gemm(const GemmContext& context, float* out, const float* x, const void* w, Format wFormat, std::int64_t m,
          std::int64_t n, std::int64_t k, bool accumulate);

// A batch of row-major matrices: item i starts `stride` elements after item i-1, rows are `ld` apart.
struct StridedMatrices {
    const void* data = nullptr;
    std::int64_t ld = 0, stride = 0;
};
enum class BatchedOp { ABt, AB };  // out = a · bᵀ (b is (n, k)) | out = a · b (b is (k, n))
// out[i] (m, n) = alpha · a[i] (m, k) · op(b[i]), fp32 output (row stride ldOut, item stride strideOut),
// for i < batch. Operands F32 (pure fp32 math) or F16 (tensor cores, fp32 accumulation): `operands`.
void batchedGemm(const GemmContext& context, BatchedOp op, float* out, std::int64_t ldOut, std::int64_t strideOut,
                 const StridedMatrices& a, const StridedMatrices& b, Format operands, std::int64_t m, std::int64_t n,
                 std::int64_t k, std::int64_t batch, float alpha);

}  // namespace llava::cuda
