// CpuBackend ops: the shared argument check of backendchecks.h, then a plain fp32 loop or a kernel from
// cpukernels.h. Every op over more than kParallelMinElements floats is split over the pool
// (rows for the row-wise ops, element ranges for the element-wise ones); small ones (decode) stay on the caller.
#include <algorithm>
#include <cmath>

#include "backend/cpu/cpubackend.h"

namespace llava::cpu {
namespace {

// Element-wise work below this many floats runs on the calling thread: a decode step's vectors (a few
// thousand floats) take less time than waking the pool. Above it, chunks of kElementGrain go to the pool.
constexpr std::int64_t kParallelMinElements = 1 << 15;
constexpr std::int64_t kElementGrain = 1 << 13;

template <typename F>
void forRanges(ThreadPool& pool, std::int64_t n, F&& fn) {
    if (n < kParallelMinElements) {
        fn(std::int64_t{0}, n);
        return;
    }
    pool.parallelFor(n, kElementGrain, [&](std::int64_t b, std::int64_t e, int) { fn(b, e); });
}

// Rows of `cols` floats per chunk so a chunk holds about kElementGrain floats (at least one row).
std::int64_t rowGrain(std::int64_t rows, std::int64_t cols) {
    return rows * cols < kParallelMinElements ? rows : std::max<std::int64_t>(1, kElementGrain / std::max<std::int64_t>(1, cols));
}

}  // namespace

Status CpuBackend::matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, MatmulMode mode) {
    LLAVA_TRY(checkMatmul(out, x, w, bias));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "matmul out"));
    LLAVA_ASSIGN_OR_RETURN(float* in, f32(x, "matmul x"));
    LLAVA_ASSIGN_OR_RETURN(const std::byte* wp, readable(w, storageBytes(w.format, w.shape[0], w.shape[1]), "matmul w"));
    const float* b = nullptr;
    if (!bias.isNull()) {
        LLAVA_ASSIGN_OR_RETURN(b, asF32(bias, m_tmpA, "matmul bias"));
    }
    const WeightMatrix wm{w.format, wp, w.shape[0], w.shape[1]};
    cpu::matmul(m_pool, m_scratch, m_isa, o, in, x.rows(), wm, b, mode == MatmulMode::Accumulate, m_int8Decode);
    return Status::ok();
}

Status CpuBackend::rmsNorm(const Tensor& out, const Tensor& x, const Tensor& w, float eps) {
    LLAVA_TRY(checkRmsNorm(out, x, w));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "rmsNorm out"));
    LLAVA_ASSIGN_OR_RETURN(const float* in, f32(x, "rmsNorm x"));
    LLAVA_ASSIGN_OR_RETURN(const float* g, asF32(w, m_tmpA, "rmsNorm w"));
    const std::int64_t d = x.cols();
    m_pool.parallelFor(x.rows(), rowGrain(x.rows(), d), [&](std::int64_t r0, std::int64_t r1, int) {
        for (std::int64_t r = r0; r < r1; ++r) rmsNormRow(m_isa, o + r * d, in + r * d, g, d, eps);
    });
    return Status::ok();
}

Status CpuBackend::layerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
    LLAVA_TRY(checkLayerNorm(out, x, w, b));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "layerNorm out"));
    LLAVA_ASSIGN_OR_RETURN(const float* in, f32(x, "layerNorm x"));
    LLAVA_ASSIGN_OR_RETURN(const float* g, asF32(w, m_tmpA, "layerNorm w"));
    LLAVA_ASSIGN_OR_RETURN(const float* beta, asF32(b, m_tmpB, "layerNorm b"));
    const std::int64_t d = x.cols();
    m_pool.parallelFor(x.rows(), rowGrain(x.rows(), d), [&](std::int64_t r0, std::int64_t r1, int) {
        for (std::int64_t r = r0; r < r1; ++r) layerNormRow(m_isa, o + r * d, in + r * d, g, beta, d, eps);
    });
    return Status::ok();
}

namespace {

// HF: inv_freq = 1 / theta ** (arange(0, dim, 2).float() / dim), in fp32.
std::vector<float> ropeInvFreq(int headDim, double theta) {
    std::vector<float> invFreq(static_cast<std::size_t>(headDim / 2));
    for (int i = 0; i < headDim / 2; ++i)
        invFreq[static_cast<std::size_t>(i)] =
            1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(headDim));
    return invFreq;
}

