// Row-wise and element-wise kernels of the CPU backend (norms, residual add, activations): one fp32 pass over
// a row or a range, AVX2+FMA when the run-time ISA allows it, a plain loop otherwise. The backend (cpuops.cpp)
// splits large tensors over the thread pool; these functions are single-threaded and take raw pointers.
// Not here: rope, which stays a plain loop (cheap), and anything with a reduction over rows.
#include <cmath>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"

namespace llava::cpu {
namespace {

#ifdef LLAVA_CPU_X86
using namespace simd;

// x * sigmoid(alpha x) = x / (1 + e^(-alpha x)).
LLAVA_AVX2_INLINE __m256 xSigmoid(__m256 x, __m256 minusAlpha) {
    const __m256 e = expClamped(_mm256_mul_ps(x, minusAlpha));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

LLAVA_AVX2 void siluMulAvx2(float* out, const float* gate, const float* up, std::int64_t n) {
    const __m256 minusOne = _mm256_set1_ps(-1.0f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(xSigmoid(_mm256_loadu_ps(gate + i), minusOne), _mm256_loadu_ps(up + i)));
    for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

LLAVA_AVX2 void quickGeluAvx2(float* x, std::int64_t n) {
    const __m256 minusAlpha = _mm256_set1_ps(-1.702f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, xSigmoid(_mm256_loadu_ps(x + i), minusAlpha));
    for (; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-1.702f * x[i]));
}

// erf(x) for the projector's exact (erf) GELU: Abramowitz & Stegun 7.1.26 on |x|, sign restored:
// erf(a) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-a^2), t = 1 / (1 + p a); |error| <= 1.5e-7 in exact
// arithmetic; with fp32 arithmetic and expClamped the measured error against std::erf is stated and bounded
// in tests/engine/tst_gelu (a dense grid), far inside the 1e-4 + 1e-3|ref| parity budget.
LLAVA_AVX2_INLINE __m256 erfApprox(__m256 x) {
    const __m256 signBit = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_and_ps(x, signBit);
    const __m256 a = _mm256_andnot_ps(signBit, x);
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one));
    __m256 poly = _mm256_set1_ps(1.061405429f);
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
    poly = _mm256_mul_ps(poly, t);
    const __m256 e = expClamped(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
    return _mm256_or_ps(_mm256_fnmadd_ps(poly, e, one), sign);
}

LLAVA_AVX2 void geluAvx2(float* x, std::int64_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), rsqrt2 = _mm256_set1_ps(0.70710678118654752f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 cdf = _mm256_add_ps(one, erfApprox(_mm256_mul_ps(v, rsqrt2)));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), cdf));
    }
    for (; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

LLAVA_AVX2 void addAvx2(float* out, const float* a, const float* b, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; ++i) out[i] = a[i] + b[i];
}

// Sum of x[i] (shift = 0) or of (x[i] - shift)^2 (squares), four independent accumulators.
template <bool Squares>
LLAVA_AVX2_INLINE float rowSum(const float* x, std::int64_t d, float shift) {
    const __m256 sv = _mm256_set1_ps(shift);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::int64_t i = 0;
    for (; i + 32 <= d; i += 32) {
        const __m256 v0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), sv), v1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), sv);
        const __m256 v2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), sv), v3 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), sv);
        if constexpr (Squares) {
            a0 = _mm256_fmadd_ps(v0, v0, a0), a1 = _mm256_fmadd_ps(v1, v1, a1);
            a2 = _mm256_fmadd_ps(v2, v2, a2), a3 = _mm256_fmadd_ps(v3, v3, a3);
        } else {
            a0 = _mm256_add_ps(a0, v0), a1 = _mm256_add_ps(a1, v1), a2 = _mm256_add_ps(a2, v2), a3 = _mm256_add_ps(a3, v3);
        }
    }
    for (; i + 8 <= d; i += 8) {
        const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i), sv);
        a0 = Squares ? _mm256_fmadd_ps(v, v, a0) : _mm256_add_ps(a0, v);
    }
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < d; ++i) s += Squares ? (x[i] - shift) * (x[i] - shift) : x[i] - shift;
    return s;
}

LLAVA_AVX2 void rmsNormAvx2(float* out, const float* x, const float* w, std::int64_t d, float eps) {
    const float inv = 1.0f / std::sqrt(rowSum<true>(x, d, 0.0f) / static_cast<float>(d) + eps);
    const __m256 iv = _mm256_set1_ps(inv);
    std::int64_t i = 0;
    for (; i + 8 <= d; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), iv), _mm256_loadu_ps(w + i)));
    for (; i < d; ++i) out[i] = (x[i] * inv) * w[i];
}

LLAVA_AVX2 void layerNormAvx2(float* out, const float* x, const float* w, const float* b, std::int64_t d, float eps) {
    const float mean = rowSum<false>(x, d, 0.0f) / static_cast<float>(d);
    const float var = rowSum<true>(x, d, mean) / static_cast<float>(d);  // two-pass: no cancellation
    const float inv = 1.0f / std::sqrt(var + eps);
    const __m256 mv = _mm256_set1_ps(mean), iv = _mm256_set1_ps(inv);
    std::int64_t i = 0;
    for (; i + 8 <= d; i += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv), iv);
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(v, _mm256_loadu_ps(w + i), _mm256_loadu_ps(b + i)));
    }
    for (; i < d; ++i) out[i] = (x[i] - mean) * inv * w[i] + b[i];
}
#endif

}  // namespace

void siluMulRange(CpuIsa isa, float* out, const float* gate, const float* up, std::int64_t n) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return siluMulAvx2(out, gate, up, n);
#endif
    (void)isa;
    for (std::int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void quickGeluRange(CpuIsa isa, float* x, std::int64_t n) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return quickGeluAvx2(x, n);
#endif
    (void)isa;
    for (std::int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-1.702f * x[i]));
}

void geluRange(CpuIsa isa, float* x, std::int64_t n) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return geluAvx2(x, n);
#endif
    (void)isa;
    for (std::int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void addRange(CpuIsa isa, float* out, const float* a, const float* b, std::int64_t n) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return addAvx2(out, a, b, n);
#endif
    (void)isa;
    for (std::int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void rmsNormRow(CpuIsa isa, float* out, const float* x, const float* w, std::int64_t d, float eps) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return rmsNormAvx2(out, x, w, d, eps);
#endif
    (void)isa;
    const float inv = 1.0f / std::sqrt(dot(x, x, d) / static_cast<float>(d) + eps);
    for (std::int64_t i = 0; i < d; ++i) out[i] = (x[i] * inv) * w[i];
}

void layerNormRow(CpuIsa isa, float* out, const float* x, const float* w, const float* b, std::int64_t d, float eps) {
#ifdef LLAVA_CPU_X86
    if (isa == CpuIsa::Avx2) return layerNormAvx2(out, x, w, b, d, eps);
#endif
    (void)isa;
    double mean = 0;
    for (std::int64_t i = 0; i < d; ++i) mean += x[i];
    mean /= static_cast<double>(d);
    double var = 0;
    for (std::int64_t i = 0; i < d; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= static_cast<double>(d);
    const float m = static_cast<float>(mean), inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (std::int64_t i = 0; i < d; ++i) out[i] = (x[i] - m) * inv * w[i] + b[i];
}

}  // namespace llava::cpu
