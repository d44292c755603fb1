// Integer-dot decode for Q8/Q4 weights (see cpuint8.h): the activation quantiser, the AVX2 kernels and
// their scalar reference. Parallelisation as cpugemv.cpp: each thread gets a contiguous range of weight rows
// (output columns) and walks R of them side by side, so every activation block loaded feeds R x M products.
// Q8: |w| (vpsignb w, w) times x with w's sign (vpsignb x, w) keeps vpmaddubsw's unsigned x signed operands
// exact (127 * 127 * 2 < 2^15). Q4: the nibbles stay unsigned (0..15) and the -8 offset is taken out once per
// group with the precomputed activation sums (15 * 127 * 2 < 2^15).
#include "backend/cpu/cpuint8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu/cpugemvstore.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

namespace llava::cpu {

bool int8GemvApplies(CpuIsa isa, std::int64_t m, const WeightMatrix& w) {
#ifdef LLAVA_CPU_X86
    if (isa != CpuIsa::Avx2 || m < 1 || m > kGemvMaxRows) return false;
    return (w.format == StorageFormat::Q8PerChannel && w.cols % kInt8Block == 0) ||
           (w.format == StorageFormat::Q4Group128 && w.cols % 128 == 0);
#else
    (void)isa, (void)m, (void)w;
    return false;
#endif
}

void quantiseRowsInt8(const float* x, std::int64_t m, std::int64_t k, StorageFormat format, Int8Rows& out) {
    const std::int64_t blocks = k / kInt8Block;
    out.rows = m;
    out.cols = k;
    out.q4Order = format == StorageFormat::Q4Group128;
    out.values.resize(static_cast<std::size_t>(m * k));
    out.scales.resize(static_cast<std::size_t>(m * blocks));
    out.groupSums.assign(static_cast<std::size_t>(m * (k / 128)), 0.0f);
    float block[kInt8Block];  // (32) the block's elements in stored order
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t b = 0; b < blocks; ++b) {
            for (std::int64_t p = 0; p < kInt8Block; ++p) {
                std::int64_t col = b * kInt8Block + p;
                if (out.q4Order) {  // block b is the even (b even) or odd (b odd) half of 64 columns
                    const std::int64_t chunk = b / 2, odd = b % 2;
                    col = chunk * 64 + 2 * p + odd;
                }
                block[p] = x[i * k + col];
            }
            float amax = 0;
            bool finite = true;
            for (float v : block) {
                finite = finite && std::isfinite(v);
                amax = std::max(amax, std::fabs(v));
            }
            std::int8_t* q = out.values.data() + i * k + b * kInt8Block;
            float scale = amax / 127.0f;
            int sum = 0;
            if (!finite) {  // the block's result must come out NaN, as the fp32 product would
                scale = std::numeric_limits<float>::quiet_NaN();
                std::fill(q, q + kInt8Block, std::int8_t{0});
            } else {
                const float inv = scale > 0 ? 1.0f / scale : 0.0f;
                for (std::int64_t p = 0; p < kInt8Block; ++p) {
                    q[p] = static_cast<std::int8_t>(std::clamp(std::lround(block[p] * inv), -127L, 127L));
                    sum += q[p];
                }
            }
            out.scales[static_cast<std::size_t>(i * blocks + b)] = scale;
            if (out.q4Order)
                out.groupSums[static_cast<std::size_t>(i * (k / 128) + b / 4)] += scale * static_cast<float>(sum);
        }
}

namespace {

// Column of weight row element for stored activation position p (Q4 order or natural).
std::int64_t columnOf(const Int8Rows& xq, std::int64_t p) {
    if (!xq.q4Order) return p;
    const std::int64_t chunk = p / 64, within = p % 64;
    return chunk * 64 + (within < 32 ? 2 * within : 2 * (within - 32) + 1);
}

}  // namespace

void gemvInt8Reference(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate) {
    const std::int64_t k = xq.cols, blocks = k / kInt8Block;
    for (std::int64_t i = 0; i < xq.rows; ++i)
        for (std::int64_t r = 0; r < w.rows; ++r) {
            double total = 0;
            for (std::int64_t b = 0; b < blocks; ++b) {
                double blockSum = 0;  // sum of (weight code) x (activation code), exact in double
                for (std::int64_t p = b * kInt8Block; p < (b + 1) * kInt8Block; ++p) {
                    const std::int64_t col = columnOf(xq, p);
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
                } else {
                    wScale = loadScaleF16(w.data + w.rows * (k / 2) + (r * (k / 128) + b / 4) * 2);
                }
                total += wScale * xq.scales[static_cast<std::size_t>(i * blocks + b)] * blockSum;
            }
            float& o = out[i * w.rows + r];
            o = static_cast<float>((accumulate ? o : 0.0f) + (bias ? bias[r] : 0.0f) + total);
        }
}

