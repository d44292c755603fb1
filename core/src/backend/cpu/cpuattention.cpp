// CPU attention: out = softmax(q kᵀ · scale [+ causal mask]) v per head, fp32 arithmetic throughout.
// Parallelisation on AVX2 when there are at least as many (query row, kv head) pairs as threads (decode, short
// passes): one work item per pair, covering every q head of that kv head's GQA group, so the kv head's keys and
// values are read once for the group (attentionGroupAvx2). Otherwise one work item per (head, query row),
// head-major. Each thread keeps its score rows (nKeys floats per head) in its own scratch.
// GQA: q head h reads kv head h / (nHeads / nKvHeads).
// Keys and values are F32 or F16 (a 16-bit KV cache): F16 elements are widened in registers as they are read
// (F16C on AVX2, f16ToF32 on the portable path), so an F16 cache moves half the bytes per decoded token.
// AVX2 path (headDim % 8 == 0): four keys per pass for the scores, a vectorised exp, and the output row
// held in registers (64 floats at a time) while p·v is accumulated over all keys. Portable path otherwise.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backend/cpu/cpuattentiontiled.h"
#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

namespace llava::cpu {
namespace {

// What one query row reads of one kv head: both kernels (one q head, or a group of q heads) start here.
struct KvHeadScan {
    const std::byte* k;    // the kv head's slice of key j at k + j * rowBytes, (headDim) elements of the K/V format
    const std::byte* v;    // value j at v + j * rowBytes
    std::int64_t rowBytes, visible;
    int headDim;
    float scale;
    float* scores;         // (visible) scratch, (heads, visible) for a group
};

// Causal: query `row` sees keys [0, nPast + row]; else all nKeys.
KvHeadScan kvHeadScan(const KvRows& k, const KvRows& v, const AttentionShape& s, int kvHead, std::int64_t row, float* scores) {
    const std::int64_t elementBytes = k.format == StorageFormat::F16 ? 2 : 4;
    KvHeadScan h;
    h.k = k.data + kvHead * s.headDim * elementBytes;
    h.v = v.data + kvHead * s.headDim * elementBytes;
    h.rowBytes = static_cast<std::int64_t>(s.nKvHeads) * s.headDim * elementBytes;
    h.visible = s.causal ? std::min<std::int64_t>(s.nKeys, s.nPast + row + 1) : s.nKeys;
    h.headDim = s.headDim;
    h.scale = s.scale;
    h.scores = scores;
    return h;
}

struct RowTask : KvHeadScan {
    const float* q;        // (headDim)
    float* out;            // (headDim)
};

// Element d of a K/V row as fp32 (portable path).
struct ScalarF32 {
    static float at(const std::byte* row, int d) { return reinterpret_cast<const float*>(row)[d]; }
};
struct ScalarF16 {
    static float at(const std::byte* row, int d) { return f16ToF32(reinterpret_cast<const std::uint16_t*>(row)[d]); }
};

template <typename S>
void attentionRowPortable(const RowTask& t) {
    float maxScore = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < t.visible; ++j) {
        const std::byte* kRow = t.k + j * t.rowBytes;
        float acc = 0;
        if constexpr (std::is_same_v<S, ScalarF32>) {
            acc = dot(t.q, reinterpret_cast<const float*>(kRow), t.headDim);
        } else {
            for (int d = 0; d < t.headDim; ++d) acc += t.q[d] * S::at(kRow, d);
        }
        t.scores[j] = acc * t.scale;
        maxScore = std::max(maxScore, t.scores[j]);
    }
    float sum = 0;
    for (std::int64_t j = 0; j < t.visible; ++j) {
        t.scores[j] = std::exp(t.scores[j] - maxScore);
        sum += t.scores[j];
    }
    const float inv = 1.0f / sum;
    std::fill(t.out, t.out + t.headDim, 0.0f);
    for (std::int64_t j = 0; j < t.visible; ++j) {
        const float p = t.scores[j] * inv;
        const std::byte* vRow = t.v + j * t.rowBytes;
        for (int d = 0; d < t.headDim; ++d) t.out[d] += p * S::at(vRow, d);
    }
}

#ifdef LLAVA_CPU_X86
using namespace simd;

// L: LoadF32 or LoadF16 (cpusimd.h), 8 K/V elements as fp32.
template <typename L>
LLAVA_AVX2_INLINE float dot8(const float* a, const std::byte* b, int n) {
    __m256 acc = _mm256_mul_ps(_mm256_loadu_ps(a), L::load8(b, 0));
    for (int d = 8; d < n; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), L::load8(b, d), acc);
    return hsum(acc);
}

