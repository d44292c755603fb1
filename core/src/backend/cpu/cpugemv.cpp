// Matrix-vector products for decode (M = 1..kGemvMaxRows activation rows) with AVX2+FMA+F16C, and the
// AVX2 row decoder the GEMM packs panels with. Decode is bound by memory bandwidth, so every weight byte is
// read exactly once and converted in registers (F16 via F16C, BF16 by a 16-bit shift, Q8/Q4 by integer
// unpacking) straight into fp32 FMA accumulators; per-row (Q8) or per-group (Q4) scales are applied to
// partial sums, never to each weight. The M activation rows (M x K floats) stay in L1.
// Parallelisation: the caller hands each thread one contiguous range of weight rows (= output columns);
// inside it, R rows are walked side by side so each activation load feeds R x M independent FMA chains.
// Not here: the portable fallback (cpumatmul.cpp) and M > kGemvMaxRows (cpugemm.cpp).
#include "backend/cpu/cpugemvstore.h"
#include "backend/cpu/cpusimd.h"

#ifdef LLAVA_CPU_X86

#include <type_traits>

namespace llava::cpu {
namespace {

using namespace simd;

// sums[mi * R + r] = dot(x row mi, weight row r) for R rows given by pointers (scales not applied). Each
// 64-byte line of a row is prefetched `ahead` bytes early (the next R rows: a row is too short for the
// hardware prefetcher to get ahead of; see cpuint8.cpp).
template <class L, int M, int R>
LLAVA_AVX2_INLINE void dotRows(const std::byte* const* rows, const float* x, std::int64_t k, std::int64_t ahead,
                               float* sums) {
    constexpr std::int64_t perLine = 64 / L::kBytes;  // elements per cache line: 16 or 32
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    auto step = [&](std::int64_t i) LLAVA_AVX2_INLINE_LAMBDA {
        __m256 wv[R];
        for (int r = 0; r < R; ++r) wv[r] = L::load8(rows[r], i);
        for (int mi = 0; mi < M; ++mi) {
            const __m256 xv = _mm256_loadu_ps(x + mi * k + i);
            for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_fmadd_ps(xv, wv[r], acc[mi][r]);
        }
    };
    std::int64_t i = 0;
    for (; i + perLine <= k; i += perLine) {
        for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(rows[r] + i * L::kBytes + ahead), _MM_HINT_T0);
        for (std::int64_t j = 0; j < perLine; j += 8) step(i + j);
    }
    for (; i + 8 <= k; i += 8) step(i);
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) {
            float s = hsum(acc[mi][r]);
            for (std::int64_t t = i; t < k; ++t) s += x[mi * k + t] * L::load1(rows[r], t);
            sums[mi * R + r] = s;
        }
}

// Q4Group128: per 128-column group, a partial sum per (row, x row) that is scaled once into the total.
template <int M, int R>
LLAVA_AVX2_INLINE void dotRowsQ4(const std::byte* q, const std::byte* scales, std::int64_t k, const float* x,
                                 float* sums) {
    const std::int64_t groups = k / 128, rowBytes = k / 2;
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    for (std::int64_t g = 0; g < groups; ++g) {
        __m256 part[M][R];
        for (int mi = 0; mi < M; ++mi)
            for (int r = 0; r < R; ++r) part[mi][r] = _mm256_setzero_ps();
        for (int c = 0; c < 4; ++c) {  // 4 chunks of 32 columns
            const std::int64_t col = g * 128 + c * 32;
            for (int r = 0; r < R; ++r) {
                __m256 w0, w1, w2, w3;
                unpackQ4x32(q + r * rowBytes + col / 2, &w0, &w1, &w2, &w3);
                for (int mi = 0; mi < M; ++mi) {
                    const float* xr = x + mi * k + col;
                    __m256 p = _mm256_fmadd_ps(_mm256_loadu_ps(xr), w0, part[mi][r]);
                    p = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 8), w1, p);
                    p = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 16), w2, p);
                    part[mi][r] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 24), w3, p);
                }
            }
        }
        for (int r = 0; r < R; ++r) {
            const __m256 s = _mm256_set1_ps(loadScaleF16(scales + (r * groups + g) * 2));
            for (int mi = 0; mi < M; ++mi) acc[mi][r] = _mm256_fmadd_ps(part[mi][r], s, acc[mi][r]);
        }
    }
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) sums[mi * R + r] = hsum(acc[mi][r]);
}


constexpr int rowsAtOnce(int m) { return m == 1 ? 4 : m == 2 ? 2 : 1; }

template <class L, int M>
LLAVA_AVX2 void gemvRange(const GemvEpilogue& e, const float* x, const WeightMatrix& w, std::int64_t elemBytes,
                          std::int64_t r0, std::int64_t r1) {
    constexpr int R = rowsAtOnce(M);
    const std::int64_t k = w.cols, rowBytes = k * elemBytes;
    float sums[M * R];
    std::int64_t r = r0;
    for (; r + R <= r1; r += R) {
        const std::byte* rows[R];
        for (int j = 0; j < R; ++j) rows[j] = w.data + (r + j) * rowBytes;
        dotRows<L, M, R>(rows, x, k, R * rowBytes, sums);
        storeGemvRows(e, w, M, R, r, sums);
    }
    for (; r < r1; ++r) {
        const std::byte* row = w.data + r * rowBytes;
        dotRows<L, M, 1>(&row, x, k, rowBytes, sums);
        storeGemvRows(e, w, M, 1, r, sums);
    }
}