#ifdef LLAVA_CPU_X86
namespace {

using namespace simd;

constexpr int rowsAtOnce(int m) { return m == 1 ? 4 : m == 2 ? 2 : 1; }

// sums[mi * R + r] = sum_b xscale_b * (int dot of block b), Q8 codes (row scale not applied).
template <int M, int R>
LLAVA_AVX2_INLINE void dotQ8(const std::int8_t* w, std::int64_t k, const Int8Rows& xq, float* sums) {
    const std::int64_t blocks = k / kInt8Block;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < blocks; ++b)
        for (int r = 0; r < R; ++r) {
            const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * k + b * kInt8Block));
            const __m256i absW = _mm256_sign_epi8(wv, wv);
            for (int mi = 0; mi < M; ++mi) {
                const __m256i xv =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq.values.data() + mi * k + b * kInt8Block));
                const __m256i prod = _mm256_madd_epi16(_mm256_maddubs_epi16(absW, _mm256_sign_epi8(xv, wv)), ones);
                acc[mi][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(prod),
                                             _mm256_broadcast_ss(xq.scales.data() + mi * blocks + b), acc[mi][r]);
            }
        }
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) sums[mi * R + r] = hsum(acc[mi][r]);
}

// sums[mi * R + r] = full dot product with Q4 codes and group scales applied.
template <int M, int R>
LLAVA_AVX2_INLINE void dotQ4(const std::uint8_t* w, const std::byte* wScales, std::int64_t k, const Int8Rows& xq,
                             float* sums) {
    const std::int64_t groups = k / 128, blocks = k / kInt8Block, rowBytes = k / 2;
    const __m256i ones = _mm256_set1_epi16(1), mask = _mm256_set1_epi8(0x0F);
    __m256 acc[M][R];
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) acc[mi][r] = _mm256_setzero_ps();
    for (std::int64_t g = 0; g < groups; ++g) {
        __m256 part[M][R];  // 8 lanes of -groupSum: their sum is the -8 offset of the codes
        for (int mi = 0; mi < M; ++mi)
            for (int r = 0; r < R; ++r) part[mi][r] = _mm256_set1_ps(-xq.groupSums[static_cast<std::size_t>(mi * groups + g)]);
        for (int h = 0; h < 2; ++h)  // two 64-column chunks
            for (int r = 0; r < R; ++r) {
                const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * rowBytes + g * 64 + h * 32));
                const __m256i even = _mm256_and_si256(bytes, mask);
                const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
                for (int mi = 0; mi < M; ++mi) {
                    const std::int8_t* xp = xq.values.data() + mi * k + g * 128 + h * 64;
                    const float* xs = xq.scales.data() + mi * blocks + g * 4 + h * 2;
                    const __m256i pe = _mm256_madd_epi16(
                        _mm256_maddubs_epi16(even, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp))), ones);
                    const __m256i po = _mm256_madd_epi16(
                        _mm256_maddubs_epi16(odd, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp + 32))), ones);
                    part[mi][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pe), _mm256_broadcast_ss(xs), part[mi][r]);
                    part[mi][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(po), _mm256_broadcast_ss(xs + 1), part[mi][r]);
                }
            }
        for (int r = 0; r < R; ++r) {
            const __m256 ws = _mm256_set1_ps(loadScaleF16(wScales + (r * groups + g) * 2));
            for (int mi = 0; mi < M; ++mi) acc[mi][r] = _mm256_fmadd_ps(part[mi][r], ws, acc[mi][r]);
        }
    }
    for (int mi = 0; mi < M; ++mi)
        for (int r = 0; r < R; ++r) sums[mi * R + r] = hsum(acc[mi][r]);
}


template <int M, int R>
LLAVA_AVX2_INLINE void rowsAt(const GemvEpilogue& e, const Int8Rows& xq, const WeightMatrix& w, std::int64_t r, float* sums) {
    const std::int64_t k = w.cols;
    if (w.format == StorageFormat::Q8PerChannel)
        dotQ8<M, R>(reinterpret_cast<const std::int8_t*>(w.data) + r * k, k, xq, sums);
    else
        dotQ4<M, R>(reinterpret_cast<const std::uint8_t*>(w.data) + r * (k / 2), w.data + w.rows * (k / 2) + r * (k / 128) * 2,
                    k, xq, sums);
    storeGemvRows(e, w, M, R, r, sums);
}

template <int M>
LLAVA_AVX2 void gemvRange(const GemvEpilogue& e, const Int8Rows& xq, const WeightMatrix& w, std::int64_t r0, std::int64_t r1) {
    constexpr int R = rowsAtOnce(M);
    float sums[M * R];
    std::int64_t r = r0;
    for (; r + R <= r1; r += R) rowsAt<M, R>(e, xq, w, r, sums);
    for (; r < r1; ++r) rowsAt<M, 1>(e, xq, w, r, sums);
}

}  // namespace

void gemvInt8Avx2(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate,
                  std::int64_t r0, std::int64_t r1) {
    const GemvEpilogue e{out, w.rows, bias, accumulate};
    switch (xq.rows) {
    case 1: gemvRange<1>(e, xq, w, r0, r1); return;
    case 2: gemvRange<2>(e, xq, w, r0, r1); return;
    case 3: gemvRange<3>(e, xq, w, r0, r1); return;
    default: gemvRange<4>(e, xq, w, r0, r1); return;
    }
}
#endif

}  // namespace llava::cpu