// Rotate-half RoPE of one row (nHeads x headDim) at `position`; cs is (headDim) scratch.
void ropeRow(float* row, int nHeads, int headDim, std::int64_t position, const std::vector<float>& invFreq, float* cs) {
    const int half = headDim / 2;
    const float pos = static_cast<float>(position);
    for (int i = 0; i < half; ++i) {
        const float angle = pos * invFreq[static_cast<std::size_t>(i)];  // fp32 product like HF
        cs[i] = std::cos(angle);
        cs[half + i] = std::sin(angle);
    }
    for (int h = 0; h < nHeads; ++h) {  // contiguous inner loop: vectorises
        float* v = row + static_cast<std::int64_t>(h) * headDim;
        for (int i = 0; i < half; ++i) {
            const float a = v[i], b = v[i + half];
            v[i] = a * cs[i] - b * cs[half + i];
            v[i + half] = b * cs[i] + a * cs[half + i];
        }
    }
}

}  // namespace

Status CpuBackend::rope(const Tensor& x, int nHeads, int headDim, int positionStart, double theta) {
    LLAVA_TRY(checkRope(x, nHeads, headDim));
    LLAVA_ASSIGN_OR_RETURN(float* p, f32(x, "rope x"));
    const std::vector<float> invFreq = ropeInvFreq(headDim, theta);
    const std::int64_t width = x.cols();
    for (int t = 0; t < m_pool.size(); ++t) m_scratch.get(t, static_cast<std::size_t>(headDim));
    m_pool.parallelFor(x.rows(), rowGrain(x.rows(), width), [&](std::int64_t r0, std::int64_t r1, int thread) {
        float* cs = m_scratch.perThread[static_cast<std::size_t>(thread)].data();  // (half) cos, (half) sin
        for (std::int64_t r = r0; r < r1; ++r) ropeRow(p + r * width, nHeads, headDim, positionStart + r, invFreq, cs);
    });
    return Status::ok();
}

Status CpuBackend::attention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionParams& p) {
    LLAVA_ASSIGN_OR_RETURN(const AttentionShape shape, checkAttention(out, q, k, v, p));
    return runAttention(out, q, k, v, shape);
}

Status CpuBackend::runAttention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                                const AttentionShape& shape) {
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "attention out"));
    LLAVA_ASSIGN_OR_RETURN(const float* qp, f32(q, "attention q"));
    // Keys/values in place, F32 or F16 (checkAttention): the kernels widen F16 (a 16-bit KV cache) as they read
    // it, so an F16 cache is never copied whole.
    LLAVA_ASSIGN_OR_RETURN(const std::byte* kp, readable(k, tensorBytes(k), "attention k"));
    LLAVA_ASSIGN_OR_RETURN(const std::byte* vp, readable(v, tensorBytes(v), "attention v"));
    cpu::attention(m_pool, m_scratch, m_isa, o, qp, KvRows{k.format, kp}, KvRows{v.format, vp}, shape);
    return Status::ok();
}

Status CpuBackend::quickGelu(const Tensor& x) {
    LLAVA_ASSIGN_OR_RETURN(float* p, f32(x, "quickGelu"));
    forRanges(m_pool, x.elementCount(), [&](std::int64_t b, std::int64_t e) { quickGeluRange(m_isa, p + b, e - b); });
    return Status::ok();
}

Status CpuBackend::gelu(const Tensor& x) {
    LLAVA_ASSIGN_OR_RETURN(float* p, f32(x, "gelu"));
    forRanges(m_pool, x.elementCount(), [&](std::int64_t b, std::int64_t e) { geluRange(m_isa, p + b, e - b); });
    return Status::ok();
}

Status CpuBackend::siluMul(const Tensor& out, const Tensor& gate, const Tensor& up) {
    LLAVA_TRY(checkSiluMul(out, gate, up));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "siluMul out"));
    LLAVA_ASSIGN_OR_RETURN(const float* g, f32(gate, "siluMul gate"));
    LLAVA_ASSIGN_OR_RETURN(const float* u, f32(up, "siluMul up"));
    forRanges(m_pool, out.elementCount(), [&](std::int64_t b, std::int64_t e) { siluMulRange(m_isa, o + b, g + b, u + b, e - b); });
    return Status::ok();
}