template <int M>
LLAVA_AVX2 void gemvRangeQ4(const GemvEpilogue& e, const float* x, const WeightMatrix& w, std::int64_t r0, std::int64_t r1) {
    constexpr int R = rowsAtOnce(M);
    const std::int64_t k = w.cols, groups = k / 128;
    const std::byte* scales = w.data + w.rows * (k / 2);
    float sums[M * R];
    std::int64_t r = r0;
    for (; r + R <= r1; r += R) {
        dotRowsQ4<M, R>(w.data + r * (k / 2), scales + r * groups * 2, k, x, sums);
        storeGemvRows(e, w, M, R, r, sums);
    }
    for (; r < r1; ++r) {
        dotRowsQ4<M, 1>(w.data + r * (k / 2), scales + r * groups * 2, k, x, sums);
        storeGemvRows(e, w, M, 1, r, sums);
    }
}

template <int M>
void gemvFixedM(const GemvEpilogue& e, const float* x, const WeightMatrix& w, std::int64_t r0, std::int64_t r1) {
    switch (w.format) {
    case StorageFormat::F32: gemvRange<LoadF32, M>(e, x, w, 4, r0, r1); return;
    case StorageFormat::F16: gemvRange<LoadF16, M>(e, x, w, 2, r0, r1); return;
    case StorageFormat::BF16: gemvRange<LoadBF16, M>(e, x, w, 2, r0, r1); return;
    case StorageFormat::Q8PerChannel: gemvRange<LoadQ8, M>(e, x, w, 1, r0, r1); return;
    case StorageFormat::Q4Group128: gemvRangeQ4<M>(e, x, w, r0, r1); return;
    case StorageFormat::I32: return;
    }
}

template <class L>
LLAVA_AVX2 void convertRow(const std::byte* row, std::int64_t k0, std::int64_t n, float scale, float* out) {
    const __m256 s = _mm256_set1_ps(scale);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(L::load8(row, k0 + i), s));
    for (; i < n; ++i) out[i] = L::load1(row, k0 + i) * scale;
}

LLAVA_AVX2 void convertRowQ4(const std::byte* q, const std::byte* scales, std::int64_t k0, std::int64_t n, float* out) {
    for (std::int64_t i = 0; i < n; i += 32) {
        const std::int64_t col = k0 + i;
        const __m256 s = _mm256_set1_ps(loadScaleF16(scales + (col / 128) * 2));
        __m256 w0, w1, w2, w3;
        unpackQ4x32(q + col / 2, &w0, &w1, &w2, &w3);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(w0, s));
        _mm256_storeu_ps(out + i + 8, _mm256_mul_ps(w1, s));
        _mm256_storeu_ps(out + i + 16, _mm256_mul_ps(w2, s));
        _mm256_storeu_ps(out + i + 24, _mm256_mul_ps(w3, s));
    }
}

}  // namespace

void gemvAvx2(float* out, const float* x, std::int64_t m, const WeightMatrix& w, const float* bias, bool accumulate,
              std::int64_t r0, std::int64_t r1) {
    const GemvEpilogue e{out, w.rows, bias, accumulate};
    switch (m) {
    case 1: gemvFixedM<1>(e, x, w, r0, r1); return;
    case 2: gemvFixedM<2>(e, x, w, r0, r1); return;
    case 3: gemvFixedM<3>(e, x, w, r0, r1); return;
    default: gemvFixedM<4>(e, x, w, r0, r1); return;
    }
}

void decodeRowAvx2(const WeightMatrix& w, std::int64_t row, std::int64_t k0, std::int64_t n, float* out) {
    const std::int64_t k = w.cols;
    switch (w.format) {
    case StorageFormat::F32: std::memcpy(out, w.data + (row * k + k0) * 4, static_cast<std::size_t>(n) * 4); return;
    case StorageFormat::F16: convertRow<LoadF16>(w.data + row * k * 2, k0, n, 1.0f, out); return;
    case StorageFormat::BF16: convertRow<LoadBF16>(w.data + row * k * 2, k0, n, 1.0f, out); return;
    case StorageFormat::Q8PerChannel:
        convertRow<LoadQ8>(w.data + row * k, k0, n, loadScale(w.data + w.rows * k + row * 4), out);
        return;
    case StorageFormat::Q4Group128:
        convertRowQ4(w.data + row * (k / 2), w.data + w.rows * (k / 2) + row * (k / 128) * 2, k0, n, out);
        return;
    case StorageFormat::I32: return;
    }
}

}  // namespace llava::cpu

#endif  // LLAVA_CPU_X86
