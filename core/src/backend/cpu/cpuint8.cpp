// Integer-dot decode for Q8/Q4 weights (see cpuint8.h): the activation quantiser, the AVX2 kernels and
// their scalar reference. Parallelisation as cpugemv.cpp: each thread gets a contiguous range of weight rows
// (output columns) and walks R of them side by side, so every activation block loaded feeds R x M products.
// Q8: |w| (vpsignb w, w) times x with w's sign (vpsignb x, w) keeps vpmaddubsw's unsigned x signed operands
// exact (127 * 127 * 2 < 2^15); each 32-column block goes to int32 (vpmaddwd), fp32, times its scale. Q4: the
// nibbles stay unsigned (0..15), so the four vpmaddubsw of a 128-column group add up in int16
// (4 * 15 * 127 * 2 < 2^15) before one vpmaddwd; the -8 offset comes out with the block's code sum.
// Memory: one weight row is only 1-7 KiB, too short for the hardware prefetcher to get ahead of, so each
// kernel prefetches the same columns of the next R rows while working on these (measured on a 2-core Zen:
// 1.4-1.9x more bandwidth; docs/perf/).
#include "backend/cpu/cpuint8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/cpuclones.h"
#include "backend/cpu/cpugemvstore.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

namespace llava::cpu {

bool int8GemvApplies(CpuIsa isa, std::int64_t m, const WeightMatrix& w) {
#ifdef LLAVA_CPU_X86
    if (isa != CpuIsa::Avx2 || m < 1 || m > kGemvMaxRows) return false;
    return (w.format == StorageFormat::Q8PerChannel && w.cols % 32 == 0) ||
           (w.format == StorageFormat::Q4Group128 && w.cols % 128 == 0);
#else
    (void)isa, (void)m, (void)w;
    return false;
#endif
}

namespace {

// Column of the weight row for stored activation position p (Q4 order or natural).
std::int64_t columnOf(bool q4Order, std::int64_t p) {
    if (!q4Order) return p;
    const std::int64_t chunk = p / 64, within = p % 64;
    return chunk * 64 + (within < 32 ? 2 * within : 2 * (within - 32) + 1);
}

// One block of n (<= kInt8BlockQ4) activations in stored order -> codes, scale, code sum. Round to nearest even
// (std::nearbyint in the default rounding mode), which the AVX2 clone turns into vroundps.
LLAVA_CPU_CLONES
void quantiseBlock(const float* in, std::int64_t n, std::int8_t* codes, float* scale, std::int32_t* codeSum) {
    float amax = 0;
    bool finite = true;
    for (std::int64_t p = 0; p < n; ++p) {
        finite = finite && std::isfinite(in[p]);
        amax = std::max(amax, std::fabs(in[p]));
    }
    if (!finite) {  // the block's result must come out NaN, as the fp32 product would
        *scale = std::numeric_limits<float>::quiet_NaN();
        std::fill(codes, codes + n, std::int8_t{0});
        *codeSum = 0;
        return;
    }
    *scale = amax / 127.0f;
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    std::int32_t sum = 0;
    for (std::int64_t p = 0; p < n; ++p) {
        const float q = std::min(127.0f, std::max(-127.0f, std::nearbyint(in[p] * inv)));
        codes[p] = static_cast<std::int8_t>(q);
        sum += static_cast<std::int32_t>(q);
    }
    *codeSum = sum;
}

}  // namespace

void quantiseRowsInt8(const float* x, std::int64_t m, std::int64_t k, StorageFormat format, Int8Rows& out) {
    out.q4Order = format == StorageFormat::Q4Group128;
    out.blockCols = out.q4Order ? kInt8BlockQ4 : kInt8BlockQ8;
    const std::int64_t blocks = k / out.blockCols, n = out.blockCols;
    out.rows = m;
    out.cols = k;
    out.blocks = blocks;
    out.values.resize(static_cast<std::size_t>(m * k));
    out.scales.resize(static_cast<std::size_t>(m * blocks));
    out.codeSums.resize(static_cast<std::size_t>(m * blocks));
    float block[kInt8BlockQ4];  // a Q4 block's elements in stored order
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::int64_t p0 = b * n;
            if (out.q4Order)
                for (std::int64_t p = 0; p < n; ++p) block[p] = x[i * k + columnOf(true, p0 + p)];
            const std::size_t at = static_cast<std::size_t>(i * blocks + b);
            quantiseBlock(out.q4Order ? block : x + i * k + p0, n, out.values.data() + i * k + p0, &out.scales[at],
                          &out.codeSums[at]);
        }
}

