// Matrix-matrix product for prefill and CLIP (M > kGemvMaxRows rows of x) with AVX2+FMA:
// out (M, N) (=|+=) x (M, K) · wᵀ + bias, w (N, K) in any storage format.
// Blocking (BLIS-style): a thread owns whole blocks of kGemmBlockN = 64 output columns (= weight rows).
// For each K-slice of kGemmSliceK = 256, the block's 64 weight rows are decoded to fp32 once and packed
// k-major in 4 micro-panels of 16 columns ([sub][k][16], 64 KiB, stays in L2), then each micro-panel (16 KiB,
// stays in L1) meets blocks of 96 rows of x (streamed from L2) through the 6x16 register micro-kernel:
// 12 accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 ymm registers.
// Not here: M <= kGemvMaxRows (cpugemv.cpp), the portable fallback (cpumatmul.cpp).
#include "backend/cpu/cpusimd.h"

#ifdef LLAVA_CPU_X86

#include <algorithm>

namespace llava::cpu {
namespace {

using namespace simd;

constexpr int kMr = 6, kNr = 16;
constexpr std::int64_t kGemmBlockM = 96;  // rows of x per pass over a micro-panel (16 strips)
constexpr std::int64_t kSubStride = kGemmSliceK * kNr;  // floats per packed micro-panel

// Accumulators are named values, not an array: GCC kept `__m256 c[MR]` in memory and stored every
// accumulator back to the stack after each FMA (half the kernel's time). With one value per register
// the loop body is 2 loads + MR broadcasts + 2*MR FMAs.
#define LLAVA_GEMM_ROW(i)                                          \
    if constexpr (MR > i) {                                        \
        const __m256 a = _mm256_broadcast_ss(x##i + k);            \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                 \
        c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                 \
    }
#define LLAVA_GEMM_STORE(i)                                                                  \
    if constexpr (MR > i) addTile(out + i * ldo, c##i##0, c##i##1, ncols);

// out[0, ncols) += [lo | hi] (16 floats).
LLAVA_AVX2_INLINE void addTile(float* out, __m256 lo, __m256 hi, std::int64_t ncols) {
    if (ncols == kNr) {
        _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), lo));
        _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_loadu_ps(out + 8), hi));
        return;
    }
    alignas(32) float tile[kNr];
    _mm256_store_ps(tile, lo);
    _mm256_store_ps(tile + 8, hi);
    for (std::int64_t j = 0; j < ncols; ++j) out[j] += tile[j];
}

// out (MR, ncols) += x (MR, kk; row stride ldx) · panel (kk, 16). ncols <= 16.
template <int MR>
LLAVA_AVX2_INLINE void microKernel(const float* x, std::int64_t ldx, const float* panel, std::int64_t kk, float* out,
                                   std::int64_t ldo, std::int64_t ncols) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero;
    __m256 c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero;
    const float* x0 = x;
    const float* x1 = x0 + (MR > 1 ? ldx : 0);
    const float* x2 = x1 + (MR > 2 ? ldx : 0);
    const float* x3 = x2 + (MR > 3 ? ldx : 0);
    const float* x4 = x3 + (MR > 4 ? ldx : 0);
    const float* x5 = x4 + (MR > 5 ? ldx : 0);
#pragma GCC unroll 4
    for (std::int64_t k = 0; k < kk; ++k) {
        const __m256 b0 = _mm256_loadu_ps(panel + k * kNr), b1 = _mm256_loadu_ps(panel + k * kNr + 8);
        LLAVA_GEMM_ROW(0)
        LLAVA_GEMM_ROW(1)
        LLAVA_GEMM_ROW(2)
        LLAVA_GEMM_ROW(3)
        LLAVA_GEMM_ROW(4)
        LLAVA_GEMM_ROW(5)
    }
    LLAVA_GEMM_STORE(0)
    LLAVA_GEMM_STORE(1)
    LLAVA_GEMM_STORE(2)
    LLAVA_GEMM_STORE(3)
    LLAVA_GEMM_STORE(4)
    LLAVA_GEMM_STORE(5)
}
#undef LLAVA_GEMM_ROW
#undef LLAVA_GEMM_STORE

// out (rows, ncols) += x (rows, kk) · one packed micro-panel (kk, 16): 6-row strips, then a 1..5-row tail.
LLAVA_AVX2 void rowsTimesPanel(const float* x, std::int64_t ldx, std::int64_t rows, const float* panel, std::int64_t kk,
                               float* out, std::int64_t ldo, std::int64_t ncols) {
    std::int64_t i = 0;
    for (; i + kMr <= rows; i += kMr) microKernel<kMr>(x + i * ldx, ldx, panel, kk, out + i * ldo, ldo, ncols);
    x += i * ldx;
    out += i * ldo;
    switch (rows - i) {
    case 1: microKernel<1>(x, ldx, panel, kk, out, ldo, ncols); break;
    case 2: microKernel<2>(x, ldx, panel, kk, out, ldo, ncols); break;
    case 3: microKernel<3>(x, ldx, panel, kk, out, ldo, ncols); break;
    case 4: microKernel<4>(x, ldx, panel, kk, out, ldo, ncols); break;
    case 5: microKernel<5>(x, ldx, panel, kk, out, ldo, ncols); break;
    default: break;
    }
}

