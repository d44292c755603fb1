// The only place that calls cuBLAS: out (m, n) (=|+=) x (m, k) · wᵀ for row-major fp32 activations and a
// row-major weight w (n, k) in any storage format. Row-major -> column-major is written once here:
// out (m, n) row-major is outᵀ (n, m) column-major = op_T(w as (k, n) column-major) · (x as (k, m)).
//   F32        cublasSgemm, true fp32 (the handle's math mode forbids TF32): the 1e-7 parity path.
//   F16/BF16   x converted to the weight's type, cublasGemmEx with fp32 accumulation and fp32 output.
//   Q8/Q4      x -> BF16, weight rows dequantised to BF16 in chunks of <= 64 MiB, then as BF16.
// Bias is not fused: BackendCuda adds it with the add kernel (one more pass over out).
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

}  // namespace llava::cuda