// out[d0, d0 + 8C) = inv * sum_j p_j v_j[d0, d0 + 8C), C vectors held in registers over all keys. C is a
// template argument so the key loop carries no per-vector width tests (they cost a third of the loop).
template <typename L, int C>
LLAVA_AVX2_INLINE void accumulatePV(const RowTask& t, int d0, float inv) {
    __m256 o[C];
    for (int c = 0; c < C; ++c) o[c] = _mm256_setzero_ps();
    for (std::int64_t j = 0; j < t.visible; ++j) {
        const __m256 p = _mm256_set1_ps(t.scores[j]);
        const std::byte* vRow = t.v + j * t.rowBytes;
        for (int c = 0; c < C; ++c) o[c] = _mm256_fmadd_ps(p, L::load8(vRow, d0 + c * 8), o[c]);
    }
    const __m256 iv = _mm256_set1_ps(inv);
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(t.out + d0 + c * 8, _mm256_mul_ps(o[c], iv));
}

// PRECONDITION: headDim % 8 == 0.
template <typename L>
LLAVA_AVX2 void attentionRowAvx2(const RowTask& t) {
    const int hd = t.headDim;
    std::int64_t j = 0;
    __m128 max4 = _mm_set1_ps(-std::numeric_limits<float>::infinity());
    for (; j + 4 <= t.visible; j += 4) {  // four keys per pass: four independent FMA chains
        const std::byte* k0 = t.k + j * t.rowBytes;
        const std::byte* k1 = k0 + t.rowBytes;
        const std::byte* k2 = k1 + t.rowBytes;
        const std::byte* k3 = k2 + t.rowBytes;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < hd; d += 8) {
            const __m256 qv = _mm256_loadu_ps(t.q + d);
            a0 = _mm256_fmadd_ps(qv, L::load8(k0, d), a0);
            a1 = _mm256_fmadd_ps(qv, L::load8(k1, d), a1);
            a2 = _mm256_fmadd_ps(qv, L::load8(k2, d), a2);
            a3 = _mm256_fmadd_ps(qv, L::load8(k3, d), a3);
        }
        // Transpose-reduce the four accumulators to [s0, s1, s2, s3].
        const __m256 h01 = _mm256_hadd_ps(a0, a1), h23 = _mm256_hadd_ps(a2, a3);
        const __m256 h = _mm256_hadd_ps(h01, h23);
        const __m128 s = _mm_mul_ps(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)),
                                    _mm_set1_ps(t.scale));
        _mm_storeu_ps(t.scores + j, s);
        max4 = _mm_max_ps(max4, s);
    }
    max4 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
    float maxScore = _mm_cvtss_f32(_mm_max_ss(max4, _mm_movehdup_ps(max4)));
    for (; j < t.visible; ++j) {
        t.scores[j] = dot8<L>(t.q, t.k + j * t.rowBytes, hd) * t.scale;
        maxScore = std::max(maxScore, t.scores[j]);
    }
    const __m256 mv = _mm256_set1_ps(maxScore);
    __m256 sumV = _mm256_setzero_ps();
    j = 0;
    for (; j + 8 <= t.visible; j += 8) {
        const __m256 e = expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(t.scores + j), mv));
        _mm256_storeu_ps(t.scores + j, e);
        sumV = _mm256_add_ps(sumV, e);
    }
    float sum = hsum(sumV);
    for (; j < t.visible; ++j) sum += (t.scores[j] = std::exp(t.scores[j] - maxScore));
    const float inv = 1.0f / sum;
    for (int d0 = 0; d0 < hd; d0 += 64) {  // output slice of up to 64 floats in registers
        switch (std::min(64, hd - d0) / 8) {
        case 8: accumulatePV<L, 8>(t, d0, inv); break;
        case 7: accumulatePV<L, 7>(t, d0, inv); break;
        case 6: accumulatePV<L, 6>(t, d0, inv); break;
        case 5: accumulatePV<L, 5>(t, d0, inv); break;
        case 4: accumulatePV<L, 4>(t, d0, inv); break;
        case 3: accumulatePV<L, 3>(t, d0, inv); break;
        case 2: accumulatePV<L, 2>(t, d0, inv); break;
        default: accumulatePV<L, 1>(t, d0, inv); break;
        }
    }
}