void gemvInt8Reference(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate) {
    const std::int64_t k = xq.cols;
    for (std::int64_t i = 0; i < xq.rows; ++i)
        for (std::int64_t r = 0; r < w.rows; ++r) {
            double total = 0;
            for (std::int64_t b = 0; b < xq.blocks; ++b) {
                double blockSum = 0;  // sum of (weight code) x (activation code), exact in double
                for (std::int64_t p = b * xq.blockCols; p < (b + 1) * xq.blockCols; ++p) {
                    const std::int64_t col = columnOf(xq.q4Order, p);
                    double code;
                    if (w.format == StorageFormat::Q8PerChannel) {
                        code = static_cast<double>(reinterpret_cast<const std::int8_t*>(w.data)[r * k + col]);
                    } else {
                        const auto byte = static_cast<std::uint8_t>(w.data[r * (k / 2) + col / 2]);
                        code = static_cast<double>(((byte >> ((col & 1) * 4)) & 0xF) - 8);
                    }
                    blockSum += code * xq.values[static_cast<std::size_t>(i * k + p)];
                }
                double wScale;
                if (w.format == StorageFormat::Q8PerChannel) {
                    float f;
                    std::memcpy(&f, w.data + w.rows * k + r * 4, 4);
                    wScale = f;
                } else {  // block b is Q4 group b
                    wScale = loadScaleF16(w.data + w.rows * (k / 2) + (r * (k / 128) + b) * 2);
                }
                total += wScale * xq.scales[static_cast<std::size_t>(i * xq.blocks + b)] * blockSum;
            }
            float& o = out[i * w.rows + r];
            o = static_cast<float>((accumulate ? o : 0.0f) + (bias ? bias[r] : 0.0f) + total);
        }
}

#ifdef LLAVA_CPU_X86
namespace {

using namespace simd;

constexpr int rowsAtOnce(int m) { return m == 1 ? 4 : m == 2 ? 2 : 1; }

LLAVA_AVX2_INLINE __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// sums[mi * R + r] = sum_b xscale_b * (integer dot of 32-column block b), Q8 codes (the row scale is applied
// later).
template <int M, int R>
LLAVA_AVX2_INLINE void dotQ8(const std::int8_t* w, std::int64_t k, const Int8Rows& xq, float* sums) {
    const std::int8_t* x = xq.values.data();
    const float* xs = xq.scales.data();
    const std::int64_t ahead = R * k;  // the same columns of the next R rows
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < xq.blocks; ++b)
        for (int r = 0; r < R; ++r) {
            const std::int8_t* wp = w + r * k + b * 32;
            if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(wp + ahead), _MM_HINT_T0);  // one per 64 bytes
            const __m256i wv = load32(wp), absW = _mm256_sign_epi8(wv, wv);
            for (int mi = 0; mi < M; ++mi) {
                const __m256i xv = load32(x + mi * k + b * 32);
                const __m256i prod = _mm256_madd_epi16(_mm256_maddubs_epi16(absW, _mm256_sign_epi8(xv, wv)), ones);
                acc[mi][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(prod), _mm256_broadcast_ss(xs + mi * xq.blocks + b), acc[mi][r]);
            }
        }
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) sums[mi * R + r] = hsum(acc[mi][r]);
}

// scales[(mi * R + r) * groups + g] = activation scale (mi, g) x weight scale (r, g): the F16 weight scales
// converted 8 at a time, before the group loop (a scalar F16 conversion per row and group showed up in it).
template <int M, int R>
LLAVA_AVX2_INLINE void q4Scales(const std::byte* wScales, std::int64_t groups, const Int8Rows& xq, float* scales) {
    for (int r = 0; r < R; ++r) {
        const std::byte* ws = wScales + r * groups * 2;
        std::int64_t g = 0;
        for (; g + 8 <= groups; g += 8) {
            const __m256 w8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ws + g * 2)));
            for (int mi = 0; mi < M; ++mi)
                _mm256_storeu_ps(scales + (mi * R + r) * groups + g,
                                 _mm256_mul_ps(w8, _mm256_loadu_ps(xq.scales.data() + mi * groups + g)));
        }
        for (; g < groups; ++g)
            for (int mi = 0; mi < M; ++mi)
                scales[(mi * R + r) * groups + g] = loadScaleF16(ws + g * 2) * xq.scales[static_cast<std::size_t>(mi * groups + g)];
    }
}

