// Blocked (flash-style) CPU attention for many query rows (prefill chunks, CLIP tiles), AVX2 + FMA.
// The row-at-a-time kernel (cpuattention.cpp) streams a head's whole K and V once per query row: at ~3 k
// keys that is 3 MiB per row, from L3 or memory. Here a tile of kTileQ query rows of one head walks the keys
// in blocks of kTileK: the block's K and V (kTileK x headDim floats each, 64 KiB at headDim 64 and 128 KiB at
// 128) are loaded into L2 once and used by all kTileQ rows, with an online softmax (running max m and sum l
// per row; when the max grows, the partial output and sum are rescaled by e^(m_old - m_new)), so scores never
// need the full key row. Scores: 2 query rows x 4 keys per register block; p.v: 2 rows x 32 output floats.
// F16 keys/values (a 16-bit KV cache) are widened block by block (F16C) into the thread's scratch, once per tile of
// kTileQ rows, so the inner loops are the F32 ones.
// Result: softmax(q kᵀ scale) v as in the reference up to fp32 rounding (tst_cpubackend attentionShapes).
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpuattentiontiled.h"
#include "backend/cpu/cpusimd.h"

#ifdef LLAVA_CPU_X86

namespace llava::cpu {
namespace {

using namespace simd;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// One tile: rows [row0, row0 + rows) of head `head`.
struct Tile {
    const float* q;        // row i of the tile at q + i * qStride
    const std::byte* k;    // key j at k + j * kvStride elements of kvFormat
    const std::byte* v;
    StorageFormat kvFormat;  // F32 | F16
    float* out;            // row i at out + i * qStride
    std::int64_t qStride, kvStride;
    std::int64_t visible[kTileQ];  // keys row i may see
    int rows, headDim;
    float scale;
};

// s[i][j] = q_i . k_j * scale for 2 query rows and 4 keys (PRECONDITION: headDim % 8 == 0).
LLAVA_AVX2_INLINE void scores2x4(const float* q0, const float* q1, const float* k, std::int64_t kvStride, int hd,
                                 float scale, float* s0, float* s1) {
    __m256 a[2][4];
    for (auto& row : a)
        for (auto& x : row) x = _mm256_setzero_ps();
    for (int d = 0; d < hd; d += 8) {
        const __m256 qa = _mm256_loadu_ps(q0 + d), qb = _mm256_loadu_ps(q1 + d);
        for (int c = 0; c < 4; ++c) {
            const __m256 kv = _mm256_loadu_ps(k + c * kvStride + d);
            a[0][c] = _mm256_fmadd_ps(qa, kv, a[0][c]);
            a[1][c] = _mm256_fmadd_ps(qb, kv, a[1][c]);
        }
    }
    for (int r = 0; r < 2; ++r) {
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a[r][0], a[r][1]), _mm256_hadd_ps(a[r][2], a[r][3]));
        const __m128 s = _mm_mul_ps(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)), _mm_set1_ps(scale));
        _mm_storeu_ps(r == 0 ? s0 : s1, s);
    }
}

LLAVA_AVX2_INLINE float dotScaled(const float* a, const float* b, int hd, float scale) {
    __m256 acc = _mm256_setzero_ps();
    for (int d = 0; d < hd; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), acc);
    return hsum(acc) * scale;
}

// o_r[d0, d0 + 8C) += sum_j p_r[j] v_j[d0, d0 + 8C) for R (1 or 2) rows, keys [0, n).
template <int R, int C>
LLAVA_AVX2_INLINE void accumulatePV(float* const* o, const float* const* p, const float* v, std::int64_t kvStride,
                                    std::int64_t n, int d0) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_loadu_ps(o[r] + d0 + c * 8);
    for (std::int64_t j = 0; j < n; ++j) {
        const float* vRow = v + j * kvStride + d0;
        __m256 pv[R];
        for (int r = 0; r < R; ++r) pv[r] = _mm256_broadcast_ss(p[r] + j);
        for (int c = 0; c < C; ++c) {
            const __m256 x = _mm256_loadu_ps(vRow + c * 8);
            for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(pv[r], x, acc[r][c]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) _mm256_storeu_ps(o[r] + d0 + c * 8, acc[r][c]);
}

template <int R>
LLAVA_AVX2_INLINE void accumulatePVRows(float* const* o, const float* const* p, const float* v, std::int64_t kvStride,
                                        std::int64_t n, int hd) {
    int d0 = 0;
    for (; d0 + 32 <= hd; d0 += 32) accumulatePV<R, 4>(o, p, v, kvStride, n, d0);
    switch ((hd - d0) / 8) {
    case 3: accumulatePV<R, 3>(o, p, v, kvStride, n, d0); break;
    case 2: accumulatePV<R, 2>(o, p, v, kvStride, n, d0); break;
    case 1: accumulatePV<R, 1>(o, p, v, kvStride, n, d0); break;
    default: break;
    }
}

// rows [0, n) of an F16 (n, headDim) slice with row stride `stride` elements -> dst (n, headDim) fp32, contiguous.
LLAVA_AVX2_INLINE void widenBlock(const std::byte* src, std::int64_t stride, std::int64_t n, int hd, float* dst) {
    for (std::int64_t j = 0; j < n; ++j) {
        const std::byte* row = src + j * stride * 2;
        for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + j * hd + d, LoadF16::load8(row, d));
    }
}

