// cuBLAS GEMMs (see gemm.h for the layout translation and the per-format paths).
#include "gemm.h"

#include <algorithm>

namespace llava::cuda {
namespace {

constexpr std::size_t kDequantChunkBytes = std::size_t{64} << 20;

void gemmEx(const GemmContext& c, float* out, std::int64_t ldOut, const void* w, const void* x, cudaDataType type,
            std::int64_t m, std::int64_t n, std::int64_t k, float beta) {
    const float alpha = 1.0f;
    LLAVA_CUBLAS_CHECK(cublasGemmEx(c.handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                    static_cast<int>(k), &alpha, w, type, static_cast<int>(k), x, type,
                                    static_cast<int>(k), &beta, out, CUDA_R_32F, static_cast<int>(ldOut),
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

int asInt(std::int64_t v) { return static_cast<int>(v); }  // dims and lds are < 2^31 (checked by the caller)

}  // namespace

// Row-major -> column-major as in gemm(): out (m, n) row-major is outᵀ (n, m) column-major, so
//   ABt: outᵀ = b · aᵀ  -> cuBLAS A = b seen as (k, n) column-major, transposed; B = a as (k, m), not.
//   AB:  outᵀ = bᵀ · aᵀ -> cuBLAS A = b seen as (n, k) column-major, not transposed; B = a as (k, m).
void batchedGemm(const GemmContext& c, BatchedOp op, float* out, std::int64_t ldOut, std::int64_t strideOut,
                 const StridedMatrices& a, const StridedMatrices& b, Format operands, std::int64_t m, std::int64_t n,
                 std::int64_t k, std::int64_t batch, float alpha) {
    if (m == 0 || n == 0 || batch == 0) return;
    const float beta = 0.0f;
    const cudaDataType type = operands == Format::F16 ? CUDA_R_16F : CUDA_R_32F;
    const cublasOperation_t transA = op == BatchedOp::ABt ? CUBLAS_OP_T : CUBLAS_OP_N;
    LLAVA_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        c.handle, transA, CUBLAS_OP_N, asInt(n), asInt(m), asInt(k), &alpha, b.data, type, asInt(b.ld), b.stride,
        a.data, type, asInt(a.ld), a.stride, &beta, out, CUDA_R_32F, asInt(ldOut), strideOut, asInt(batch),
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void gemm(const GemmContext& c, float* out, const float* x, const void* w, Format wFormat, std::int64_t m,
          std::int64_t n, std::int64_t k, bool accumulate) {
    if (m == 0 || n == 0) return;
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    if (k == 0) {  // empty product: out = 0 or unchanged
        if (!accumulate) LLAVA_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<std::size_t>(m * n) * 4, c.stream));
        return;
    }
    if (wFormat == Format::F32) {
        LLAVA_CUBLAS_CHECK(cublasSgemm(c.handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                       static_cast<int>(k), &alpha, static_cast<const float*>(w), static_cast<int>(k), x,
                                       static_cast<int>(k), &beta, out, static_cast<int>(n)));
        return;
    }
    const bool half = wFormat == Format::F16;
    const Format xFormat = half ? Format::F16 : Format::BF16;
    const cudaDataType type = half ? CUDA_R_16F : CUDA_R_16BF;
    void* xh = c.activationScratch->ensure(static_cast<std::size_t>(m * k) * 2, c.stream, "gemm activations");
    convert(xh, xFormat, x, Format::F32, m * k, c.stream);
    if (wFormat == Format::F16 || wFormat == Format::BF16) {
        gemmEx(c, out, n, w, xh, type, m, n, k, beta);
        return;
    }
    // Quantised: dequantise a band of weight rows at a time (bounded scratch), one GEMM per band.
    const std::int64_t band = std::clamp<std::int64_t>(static_cast<std::int64_t>(kDequantChunkBytes) / (k * 2), 1, n);
    auto* wh = static_cast<std::uint16_t*>(
        c.weightScratch->ensure(static_cast<std::size_t>(band * k) * 2, c.stream, "gemm dequantised weights"));
    for (std::int64_t n0 = 0; n0 < n; n0 += band) {
        const std::int64_t rows = std::min(band, n - n0);
        dequantiseRows(wh, w, wFormat, n, n0, rows, k, c.stream);
        gemmEx(c, out + n0, n, wh, xh, CUDA_R_16BF, m, rows, k, beta);
    }
}

}  // namespace llava::cuda