// The query heads that share one kv head (GQA), one query row: what a decode step runs. Reading the kv head's keys
// and values once for all of them instead of once per head matters because consecutive keys of one head sit a
// whole cache row apart (Mistral-7B: 4 KiB as F32), so every key is a cache and TLB miss the prefetchers do not
// cover. Same arithmetic, in the same order, as attentionRowAvx2 per head (bit-identical results).
constexpr int kMaxGroupHeads = 16;      // q heads per task (larger groups are split)
constexpr std::int64_t kPvBlock = 64;   // keys whose values stay in L1 while every head of the group uses them

struct GroupTask : KvHeadScan {
    const float* q;        // head g at q + g * headDim
    int heads;             // <= kMaxGroupHeads
    float* out;            // head g at out + g * headDim
};

// out[d0, d0 + 8C) += sum_j p[j] v_j[d0, d0 + 8C) over keys [0, n) of a block.
template <typename L, int C>
LLAVA_AVX2_INLINE void accumulatePVBlock(const std::byte* v, std::int64_t rowBytes, const float* p, std::int64_t n,
                                         float* out, int d0) {
    __m256 o[C];
    for (int c = 0; c < C; ++c) o[c] = _mm256_loadu_ps(out + d0 + c * 8);
    for (std::int64_t j = 0; j < n; ++j) {
        const __m256 pj = _mm256_set1_ps(p[j]);
        const std::byte* vRow = v + j * rowBytes;
        for (int c = 0; c < C; ++c) o[c] = _mm256_fmadd_ps(pj, L::load8(vRow, d0 + c * 8), o[c]);
    }
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + d0 + c * 8, o[c]);
}