// In-register 8x8 transpose: r[j] = row j (8 columns) -> r[c] = column c (8 rows).
LLAVA_AVX2_INLINE void transpose8x8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Rows [0, nn) of the pack for float formats, 8 rows x 8 columns at a time: 8 converting loads, one
// transpose, 8 vector stores (instead of a decoded row buffer and 16 KiB of scalar strided stores).
// PRECONDITION: nn % 8 == 0, kk % 8 == 0.
template <typename Load>
LLAVA_AVX2 void packFloatRows(const WeightMatrix& w, std::int64_t n0, std::int64_t nn, std::int64_t k0, std::int64_t kk,
                              float* pack) {
    const std::size_t rowBytes = storageBytes(w.format, 1, w.cols);
    for (std::int64_t r8 = 0; r8 < nn; r8 += 8) {
        const std::byte* row0 = w.data + static_cast<std::size_t>(n0 + r8) * rowBytes;
        float* dst = pack + (r8 / kNr) * kSubStride + (r8 % kNr);
        for (std::int64_t k = 0; k < kk; k += 8) {
            __m256 v[8];
            for (int j = 0; j < 8; ++j) v[j] = Load::load8(row0 + j * rowBytes, k0 + k);
            transpose8x8(v);
            for (int c = 0; c < 8; ++c) _mm256_storeu_ps(dst + (k + c) * kNr, v[c]);
        }
    }
}

// pack[sub][k][c] = w row (n0 + sub*16 + c), column k0 + k, as fp32; rows past N are zero.
void packBlock(const WeightMatrix& w, std::int64_t n0, std::int64_t nn, std::int64_t k0, std::int64_t kk, float* pack,
               float* rowTmp) {
    const std::int64_t padded = (nn + kNr - 1) / kNr * kNr;
    std::int64_t r = 0;
    if (nn % 8 == 0 && kk % 8 == 0) {
        r = nn;
        switch (w.format) {
        case StorageFormat::F32: packFloatRows<LoadF32>(w, n0, nn, k0, kk, pack); break;
        case StorageFormat::F16: packFloatRows<LoadF16>(w, n0, nn, k0, kk, pack); break;
        case StorageFormat::BF16: packFloatRows<LoadBF16>(w, n0, nn, k0, kk, pack); break;
        default: r = 0; break;  // quantised: decoded row by row below
        }
    }
    for (; r < padded; ++r) {
        float* dst = pack + (r / kNr) * kSubStride + (r % kNr);
        if (r < nn) {
            decodeRowAvx2(w, n0 + r, k0, kk, rowTmp);
            for (std::int64_t k = 0; k < kk; ++k) dst[k * kNr] = rowTmp[k];
        } else {
            for (std::int64_t k = 0; k < kk; ++k) dst[k * kNr] = 0.0f;
        }
    }
}

}  // namespace

void gemmAvx2Blocks(float* out, const float* x, std::int64_t m, const WeightMatrix& w, const float* bias,
                    bool accumulate, std::int64_t b0, std::int64_t b1, float* pack) {
    const std::int64_t n = w.rows, kTotal = w.cols;
    float* rowTmp = pack + kGemmBlockN * kGemmSliceK;
    for (std::int64_t b = b0; b < b1; ++b) {
        const std::int64_t n0 = b * kGemmBlockN, nn = std::min(kGemmBlockN, n - n0);
        initOutputBlock(out, m, n, n0, nn, bias, accumulate);
        for (std::int64_t k0 = 0; k0 < kTotal; k0 += kGemmSliceK) {
            const std::int64_t kk = std::min(kGemmSliceK, kTotal - k0);
            packBlock(w, n0, nn, k0, kk, pack, rowTmp);
            const float* xs = x + k0;
            float* os = out + n0;
            // BLIS order: one 16 KiB micro-panel stays in L1 while a block of kGemmBlockM rows of x (96 KiB
            // at kk = 256, in L2) streams past it; the 64-column pack (64 KiB) stays in L2 for the next block.
            for (std::int64_t i0 = 0; i0 < m; i0 += kGemmBlockM) {
                const std::int64_t rows = std::min(kGemmBlockM, m - i0);
                for (std::int64_t s = 0; s * kNr < nn; ++s)
                    rowsTimesPanel(xs + i0 * kTotal, kTotal, rows, pack + s * kSubStride, kk, os + i0 * n + s * kNr, n,
                                   std::min<std::int64_t>(kNr, nn - s * kNr));
            }
        }
    }
}

}  // namespace llava::cpu

#endif  // LLAVA_CPU_X86