Status CpuBackend::add(const Tensor& out, const Tensor& a, const Tensor& b) {
    LLAVA_ASSIGN_OR_RETURN(const bool broadcast, checkAdd(out, a, b));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "add out"));
    LLAVA_ASSIGN_OR_RETURN(const float* ap, f32(a, "add a"));
    LLAVA_ASSIGN_OR_RETURN(const float* bp, asF32(b, m_tmpA, "add b"));
    const std::int64_t d = a.cols();
    if (!broadcast) {
        forRanges(m_pool, a.elementCount(), [&](std::int64_t b0, std::int64_t b1) { addRange(m_isa, o + b0, ap + b0, bp + b0, b1 - b0); });
        return Status::ok();
    }
    m_pool.parallelFor(a.rows(), rowGrain(a.rows(), d), [&](std::int64_t r0, std::int64_t r1, int) {
        for (std::int64_t r = r0; r < r1; ++r) addRange(m_isa, o + r * d, ap + r * d, bp, d);
    });
    return Status::ok();
}

Status CpuBackend::embed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids) {
    LLAVA_TRY(checkEmbed(out, table, ids));
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "embed out"));
    LLAVA_ASSIGN_OR_RETURN(const std::byte* t, readable(table, tensorBytes(table), "embed"));
    const std::int64_t d = table.cols();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0) continue;  // an image slot, filled by copy()
        // Any format: quantised tables (q8/q4 runs) are dequantised row by row like the matmul reads them.
        decodeRow(WeightMatrix{table.format, t, table.rows(), d}, ids[i], 0, d, o + static_cast<std::int64_t>(i) * d);
    }
    return Status::ok();
}

Status CpuBackend::patchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight) {
    LLAVA_ASSIGN_OR_RETURN(const PatchEmbedShape shape, checkPatchEmbed(out, pixels, weight));
    const std::int64_t crops = shape.crops, side = shape.side, p = shape.patch, d = shape.width;
    const std::int64_t grid = shape.grid, patches = grid * grid, k = shape.k;
    LLAVA_ASSIGN_OR_RETURN(float* o, f32(out, "patchEmbed out"));
    LLAVA_ASSIGN_OR_RETURN(const float* px, f32(pixels, "patchEmbed pixels"));
    LLAVA_ASSIGN_OR_RETURN(const std::byte* wp, readable(weight, storageBytes(weight.format, d, k), "patchEmbed w"));
    // im2col: one row of (3, p, p) values per patch, then an ordinary matmul.
    std::vector<float> cols(static_cast<std::size_t>(crops * patches * k));  // (crops*patches, 3*p*p)
    for (std::int64_t c = 0; c < crops; ++c)
        for (std::int64_t gy = 0; gy < grid; ++gy)
            for (std::int64_t gx = 0; gx < grid; ++gx) {
                float* row = cols.data() + ((c * grid + gy) * grid + gx) * k;
                for (std::int64_t ch = 0; ch < 3; ++ch)
                    for (std::int64_t y = 0; y < p; ++y)
                        for (std::int64_t x = 0; x < p; ++x)
                            row[(ch * p + y) * p + x] = px[((c * 3 + ch) * side + gy * p + y) * side + gx * p + x];
            }
    cpu::matmul(m_pool, m_scratch, m_isa, o, cols.data(), crops * patches, WeightMatrix{weight.format, wp, d, k}, nullptr, false);
    return Status::ok();
}

Status CpuBackend::copy(const Tensor& dst, const Tensor& src) {
    LLAVA_TRY(checkCopy(dst, src));
    const std::int64_t n = src.elementCount();
    LLAVA_ASSIGN_OR_RETURN(std::byte* d, writable(dst, storageBytes(dst.format, 1, n), "copy dst"));
    LLAVA_ASSIGN_OR_RETURN(const std::byte* s, readable(src, storageBytes(src.format, 1, n), "copy src"));
    if (dst.format == src.format) {
        std::memmove(d, s, storageBytes(src.format, 1, n));
        return Status::ok();
    }
    std::vector<float> tmp(static_cast<std::size_t>(n));
    decodeElements(src.format, s, 0, n, tmp.data());
    encodeElements(dst.format, d, 0, n, tmp.data());
    return Status::ok();
}