// PRECONDITION: headDim % 8 == 0, visible > 0.
template <typename L>
LLAVA_AVX2 void attentionGroupAvx2(const GroupTask& t) {
    const int hd = t.headDim;
    const std::int64_t n = t.visible;
    float maxScore[kMaxGroupHeads], inv[kMaxGroupHeads];
    for (int g = 0; g < t.heads; ++g) maxScore[g] = -std::numeric_limits<float>::infinity();
    std::int64_t j = 0;
    for (; j + 4 <= n; j += 4) {  // four keys per pass, read from memory once, from L1 for the other heads
        const std::byte* k0 = t.k + j * t.rowBytes;
        const std::byte* k1 = k0 + t.rowBytes;
        const std::byte* k2 = k1 + t.rowBytes;
        const std::byte* k3 = k2 + t.rowBytes;
        for (int g = 0; g < t.heads; ++g) {
            const float* q = t.q + g * hd;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < hd; d += 8) {
                const __m256 qv = _mm256_loadu_ps(q + d);
                a0 = _mm256_fmadd_ps(qv, L::load8(k0, d), a0);
                a1 = _mm256_fmadd_ps(qv, L::load8(k1, d), a1);
                a2 = _mm256_fmadd_ps(qv, L::load8(k2, d), a2);
                a3 = _mm256_fmadd_ps(qv, L::load8(k3, d), a3);
            }
            const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
            const __m128 s = _mm_mul_ps(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)),
                                        _mm_set1_ps(t.scale));
            _mm_storeu_ps(t.scores + g * n + j, s);
            __m128 m4 = _mm_max_ps(s, _mm_movehl_ps(s, s));
            maxScore[g] = std::max(maxScore[g], _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4))));
        }
    }
    for (; j < n; ++j)
        for (int g = 0; g < t.heads; ++g) {
            const float s = dot8<L>(t.q + g * hd, t.k + j * t.rowBytes, hd) * t.scale;
            t.scores[g * n + j] = s;
            maxScore[g] = std::max(maxScore[g], s);
        }
    for (int g = 0; g < t.heads; ++g) {  // softmax numerators and 1 / sum, as attentionRowAvx2
        float* sc = t.scores + g * n;
        const __m256 mv = _mm256_set1_ps(maxScore[g]);
        __m256 sumV = _mm256_setzero_ps();
        std::int64_t e = 0;
        for (; e + 8 <= n; e += 8) {
            const __m256 x = expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(sc + e), mv));
            _mm256_storeu_ps(sc + e, x);
            sumV = _mm256_add_ps(sumV, x);
        }
        float sum = hsum(sumV);
        for (; e < n; ++e) sum += (sc[e] = std::exp(sc[e] - maxScore[g]));
        inv[g] = 1.0f / sum;
        std::fill(t.out + g * hd, t.out + (g + 1) * hd, 0.0f);
    }
    for (std::int64_t j0 = 0; j0 < n; j0 += kPvBlock) {
        const std::int64_t m = std::min(kPvBlock, n - j0);
        const std::byte* vBlock = t.v + j0 * t.rowBytes;
        for (int g = 0; g < t.heads; ++g) {
            const float* p = t.scores + g * n + j0;
            float* o = t.out + g * hd;
            for (int d0 = 0; d0 < hd; d0 += 64) {
                switch (std::min(64, hd - d0) / 8) {
                case 8: accumulatePVBlock<L, 8>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 7: accumulatePVBlock<L, 7>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 6: accumulatePVBlock<L, 6>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 5: accumulatePVBlock<L, 5>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 4: accumulatePVBlock<L, 4>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 3: accumulatePVBlock<L, 3>(vBlock, t.rowBytes, p, m, o, d0); break;
                case 2: accumulatePVBlock<L, 2>(vBlock, t.rowBytes, p, m, o, d0); break;
                default: accumulatePVBlock<L, 1>(vBlock, t.rowBytes, p, m, o, d0); break;
                }
            }
        }
    }
    for (int g = 0; g < t.heads; ++g) {
        const __m256 iv = _mm256_set1_ps(inv[g]);
        float* o = t.out + g * hd;
        for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(o + d, _mm256_mul_ps(_mm256_loadu_ps(o + d), iv));
    }
}

