// Raw-pointer kernels of the CPU backend (fp32 compute). The CpuBackend class validates handles and
// shapes, then calls these; they assume valid inputs (PRECONDITIONS documented per function).
// Weight matrices may be F32/F16/BF16/Q8/Q4 and are decoded to fp32 in small panels inside the matmul.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "llava/attentionshape.h"
#include "llava/tensor.h"
#include "llava/threadpool.h"

namespace llava::cpu {

// A matrix in any storage format. For Q8/Q4 `data` points at the start of the quantised block
// (values, then scales; see tensor.h).
struct WeightMatrix {
    StorageFormat format = StorageFormat::F32;
    const std::byte* data = nullptr;
    std::int64_t rows = 0, cols = 0;  // (N, K)
};

// Activation elements per int8 scale (cpuint8.h). Q4: one weight group, so a group's product is one integer
// sum; Q8: 32, the finer grid (a larger block coarsens every element that shares it with an outlier, and
// flipped greedy tokens on the tiny fixtures; the Q8 kernel is memory-bound either way).
constexpr std::int64_t kInt8BlockQ8 = 32, kInt8BlockQ4 = 128;

// Activation rows in int8. Q4 order: within every 64 columns, the 32 even columns first, then the 32 odd
// ones (the nibble order of Q4Group128 bytes: low nibble = even column), so a 32-byte load of weights
// splits into two 32-column halves that line up with the activations without shuffles.
struct Int8Rows {
    std::int64_t rows = 0, cols = 0;
    std::int64_t blockCols = 0, blocks = 0;  // kInt8BlockQ8 or kInt8BlockQ4; blocks per row = cols / blockCols
    bool q4Order = false;
    std::vector<std::int8_t> values;     // (rows, cols)
    std::vector<float> scales;           // (rows, blocks): block scale; NaN when the block holds NaN/Inf
    std::vector<std::int32_t> codeSums;  // (rows, blocks): sum of the block's codes (takes out Q4's -8 offset)
};

// Per-thread fp32 scratch, grown on demand (never shrinks, so the decode loop does not allocate).
struct Scratch {
    std::vector<std::vector<float>> perThread;
    Int8Rows int8Rows;  // the activation rows of the current quantised matrix-vector product (cpuint8.h)
    float* get(int thread, std::size_t floats);
};

// out[i] = element i of row `row` columns [k0, k0 + n) as fp32. PRECONDITION (Q4): k0 % 128 == 0.
void decodeRow(const WeightMatrix& w, std::int64_t row, std::int64_t k0, std::int64_t n, float* out);
// Decodes `n` consecutive elements of a non-quantised vector/matrix starting at element `first`.
void decodeElements(StorageFormat format, const std::byte* data, std::int64_t first, std::int64_t n, float* out);
// Encodes fp32 into F32/F16/BF16 storage at element `first`.
void encodeElements(StorageFormat format, std::byte* data, std::int64_t first, std::int64_t n, const float* in);

// Which kernels run: the portable ones (plain C++, any CPU) or the AVX2+FMA+F16C ones (x86-64, chosen at run
// time so the binary still runs on any x86-64). LLAVA_CPU_ISA=portable forces the portable path (tests, A/B).
enum class CpuIsa : std::uint8_t { Portable, Avx2 };
CpuIsa detectCpuIsa();
const char* cpuIsaName(CpuIsa isa);  // "portable" | "AVX2+FMA+F16C"

// out (M, N) (=|+=) x (M, K) · wᵀ + bias (N, fp32, may be null). PRECONDITION: w.cols == K.
// M <= kGemvMaxRows streams each weight row once (matrix-vector path, rows split over threads);
// larger M packs weight panels to fp32 and runs a register-blocked GEMM (cpugemm.cpp).
constexpr std::int64_t kGemvMaxRows = 4;
// int8Decode: Q8/Q4 with m <= kGemvMaxRows on AVX2 take the integer-dot path (cpuint8.h), which rounds x to
// int8; false keeps every product in fp32 activations (the reference backend).
void matmul(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* x, std::int64_t m,
            const WeightMatrix& w, const float* bias, bool accumulate, bool int8Decode = true);

// AVX2 kernels (defined only on x86-64; PRECONDITION: detectCpuIsa() == Avx2).
// Output rows [r0, r1) of the matrix-vector product, m <= kGemvMaxRows.
void gemvAvx2(float* out, const float* x, std::int64_t m, const WeightMatrix& w, const float* bias, bool accumulate,
              std::int64_t r0, std::int64_t r1);
// decodeRow with AVX2 conversions. PRECONDITION (Q4): k0 % 128 == 0 and n % 128 == 0 or k0 + n == cols.
void decodeRowAvx2(const WeightMatrix& w, std::int64_t row, std::int64_t k0, std::int64_t n, float* out);
// GEMM over output column blocks [b0, b1) of kGemmBlockN columns; `pack` holds kGemmPackFloats floats.
constexpr std::int64_t kGemmBlockN = 64, kGemmSliceK = 256;
constexpr std::size_t kGemmPackFloats = kGemmBlockN * kGemmSliceK + kGemmSliceK;
void gemmAvx2Blocks(float* out, const float* x, std::int64_t m, const WeightMatrix& w, const float* bias,
                    bool accumulate, std::int64_t b0, std::int64_t b1, float* pack);

// Quantise a (rows, cols) fp32 matrix. dst must hold storageBytes(format, rows, cols).
void quantiseQ8(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst);
void quantiseQ4(const float* src, std::int64_t rows, std::int64_t cols, std::byte* dst);  // cols % 128 == 0

// Keys or values of attention(): (nKeys, nKvHeads*headDim) rows in F32, or F16 (a 16-bit KV cache, read with
// F16C conversions in registers on AVX2, f16ToF32 on the portable path).
struct KvRows {
    StorageFormat format = StorageFormat::F32;  // F32 | F16
    const std::byte* data = nullptr;
};

// Scaled causal/non-causal attention; see Backend::attention. Row strides are the tensors' widths.
// PRECONDITION: k.format == v.format, F32 or F16.
void attention(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* q, const KvRows& k, const KvRows& v,
               const AttentionShape& shape);
inline void attention(ThreadPool& pool, Scratch& scratch, CpuIsa isa, float* out, const float* q, const float* k,
                      const float* v, const AttentionShape& shape) {
    attention(pool, scratch, isa, out, q, KvRows{StorageFormat::F32, reinterpret_cast<const std::byte*>(k)},
              KvRows{StorageFormat::F32, reinterpret_cast<const std::byte*>(v)}, shape);
}

float dot(const float* a, const float* b, std::int64_t n);

// Element-wise / row-wise kernels (cpuelementwise.cpp), single-threaded; AVX2 when isa == Avx2. In place
// (out == input) is fine for all of them; partial overlap is not.
void siluMulRange(CpuIsa isa, float* out, const float* gate, const float* up, std::int64_t n);  // silu(gate) * up
void quickGeluRange(CpuIsa isa, float* x, std::int64_t n);                                     // x * sigmoid(1.702 x)
void geluRange(CpuIsa isa, float* x, std::int64_t n);  // erf form: AVX2 erf approximation (cpuelementwise.cpp), else std::erf
void addRange(CpuIsa isa, float* out, const float* a, const float* b, std::int64_t n);
void rmsNormRow(CpuIsa isa, float* out, const float* x, const float* w, std::int64_t d, float eps);  // one row (d)
void layerNormRow(CpuIsa isa, float* out, const float* x, const float* w, const float* b, std::int64_t d, float eps);

// Sets out[i][n0 .. n0+nn) for i < m (row stride n) to bias (or 0), added to what is there when accumulating:
// the start of a column block of a matrix-matrix product, before the K-slices add into it.
inline void initOutputBlock(float* out, std::int64_t m, std::int64_t n, std::int64_t n0, std::int64_t nn, const float* bias,
                            bool accumulate) {
    for (std::int64_t i = 0; i < m; ++i) {
        float* o = out + i * n + n0;
        for (std::int64_t c = 0; c < nn; ++c) o[c] = (accumulate ? o[c] : 0.0f) + (bias ? bias[n0 + c] : 0.0f);
    }
}

}  // namespace llava::cpu
