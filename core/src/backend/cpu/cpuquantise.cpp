// Weight quantisers of the CPU backend (load time): Q8 per output channel and Q4 in groups of 128 with
// F16 scales, in the layouts of tensor.h. The CUDA backend's quantise.cu uses the same arithmetic, so the
// bytes match. Rounding is half away from zero (std::lround). A portable row/group routine and an AVX2 one
// (quantisation speed sets the first start-up with q8/q4) compute the same bytes: tst_quantise compares them.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

#define LLAVA_QUANT_INLINE inline __attribute__((always_inline))

namespace llava::cpu {
namespace {

// std::lround(x) for |x| < 2^23, as float: x - trunc(x) is exact there, so the half-way test is exact.
LLAVA_QUANT_INLINE float roundHalfAway(float x) {
    const float t = std::trunc(x);
    return t + (std::fabs(x - t) >= 0.5f ? std::copysign(1.0f, x) : 0.0f);
}

// max |v[i]| over n elements (NaN ignored, as std::max(a, NaN) = a), in 8 independent lanes.
LLAVA_QUANT_INLINE float absMax(const float* v, std::int64_t n) {
    float lane[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) lane[j] = std::max(lane[j], std::fabs(v[i + j]));
    float m = 0;
    for (float l : lane) m = std::max(m, l);
    for (std::int64_t t = n - n % 8; t < n; ++t) m = std::max(m, std::fabs(v[t]));
    return m;
}

void quantiseRowQ8Portable(const float* src, std::int64_t cols, std::int8_t* q, float* scaleOut) {
    const float amax = absMax(src, cols);
    const float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
    for (std::int64_t c = 0; c < cols; ++c)
        q[c] = static_cast<std::int8_t>(roundHalfAway(std::clamp(src[c] * inv, -127.0f, 127.0f)));
    *scaleOut = scale;
}

// The F16 scale of a group whose largest magnitude is amax, and the inverse the codes are computed with. The
// scale is stored as F16 and the codes use the rounded scale, so that dequantisation reproduces exactly what
// was chosen here (65504: the largest finite F16).
std::uint16_t q4Scale(float amax, float* inv) {
    const std::uint16_t scale16 = f32ToF16(std::min(amax / 7.0f, 65504.0f));
    const float scale = f16ToF32(scale16);
    *inv = scale > 0 ? 1.0f / scale : 0.0f;
    return scale16;
}

void quantiseGroupQ4Portable(const float* s, std::uint8_t* q, std::uint16_t* scaleOut) {
    float inv;
    *scaleOut = q4Scale(absMax(s, 128), &inv);
    for (int i = 0; i < 64; ++i) {  // byte i: low nibble = column 2i, high nibble = column 2i + 1
        const float lo = std::clamp(roundHalfAway(s[2 * i] * inv), -8.0f, 7.0f) + 8.0f;
        const float hi = std::clamp(roundHalfAway(s[2 * i + 1] * inv), -8.0f, 7.0f) + 8.0f;
        q[i] = static_cast<std::uint8_t>(static_cast<int>(lo) | (static_cast<int>(hi) << 4));
    }
}

#ifdef LLAVA_CPU_X86
using namespace simd;

LLAVA_AVX2_INLINE float absMaxAvx2(const float* v, std::int64_t n) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(signBit, _mm256_loadu_ps(v + i)), m);  // NaN -> m
    alignas(32) float lane[8];
    _mm256_store_ps(lane, m);
    float r = 0;
    for (float l : lane) r = std::max(r, l);
    for (std::int64_t t = n - n % 8; t < n; ++t) r = std::max(r, std::fabs(v[t]));
    return r;
}

