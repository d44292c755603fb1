// AVX2 + FMA + F16C building blocks of the CPU backend's fast paths (gemv, gemm, attention, element-wise): per-format
// "load 8 weights as fp32" traits, a horizontal sum and a vector exp. Everything here is always_inline and carries the
// same target attribute as its callers, so no __m256 ever crosses a function boundary with a different
// ABI (-Wpsabi). The binary stays portable: callers are chosen at run time (CpuIsa in cpukernels.h).
// Only included on x86-64 GCC/Clang builds (LLAVA_CPU_X86); other targets use the portable path only.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define LLAVA_CPU_X86 1

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"

#define LLAVA_AVX2 __attribute__((target("avx2,fma,f16c")))
#define LLAVA_AVX2_INLINE inline __attribute__((always_inline, target("avx2,fma,f16c")))
// For lambdas inside LLAVA_AVX2 functions: `[&](...) LLAVA_AVX2_INLINE_LAMBDA { ... }`.
#define LLAVA_AVX2_INLINE_LAMBDA __attribute__((always_inline, target("avx2,fma,f16c")))

namespace llava::cpu::simd {

LLAVA_AVX2_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// e^x for x in [-87, 88] (clamped outside): 2^n e^r with |r| <= ln2/2 and a degree-6 Taylor polynomial,
// relative error < 2e-7 (far below the 1e-4 + 1e-3|ref| parity budget). Used by softmax and the sigmoid
// activations.
LLAVA_AVX2_INLINE __m256 expClamped(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);  // ln2 split hi + lo
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    // n in [-126, 127]: 2^n is a normal float built from the exponent bits.
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

// e^x for x <= 0 (softmax after max subtraction); x < -87 gives exactly 0.
LLAVA_AVX2_INLINE __m256 expNonPositive(__m256 x) {
    const __m256 tooSmall = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    return _mm256_andnot_ps(tooSmall, expClamped(x));
}

// Element-wise weight loaders for the non-grouped formats. `row` points at the row's first element
// (for Q8 its int8 values); the per-row Q8 scale is applied by the caller after the dot product.
struct LoadF32 {
    static constexpr std::int64_t kBytes = 4;
    static LLAVA_AVX2_INLINE __m256 load8(const std::byte* row, std::int64_t k) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
    }
    static LLAVA_AVX2_INLINE float load1(const std::byte* row, std::int64_t k) {
        return reinterpret_cast<const float*>(row)[k];
    }
};
struct LoadF16 {
    static constexpr std::int64_t kBytes = 2;
    static LLAVA_AVX2_INLINE __m256 load8(const std::byte* row, std::int64_t k) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    }
    static LLAVA_AVX2_INLINE float load1(const std::byte* row, std::int64_t k) {
        return f16ToF32(reinterpret_cast<const std::uint16_t*>(row)[k]);
    }
};
struct LoadBF16 {
    static constexpr std::int64_t kBytes = 2;
    static LLAVA_AVX2_INLINE __m256 load8(const std::byte* row, std::int64_t k) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    static LLAVA_AVX2_INLINE float load1(const std::byte* row, std::int64_t k) {
        return bf16ToF32(reinterpret_cast<const std::uint16_t*>(row)[k]);
    }
};
struct LoadQ8 {
    static constexpr std::int64_t kBytes = 1;  // raw int8 values as fp32 (scale applied by the caller)
    static LLAVA_AVX2_INLINE __m256 load8(const std::byte* row, std::int64_t k) {
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + k))));
    }
    static LLAVA_AVX2_INLINE float load1(const std::byte* row, std::int64_t k) {
        return static_cast<float>(reinterpret_cast<const std::int8_t*>(row)[k]);
    }
};

// 32 Q4 values (16 packed bytes, low nibble = even column) as four vectors of 8 signed fp32 (q - 8),
// columns [0,8), [8,16), [16,24), [24,32) of the 32.
LLAVA_AVX2_INLINE void unpackQ4x32(const std::byte* p, __m256* w0, __m256* w1, __m256* w2, __m256* w3) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
    const __m128i a = _mm_sub_epi8(_mm_unpacklo_epi8(lo, hi), eight);  // columns 0..15
    const __m128i b = _mm_sub_epi8(_mm_unpackhi_epi8(lo, hi), eight);  // columns 16..31
    *w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a));
    *w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8)));
    *w2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    *w3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
}

inline float loadScale(const std::byte* p) {  // Q8 row scale (F32, possibly unaligned)
    float s;
    std::memcpy(&s, p, 4);
    return s;
}

}  // namespace llava::cpu::simd

#endif