// sums[mi * R + r] = full dot product with Q4 codes and group scales applied (group g = activation block g).
// `scales` holds M * R * groups floats.
template <int M, int R>
LLAVA_AVX2_INLINE void dotQ4(const std::uint8_t* w, const std::byte* wScales, std::int64_t k, const Int8Rows& xq,
                             float* scales, float* sums) {
    const std::int64_t groups = k / 128, rowBytes = k / 2, ahead = R * rowBytes;
    const std::int8_t* x = xq.values.data();
    const std::int32_t* codeSums = xq.codeSums.data();
    const __m256i ones = _mm256_set1_epi16(1), mask = _mm256_set1_epi8(0x0F);
    q4Scales<M, R>(wScales, groups, xq, scales);
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    for (std::int64_t g = 0; g < groups; ++g)
        for (int r = 0; r < R; ++r) {
            const std::uint8_t* wp = w + r * rowBytes + g * 64;
            _mm_prefetch(reinterpret_cast<const char*>(wp + ahead), _MM_HINT_T0);
            const __m256i b0 = load32(wp), b1 = load32(wp + 32);
            const __m256i even0 = _mm256_and_si256(b0, mask), odd0 = _mm256_and_si256(_mm256_srli_epi16(b0, 4), mask);
            const __m256i even1 = _mm256_and_si256(b1, mask), odd1 = _mm256_and_si256(_mm256_srli_epi16(b1, 4), mask);
            for (int mi = 0; mi < M; ++mi) {
                const std::int8_t* xp = x + mi * k + g * 128;
                __m256i s16 = _mm256_maddubs_epi16(even0, load32(xp));
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(odd0, load32(xp + 32)));
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(even1, load32(xp + 64)));
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(odd1, load32(xp + 96)));
                // 8 lanes, each less the code sum: together less 8 x the code sum, the -8 offset of every nibble.
                const __m256i s32 = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones), _mm256_set1_epi32(codeSums[mi * groups + g]));
                acc[mi][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_broadcast_ss(scales + (mi * R + r) * groups + g),
                                             acc[mi][r]);
            }
        }
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) sums[mi * R + r] = hsum(acc[mi][r]);
}

template <int M, int R>
LLAVA_AVX2_INLINE void rowsAt(const GemvEpilogue& e, const Int8Rows& xq, const WeightMatrix& w, std::int64_t r, float* scales,
                              float* sums) {
    const std::int64_t k = w.cols;
    if (w.format == StorageFormat::Q8PerChannel)
        dotQ8<M, R>(reinterpret_cast<const std::int8_t*>(w.data) + r * k, k, xq, sums);
    else
        dotQ4<M, R>(reinterpret_cast<const std::uint8_t*>(w.data) + r * (k / 2), w.data + w.rows * (k / 2) + r * (k / 128) * 2,
                    k, xq, scales, sums);
    storeGemvRows(e, w, M, R, r, sums);
}

template <int M>
LLAVA_AVX2 void gemvRange(const GemvEpilogue& e, const Int8Rows& xq, const WeightMatrix& w, std::int64_t r0, std::int64_t r1,
                          float* scales) {
    constexpr int R = rowsAtOnce(M);
    float sums[M * R];
    std::int64_t r = r0;
    for (; r + R <= r1; r += R) rowsAt<M, R>(e, xq, w, r, scales, sums);
    for (; r < r1; ++r) rowsAt<M, 1>(e, xq, w, r, scales, sums);
}

}  // namespace

void gemvInt8Avx2(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate,
                  std::int64_t r0, std::int64_t r1) {
    const GemvEpilogue e{out, w.rows, bias, accumulate};
    // (M * R <= 4, groups) combined Q4 scales of the rows in hand; 4 * 128 groups covers K <= 16384 on the stack.
    constexpr std::int64_t kStackGroups = 128;
    float stackScales[4 * kStackGroups];
    std::vector<float> heapScales;
    float* scales = stackScales;
    if (w.cols / 128 > kStackGroups) {
        heapScales.resize(static_cast<std::size_t>(4 * (w.cols / 128)));
        scales = heapScales.data();
    }
    switch (xq.rows) {
    case 1: gemvRange<1>(e, xq, w, r0, r1, scales); return;
    case 2: gemvRange<2>(e, xq, w, r0, r1, scales); return;
    case 3: gemvRange<3>(e, xq, w, r0, r1, scales); return;
    default: gemvRange<4>(e, xq, w, r0, r1, scales); return;
    }
}
#endif

}  // namespace llava::cpu