// `work` holds kTileQ * kTileK scores and kTileQ * headDim partial outputs, and for an F16 K/V the widened
// block, 2 x kTileK * headDim (tiledAttentionScratchFloats).
LLAVA_AVX2 void runTile(const Tile& t, float* work) {
    const int hd = t.headDim;
    float* scores = work;                  // (kTileQ, kTileK)
    float* acc = work + kTileQ * kTileK;   // (kTileQ, headDim) unnormalised output
    float* kWide = acc + kTileQ * hd;      // (kTileK, headDim) F16 K block as fp32
    float* vWide = kWide + kTileK * hd;    // (kTileK, headDim) F16 V block as fp32
    const bool f16 = t.kvFormat == StorageFormat::F16;
    const std::int64_t blockStride = f16 ? hd : t.kvStride;  // elements between keys in kBlock / vBlock
    float maxSeen[kTileQ], sum[kTileQ];
    bool nonFinite[kTileQ];  // a NaN/Inf score: the row's output is NaN, as the exact softmax would give
    std::int64_t keys = 0;
    for (int i = 0; i < t.rows; ++i) {
        maxSeen[i] = kNegInf;
        sum[i] = 0;
        nonFinite[i] = false;
        keys = std::max(keys, t.visible[i]);
        std::fill(acc + i * hd, acc + (i + 1) * hd, 0.0f);
    }
    for (std::int64_t j0 = 0; j0 < keys; j0 += kTileK) {
        const std::int64_t n = std::min(kTileK, keys - j0);
        const float* kBlock = kWide;
        const float* vBlock = vWide;
        if (f16) {
            widenBlock(t.k + j0 * t.kvStride * 2, t.kvStride, n, hd, kWide);
            widenBlock(t.v + j0 * t.kvStride * 2, t.kvStride, n, hd, vWide);
        } else {
            kBlock = reinterpret_cast<const float*>(t.k) + j0 * t.kvStride;
            vBlock = reinterpret_cast<const float*>(t.v) + j0 * t.kvStride;
        }
        // Scores of every row against the block (masked keys: -inf).
        int i = 0;
        for (; i + 2 <= t.rows; i += 2) {
            std::int64_t j = 0;
            for (; j + 4 <= n; j += 4)
                scores2x4(t.q + i * t.qStride, t.q + (i + 1) * t.qStride, kBlock + j * blockStride, blockStride, hd, t.scale,
                          scores + i * kTileK + j, scores + (i + 1) * kTileK + j);
            for (; j < n; ++j)
                for (int r = i; r < i + 2; ++r)
                    scores[r * kTileK + j] = dotScaled(t.q + r * t.qStride, kBlock + j * blockStride, hd, t.scale);
        }
        for (; i < t.rows; ++i)
            for (std::int64_t j = 0; j < n; ++j)
                scores[i * kTileK + j] = dotScaled(t.q + i * t.qStride, kBlock + j * blockStride, hd, t.scale);
        // Online softmax: new max, rescale what was accumulated, scores -> e^(s - max).
        for (i = 0; i < t.rows; ++i) {
            float* s = scores + i * kTileK;
            const std::int64_t seen = std::clamp<std::int64_t>(t.visible[i] - j0, 0, n);
            std::fill(s + seen, s + n, kNegInf);
            float blockMax = kNegInf;
            // std::max drops NaN (and the vector exp clamps it), so non-finite scores are caught here.
            for (std::int64_t j = 0; j < seen; ++j) {
                nonFinite[i] = nonFinite[i] || !std::isfinite(s[j]);
                blockMax = std::max(blockMax, s[j]);
            }
            const float newMax = std::max(maxSeen[i], blockMax);
            if (newMax == kNegInf) {  // nothing visible yet: keep zeros
                std::fill(s, s + n, 0.0f);
                continue;
            }
            const float rescale = maxSeen[i] == kNegInf ? 0.0f : std::exp(maxSeen[i] - newMax);
            maxSeen[i] = newMax;
            const __m256 mv = _mm256_set1_ps(newMax);
            __m256 sv = _mm256_setzero_ps();
            std::int64_t j = 0;
            for (; j + 8 <= n; j += 8) {
                const __m256 e = expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
                _mm256_storeu_ps(s + j, e);
                sv = _mm256_add_ps(sv, e);
            }
            float blockSum = hsum(sv);
            for (; j < n; ++j) blockSum += (s[j] = s[j] == kNegInf ? 0.0f : std::exp(s[j] - newMax));
            sum[i] = sum[i] * rescale + blockSum;
            if (rescale != 1.0f) {
                const __m256 rv = _mm256_set1_ps(rescale);
                for (int d = 0; d < hd; d += 8)
                    _mm256_storeu_ps(acc + i * hd + d, _mm256_mul_ps(_mm256_loadu_ps(acc + i * hd + d), rv));
            }
        }
        // acc += p . v over the block.
        for (i = 0; i + 2 <= t.rows; i += 2) {
            float* o[2] = {acc + i * hd, acc + (i + 1) * hd};
            const float* p[2] = {scores + i * kTileK, scores + (i + 1) * kTileK};
            accumulatePVRows<2>(o, p, vBlock, blockStride, n, hd);
        }
        for (; i < t.rows; ++i) {
            float* o[1] = {acc + i * hd};
            const float* p[1] = {scores + i * kTileK};
            accumulatePVRows<1>(o, p, vBlock, blockStride, n, hd);
        }
    }
    for (int i = 0; i < t.rows; ++i) {  // no visible key: zeros (backend.h)
        const float inv = nonFinite[i] ? std::numeric_limits<float>::quiet_NaN() : sum[i] > 0 ? 1.0f / sum[i] : 0.0f;
        for (int d = 0; d < hd; ++d) t.out[i * t.qStride + d] = acc[i * hd + d] * inv;
    }
}

}  // namespace