// Decode and short passes on AVX2: one task per (query row, kv head, chunk of <= kMaxGroupHeads q heads).
void attentionGroupedAvx2(ThreadPool& pool, Scratch& scratch, float* out, const float* q, const KvRows& k, const KvRows& v,
                          const AttentionShape& s) {
    const std::int64_t qWidth = static_cast<std::int64_t>(s.nHeads) * s.headDim;
    const int group = s.nHeads / s.nKvHeads, chunkHeads = std::min(group, kMaxGroupHeads);
    const int chunks = (group + chunkHeads - 1) / chunkHeads;
    for (int t = 0; t < pool.size(); ++t) scratch.get(t, static_cast<std::size_t>(chunkHeads * s.nKeys));
    pool.parallelFor(s.nQueries * s.nKvHeads * chunks, 1, [&](std::int64_t begin, std::int64_t end, int thread) {
        float* scores = scratch.perThread[static_cast<std::size_t>(thread)].data();  // (chunkHeads, nKeys)
        for (std::int64_t item = begin; item < end; ++item) {
            const std::int64_t row = item / (s.nKvHeads * chunks);
            const int kvHead = static_cast<int>(item / chunks % s.nKvHeads), chunk = static_cast<int>(item % chunks);
            const int head0 = kvHead * group + chunk * chunkHeads;
            GroupTask t;
            static_cast<KvHeadScan&>(t) = kvHeadScan(k, v, s, kvHead, row, scores);
            t.heads = std::min(chunkHeads, (kvHead + 1) * group - head0);
            t.q = q + row * qWidth + head0 * s.headDim;
            t.out = out + row * qWidth + head0 * s.headDim;
            if (t.visible == 0) {  // softmax over no keys: zero rows (backend.h)
                std::fill(t.out, t.out + t.heads * s.headDim, 0.0f);
                continue;
            }
            if (k.format == StorageFormat::F16) attentionGroupAvx2<LoadF16>(t);
            else attentionGroupAvx2<LoadF32>(t);
        }
    });
}
#endif

}  // namespace

void attention(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* q, const KvRows& k,
               const KvRows& v, const AttentionShape& s) {
    const std::int64_t qWidth = static_cast<std::int64_t>(s.nHeads) * s.headDim;
    const int group = s.nHeads / s.nKvHeads;
#ifdef LLAVA_CPU_X86
    if (tiledAttentionApplies(isa, s)) {  // many query rows: blocked kernel (cpuattentiontiled.cpp)
        attentionTiledAvx2(pool, scratch, out, q, k, v, s);
        return;
    }
#endif
    const bool f16 = k.format == StorageFormat::F16;
    const bool simdPath = isa == CpuIsa::Avx2 && s.headDim % 8 == 0;
#ifdef LLAVA_CPU_X86
    // Enough (row, kv head) tasks for every thread: read each kv head once for its whole group of q heads.
    if (simdPath && s.nQueries * s.nKvHeads >= pool.size()) {
        attentionGroupedAvx2(pool, scratch, out, q, k, v, s);
        return;
    }
#endif
    for (int t = 0; t < pool.size(); ++t) scratch.get(t, static_cast<std::size_t>(s.nKeys));
    pool.parallelFor(s.nQueries * s.nHeads, 1, [&](std::int64_t begin, std::int64_t end, int thread) {
        float* scores = scratch.perThread[static_cast<std::size_t>(thread)].data();  // (nKeys)
        for (std::int64_t item = begin; item < end; ++item) {
            // Head-major order: a thread runs consecutive query rows of one head, so that head's K/V slice
            // (nKeys x headDim, 148 KiB for CLIP-L) stays in L2 instead of cycling through all heads' K/V.
            const std::int64_t row = item % s.nQueries;
            const int head = static_cast<int>(item / s.nQueries), kvHead = head / group;
            RowTask t;
            static_cast<KvHeadScan&>(t) = kvHeadScan(k, v, s, kvHead, row, scores);
            t.q = q + row * qWidth + head * s.headDim;
            t.out = out + row * qWidth + head * s.headDim;
            if (t.visible == 0) {  // softmax over no keys: the output row is zero (backend.h)
                std::fill(t.out, t.out + s.headDim, 0.0f);
                continue;
            }
#ifdef LLAVA_CPU_X86
            if (simdPath) {
                if (f16) attentionRowAvx2<LoadF16>(t);
                else attentionRowAvx2<LoadF32>(t);
                continue;
            }
#endif
            if (f16) attentionRowPortable<ScalarF16>(t);
            else attentionRowPortable<ScalarF32>(t);
        }
    });
    (void)simdPath;
}

}  // namespace llava::cpu
