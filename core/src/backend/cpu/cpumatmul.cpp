// CPU matrix products: out (M, N) = x (M, K) · wᵀ, w (N, K) in any storage format; the run-time choice
// between the AVX2 kernels (cpugemv.cpp for M <= kGemvMaxRows, cpugemm.cpp above) and the portable path,
// and dot(), which shares the portable path's 8-lane vector helpers. Format conversions are in
// cpucodecs.cpp, quantisers in cpuquantise.cpp, ISA detection in cpuisa.cpp, Scratch in cpuscratch.cpp.
// Portable path: each thread owns whole panels of kPanelN output columns (= weight rows). For each
// K-slice of kPanelK, the panel's weight rows are decoded once to fp32 (kPanelN x kPanelK floats, 64 KiB,
// stays in L2) and reused by every row of x, so prefill is a real matrix-matrix product while decode
// (M = 1) streams each weight byte exactly once. The 2x4 register micro-kernel uses 8-lane vectors;
// on x86-64 the hot function is cloned for AVX2+FMA and picked at run time (target_clones).
#include <algorithm>
#include <cstring>

#include "backend/cpu/cpuclones.h"
#include "backend/cpu/cpuint8.h"
#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"

#define LLAVA_CPU_INLINE inline __attribute__((always_inline))

namespace llava::cpu {
namespace {

typedef float V8 __attribute__((vector_size(32)));  // eight fp32 lanes (two SSE ops without AVX)

constexpr std::int64_t kPanelN = 64;   // weight rows per panel
constexpr std::int64_t kPanelK = 256;  // K-slice per panel (multiple of 128 for Q4 groups)

LLAVA_CPU_INLINE V8 load8(const float* p) {
    V8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

LLAVA_CPU_INLINE float hsum(V8 v) {
    float s = 0;
    for (int i = 0; i < 8; ++i) s += v[i];
    return s;
}

// acc[r][c] over kk elements of MR rows of x and NR panel rows.
template <int MR, int NR>
LLAVA_CPU_INLINE void microKernel(float* out, std::int64_t ldOut, const float* x, std::int64_t ldX, const float* panel,
                                  std::int64_t kk) {
    V8 acc[MR][NR] = {};
    std::int64_t k = 0;
    for (; k + 8 <= kk; k += 8) {
        V8 wv[NR];
        for (int c = 0; c < NR; ++c) wv[c] = load8(panel + c * kPanelK + k);
        for (int r = 0; r < MR; ++r) {
            const V8 xv = load8(x + r * ldX + k);
            for (int c = 0; c < NR; ++c) acc[r][c] += xv * wv[c];
        }
    }
    for (int r = 0; r < MR; ++r)
        for (int c = 0; c < NR; ++c) {
            float s = hsum(acc[r][c]);
            for (std::int64_t t = k; t < kk; ++t) s += x[r * ldX + t] * panel[c * kPanelK + t];
            out[r * ldOut + c] += s;
        }
}

template <int MR>
LLAVA_CPU_INLINE void microRow(float* out, std::int64_t ldOut, const float* x, std::int64_t ldX, const float* panel,
                               std::int64_t kk, std::int64_t nn) {
    std::int64_t c = 0;
    for (; c + 4 <= nn; c += 4) microKernel<MR, 4>(out + c, ldOut, x, ldX, panel + c * kPanelK, kk);
    for (; c < nn; ++c) microKernel<MR, 1>(out + c, ldOut, x, ldX, panel + c * kPanelK, kk);
}

LLAVA_CPU_CLONES
void matmulPanels(float* out, const float* x, std::int64_t m, const WeightMatrix& w, const float* bias,
                  bool accumulate, std::int64_t p0, std::int64_t p1, float* panel) {
    const std::int64_t n = w.rows, kTotal = w.cols;
    for (std::int64_t p = p0; p < p1; ++p) {
        const std::int64_t n0 = p * kPanelN, nn = std::min(kPanelN, n - n0);
        initOutputBlock(out, m, n, n0, nn, bias, accumulate);
        for (std::int64_t k0 = 0; k0 < kTotal; k0 += kPanelK) {
            const std::int64_t kk = std::min(kPanelK, kTotal - k0);
            for (std::int64_t r = 0; r < nn; ++r) decodeRow(w, n0 + r, k0, kk, panel + r * kPanelK);
            std::int64_t i = 0;
            for (; i + 2 <= m; i += 2) microRow<2>(out + i * n + n0, n, x + i * kTotal + k0, kTotal, panel, kk, nn);
            for (; i < m; ++i) microRow<1>(out + i * n + n0, n, x + i * kTotal + k0, kTotal, panel, kk, nn);
        }
    }
}

}  // namespace

void matmul(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* x, std::int64_t m,
            const WeightMatrix& w, const float* bias, bool accumulate, bool int8Decode) {
#ifdef LLAVA_CPU_X86
    if (int8Decode && int8GemvApplies(isa, m, w)) {  // Q8/Q4 decode: activations to int8 once, integer dots (cpuint8.cpp)
        quantiseRowsInt8(x, m, w.cols, w.format, scratch.int8Rows);
        pool.parallelFor(w.rows, 16, [&](std::int64_t r0, std::int64_t r1, int) {
            gemvInt8Avx2(out, scratch.int8Rows, w, bias, accumulate, r0, r1);
        });
        return;
    }
    if (isa == CpuIsa::Avx2 && m <= kGemvMaxRows) {  // one contiguous range of weight rows per thread
        pool.parallelFor(w.rows, 16, [&](std::int64_t r0, std::int64_t r1, int) {
            gemvAvx2(out, x, m, w, bias, accumulate, r0, r1);
        });
        return;
    }
    if (isa == CpuIsa::Avx2) {
        const std::int64_t blocks = (w.rows + kGemmBlockN - 1) / kGemmBlockN;
        for (int t = 0; t < pool.size(); ++t) scratch.get(t, kGemmPackFloats);  // grow before going parallel
        pool.parallelFor(blocks, 1, [&](std::int64_t b0, std::int64_t b1, int thread) {
            gemmAvx2Blocks(out, x, m, w, bias, accumulate, b0, b1, scratch.perThread[static_cast<std::size_t>(thread)].data());
        });
        return;
    }
#else
    (void)isa;
#endif
    const std::int64_t panels = (w.rows + kPanelN - 1) / kPanelN;
    for (int t = 0; t < pool.size(); ++t) scratch.get(t, kPanelN * kPanelK);  // grow before going parallel
    pool.parallelFor(panels, 1, [&](std::int64_t p0, std::int64_t p1, int thread) {
        matmulPanels(out, x, m, w, bias, accumulate, p0, p1, scratch.perThread[static_cast<std::size_t>(thread)].data());
    });
}

float dot(const float* a, const float* b, std::int64_t n) {
    V8 acc = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc += load8(a + i) * load8(b + i);
    float s = hsum(acc);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace llava::cpu