Result<std::int32_t> CpuBackend::argmax(const Tensor& x, std::int64_t nValid) {
    LLAVA_TRY(checkArgmax(x, nValid));
    LLAVA_ASSIGN_OR_RETURN(const float* p, f32(x, "argmax"));
    std::int64_t best = 0;
    for (std::int64_t i = 1; i < nValid; ++i)
        if (p[i] > p[best]) best = i;
    return static_cast<std::int32_t>(best);
}

}  // namespace llava::cpu

// ---- decode-step ops: the regular ops at the position / id read from the step tensor ----------------

namespace llava::cpu {

Status CpuBackend::embedAt(const Tensor& out, const Tensor& table, const Tensor& step) {
    LLAVA_TRY(checkEmbedAt(out, table));
    LLAVA_ASSIGN_OR_RETURN(const auto s, readStep(step, "embedAt"));
    const std::int32_t ids[1] = {s[1]};
    return embed(out, table, ids);  // the id's range: embed's check
}

Status CpuBackend::ropeAt(const Tensor& x, int nHeads, int headDim, const Tensor& step, double theta) {
    LLAVA_TRY(checkRopeAt(x, nHeads, headDim));
    LLAVA_ASSIGN_OR_RETURN(const auto s, readStep(step, "ropeAt"));
    return rope(x, nHeads, headDim, s[0], theta);
}

Status CpuBackend::writeRowAt(const Tensor& cache, const Tensor& src, const Tensor& step) {
    LLAVA_TRY(checkWriteRowAt(cache, src));
    LLAVA_ASSIGN_OR_RETURN(const auto s, readStep(step, "writeRowAt"));
    LLAVA_ASSIGN_OR_RETURN(Tensor row, rowView(cache, s[0], 1));  // OutOfRange for a position past the cache
    return copy(row, src);
}

Status CpuBackend::ropeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim,
                                  const Tensor& step, double theta) {
    LLAVA_TRY(checkRopeWriteRowAt(cache, src, nHeads, headDim));
    LLAVA_ASSIGN_OR_RETURN(const auto s, readStep(step, "ropeWriteRowAt"));
    LLAVA_ASSIGN_OR_RETURN(float* p, f32(src, "ropeWriteRowAt src"));
    LLAVA_ASSIGN_OR_RETURN(Tensor row, rowView(cache, s[0], 1));
    LLAVA_ASSIGN_OR_RETURN(std::byte* dst, writable(row, tensorBytes(row), "ropeWriteRowAt cache"));
    std::vector<float> rotated(p, p + src.cols()), cs(static_cast<std::size_t>(headDim));
    ropeRow(rotated.data(), nHeads, headDim, s[0], ropeInvFreq(headDim, theta), cs.data());
    encodeElements(row.format, dst, 0, row.cols(), rotated.data());
    return Status::ok();
}

Status CpuBackend::attentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache, const Tensor& vCache,
                               const AttentionParams& params, const Tensor& step) {
    LLAVA_ASSIGN_OR_RETURN(AttentionShape shape, checkAttentionAt(out, q, kCache, vCache, params));
    LLAVA_ASSIGN_OR_RETURN(const auto s, readStep(step, "attentionAt"));
    if (s[0] < 0 || s[0] >= kCache.rows())
        return makeError(ErrorCode::OutOfRange, "attentionAt: position " + std::to_string(s[0]) + " outside the cache of " +
                                                    std::to_string(kCache.rows()) + " rows");
    LLAVA_ASSIGN_OR_RETURN(Tensor k, rowView(kCache, 0, s[0] + 1));
    LLAVA_ASSIGN_OR_RETURN(Tensor v, rowView(vCache, 0, s[0] + 1));
    shape.nKeys = s[0] + 1;  // causal: the one query row at position s[0] sees keys [0, s[0]]
    shape.nPast = s[0];
    return runAttention(out, q, k, v, shape);
}

}  // namespace llava::cpu