// roundHalfAway on 8 lanes, as int32.
LLAVA_AVX2_INLINE __m256i roundHalfAwayAvx2(__m256 x) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 half = _mm256_cmp_ps(_mm256_andnot_ps(signBit, _mm256_sub_ps(x, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_and_ps(half, _mm256_or_ps(_mm256_and_ps(x, signBit), _mm256_set1_ps(1.0f)));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

// 32 int32 lanes (4 vectors, values fit int8) -> 32 bytes in order.
LLAVA_AVX2_INLINE __m256i packBytes(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

LLAVA_AVX2 void quantiseRowQ8Avx2(const float* src, std::int64_t cols, std::int8_t* q, float* scaleOut) {
    const float amax = absMaxAvx2(src, cols);
    const float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
    const __m256 vInv = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    auto code8 = [&](std::int64_t c) LLAVA_AVX2_INLINE_LAMBDA {
        return roundHalfAwayAvx2(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(src + c), vInv), lo), hi));
    };
    std::int64_t c = 0;
    for (; c + 32 <= cols; c += 32)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + c), packBytes(code8(c), code8(c + 8), code8(c + 16), code8(c + 24)));
    for (; c < cols; ++c) q[c] = static_cast<std::int8_t>(roundHalfAway(std::clamp(src[c] * inv, -127.0f, 127.0f)));
    *scaleOut = scale;
}

LLAVA_AVX2 void quantiseGroupQ4Avx2(const float* s, std::uint8_t* q, std::uint16_t* scaleOut) {
    float inv;
    *scaleOut = q4Scale(absMaxAvx2(s, 128), &inv);
    const __m256 vInv = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-8.0f), hi = _mm256_set1_ps(7.0f);
    const __m256i eight = _mm256_set1_epi32(8);
    auto code8 = [&](int c) LLAVA_AVX2_INLINE_LAMBDA {  // 0..15
        const __m256 r = _mm256_cvtepi32_ps(roundHalfAwayAvx2(_mm256_mul_ps(_mm256_loadu_ps(s + c), vInv)));
        return _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi)), eight);
    };
    for (int c = 0; c < 128; c += 64) {
        // 64 codes in column order, one per byte; then byte pairs (even, odd column) -> one byte each.
        const __m256i b0 = packBytes(code8(c), code8(c + 8), code8(c + 16), code8(c + 24));
        const __m256i b1 = packBytes(code8(c + 32), code8(c + 40), code8(c + 48), code8(c + 56));
        auto nibbles = [](__m256i b) LLAVA_AVX2_INLINE_LAMBDA {  // 16-bit lane = even | odd << 8 -> even | odd << 4
            return _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi16(0x0F)), _mm256_srli_epi16(b, 4));
        };
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(nibbles(b0), nibbles(b1)), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + c / 2), packed);
    }
}
#endif

bool useAvx2() {
#ifdef LLAVA_CPU_X86
    return detectCpuIsa() == CpuIsa::Avx2;
#else
    return false;
#endif
}

}  // namespace

void quantiseQ8(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst) {
    auto* q = reinterpret_cast<std::int8_t*>(dst);
    const bool avx2 = useAvx2();
    for (std::int64_t r = 0; r < rows; ++r) {
        float scale;
#ifdef LLAVA_CPU_X86
        if (avx2) quantiseRowQ8Avx2(src + r * cols, cols, q + r * cols, &scale);
        else
#endif
            quantiseRowQ8Portable(src + r * cols, cols, q + r * cols, &scale);
        std::memcpy(dst + rows * cols + r * 4, &scale, 4);
    }
}

void quantiseQ4(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst) {
    auto* q = reinterpret_cast<std::uint8_t*>(dst);
    std::byte* scales = dst + rows * (cols / 2);
    const bool avx2 = useAvx2();
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t g = 0; g < cols / 128; ++g) {
            std::uint16_t scale16;
            const float* s = src + r * cols + g * 128;
            std::uint8_t* qg = q + r * (cols / 2) + g * 64;
#ifdef LLAVA_CPU_X86
            if (avx2) quantiseGroupQ4Avx2(s, qg, &scale16);
            else
#endif
                quantiseGroupQ4Portable(s, qg, &scale16);
            std::memcpy(scales + (r * (cols / 128) + g) * 2, &scale16, 2);
        }
}

}  // namespace llava::cpu
