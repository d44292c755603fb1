// CPU matrix products: out (M, N) = x (M, K) · wᵀ, w (N, K) in any storage format; the run-time choice
// between the AVX2 kernels (cpugemv.cpp for M <= kGemvMaxRows, cpugemm.cpp above) and the portable path,
// plus the format conversions and quantisers.
// Portable path: each thread owns whole panels of kPanelN output columns (= weight rows). For each
// K-slice of kPanelK, the panel's weight rows are decoded once to fp32 (kPanelN x kPanelK floats, 64 KiB,
// stays in L2) and reused by every row of x, so prefill is a real matrix-matrix product while decode
// (M = 1) streams each weight byte exactly once. The 2x4 register micro-kernel uses 8-lane vectors;
// on x86-64 the hot function is cloned for AVX2+FMA and picked at run time (target_clones).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

#ifdef LLAVA_CPU_X86  // defined by cpusimd.h
#include <cpuid.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define LLAVA_CPU_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define LLAVA_CPU_CLONES
#endif
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
        for (std::int64_t i = 0; i < m; ++i) {
            float* o = out + i * n + n0;
            for (std::int64_t c = 0; c < nn; ++c) o[c] = (accumulate ? o[c] : 0.0f) + (bias ? bias[n0 + c] : 0.0f);
        }
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

float* Scratch::get(int thread, std::size_t floats) {
    if (perThread.size() <= static_cast<std::size_t>(thread)) perThread.resize(static_cast<std::size_t>(thread) + 1);
    auto& buffer = perThread[static_cast<std::size_t>(thread)];
    if (buffer.size() < floats) buffer.resize(floats);
    return buffer.data();
}

LLAVA_CPU_CLONES
void decodeElements(StorageFormat format, const std::byte* data, std::int64_t first, std::int64_t n, float* out) {
    switch (format) {
    case StorageFormat::F32: std::memcpy(out, data + first * 4, static_cast<std::size_t>(n) * 4); return;
    case StorageFormat::F16: {
        const auto* h = reinterpret_cast<const std::uint16_t*>(data) + first;
        for (std::int64_t i = 0; i < n; ++i) out[i] = f16ToF32(h[i]);
        return;
    }
    case StorageFormat::BF16: {
        const auto* h = reinterpret_cast<const std::uint16_t*>(data) + first;
        for (std::int64_t i = 0; i < n; ++i) out[i] = bf16ToF32(h[i]);
        return;
    }
    default: std::fill(out, out + n, 0.0f); return;  // quantised formats go through decodeRow
    }
}

void encodeElements(StorageFormat format, std::byte* data, std::int64_t first, std::int64_t n, const float* in) {
    switch (format) {
    case StorageFormat::F32: std::memcpy(data + first * 4, in, static_cast<std::size_t>(n) * 4); return;
    case StorageFormat::F16: {
        auto* h = reinterpret_cast<std::uint16_t*>(data) + first;
        for (std::int64_t i = 0; i < n; ++i) h[i] = f32ToF16(in[i]);
        return;
    }
    case StorageFormat::BF16: {
        auto* h = reinterpret_cast<std::uint16_t*>(data) + first;
        for (std::int64_t i = 0; i < n; ++i) h[i] = f32ToBf16(in[i]);
        return;
    }
    default: return;
    }
}

LLAVA_CPU_CLONES
void decodeRow(const WeightMatrix& w, std::int64_t row, std::int64_t k0, std::int64_t n, float* out) {
    switch (w.format) {
    case StorageFormat::Q8PerChannel: {
        const auto* q = reinterpret_cast<const std::int8_t*>(w.data) + row * w.cols + k0;
        float scale;
        std::memcpy(&scale, w.data + w.rows * w.cols + row * 4, 4);
        for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(q[i]) * scale;
        return;
    }
    case StorageFormat::Q4Group128: {
        const auto* q = reinterpret_cast<const std::uint8_t*>(w.data) + row * (w.cols / 2);
        const std::byte* scales = w.data + w.rows * (w.cols / 2) + row * (w.cols / 128) * 2;
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t col = k0 + i;
            const float scale = loadScaleF16(scales + (col / 128) * 2);
            const int nibble = (q[col / 2] >> ((col & 1) * 4)) & 0xF;
            out[i] = static_cast<float>(nibble - 8) * scale;
        }
        return;
    }
    default: decodeElements(w.format, w.data, row * w.cols + k0, n, out); return;
    }
}

CpuIsa detectCpuIsa() {
    const char* forced = std::getenv("LLAVA_CPU_ISA");
    if (forced && std::string_view(forced) == "portable") return CpuIsa::Portable;
#ifdef LLAVA_CPU_X86
    __builtin_cpu_init();
    // F16C from CPUID leaf 1 (ECX bit 29) directly: clang before 16 rejects __builtin_cpu_supports("f16c")
    // at compile time, which broke the fuzz preset on Debian 12's clang 14. AVX2/FMA via the builtin also
    // check that the OS saves the YMM state, which F16C needs as well.
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c) return CpuIsa::Avx2;
#endif
    return CpuIsa::Portable;
}

const char* cpuIsaName(CpuIsa isa) { return isa == CpuIsa::Avx2 ? "AVX2+FMA+F16C" : "portable"; }

void matmul(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* x, std::int64_t m,
            const WeightMatrix& w, const float* bias, bool accumulate) {
#ifdef LLAVA_CPU_X86
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

void quantiseQ8(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst) {
    auto* q = reinterpret_cast<std::int8_t*>(dst);
    for (std::int64_t r = 0; r < rows; ++r) {
        float amax = 0;
        for (std::int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(src[r * cols + c]));
        const float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
        for (std::int64_t c = 0; c < cols; ++c)
            q[r * cols + c] = static_cast<std::int8_t>(std::lround(std::clamp(src[r * cols + c] * inv, -127.0f, 127.0f)));
        std::memcpy(dst + rows * cols + r * 4, &scale, 4);
    }
}

void quantiseQ4(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst) {
    auto* q = reinterpret_cast<std::uint8_t*>(dst);
    std::byte* scales = dst + rows * (cols / 2);
    std::fill(q, q + rows * (cols / 2), std::uint8_t{0});
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t g = 0; g < cols / 128; ++g) {
            const float* s = src + r * cols + g * 128;
            float amax = 0;
            for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(s[i]));
            // The scale is stored as F16 and the codes are computed with the rounded scale, so that
            // dequantisation reproduces exactly what was chosen here (65504: the largest finite F16).
            const std::uint16_t scale16 = f32ToF16(std::min(amax / 7.0f, 65504.0f));
            const float scale = f16ToF32(scale16), inv = scale > 0 ? 1.0f / scale : 0.0f;
            std::memcpy(scales + (r * (cols / 128) + g) * 2, &scale16, 2);
            for (int i = 0; i < 128; ++i) {
                const long v = std::clamp(std::lround(s[i] * inv), -8L, 7L) + 8;
                const std::int64_t col = g * 128 + i;
                q[r * (cols / 2) + col / 2] |= static_cast<std::uint8_t>(v << ((col & 1) * 4));
            }
        }
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