bool tiledAttentionApplies(CpuIsa isa, const AttentionShape& s) {
    return isa == CpuIsa::Avx2 && s.headDim % 8 == 0 && s.nQueries >= kTiledAttentionMinRows;
}

std::size_t tiledAttentionScratchFloats(const AttentionShape& s, bool f16Kv) {
    const std::int64_t hd = s.headDim;
    return static_cast<std::size_t>(kTileQ * kTileK + kTileQ * hd + (f16Kv ? 2 * kTileK * hd : 0));
}

void attentionTiledAvx2(ThreadPool& pool, Scratch& scratch, float* out, const float* q, const KvRows& k, const KvRows& v,
                        const AttentionShape& s) {
    const bool f16 = k.format == StorageFormat::F16;
    const std::int64_t elementBytes = f16 ? 2 : 4;
    const std::int64_t qWidth = static_cast<std::int64_t>(s.nHeads) * s.headDim;
    const std::int64_t kvWidth = static_cast<std::int64_t>(s.nKvHeads) * s.headDim;
    const int group = s.nHeads / s.nKvHeads;
    const std::int64_t tiles = (s.nQueries + kTileQ - 1) / kTileQ;
    for (int t = 0; t < pool.size(); ++t) scratch.get(t, tiledAttentionScratchFloats(s, f16));  // grow before going parallel
    pool.parallelFor(tiles * s.nHeads, 1, [&](std::int64_t begin, std::int64_t end, int thread) {
        float* work = scratch.perThread[static_cast<std::size_t>(thread)].data();
        for (std::int64_t item = begin; item < end; ++item) {
            // Head-major, as the row kernel: consecutive items share one head's K/V.
            const int head = static_cast<int>(item / tiles);
            const std::int64_t row0 = (item % tiles) * kTileQ;
            Tile t;
            t.rows = static_cast<int>(std::min(kTileQ, s.nQueries - row0));
            t.q = q + row0 * qWidth + head * s.headDim;
            t.k = k.data + (head / group) * s.headDim * elementBytes;
            t.v = v.data + (head / group) * s.headDim * elementBytes;
            t.kvFormat = k.format;
            t.out = out + row0 * qWidth + head * s.headDim;
            t.qStride = qWidth;
            t.kvStride = kvWidth;
            t.headDim = s.headDim;
            t.scale = s.scale;
            for (int i = 0; i < t.rows; ++i)
                t.visible[i] = s.causal ? std::min<std::int64_t>(s.nKeys, s.nPast + row0 + i + 1) : s.nKeys;
            runTile(t, work);
        }
    });
}

}  // namespace llava::cpu

#endif  // LLAVA_CPU_X86
