// Storage-format conversions of the CPU backend: F32/F16/BF16 elements to and from fp32
// (decodeElements/encodeElements), and one row of any weight format, Q8/Q4 included, as fp32 (decodeRow,
// the portable matmul's panel loader). The AVX2 row decoder is decodeRowAvx2 in cpugemv.cpp; long F16 runs
// (whole tensors at load and quantisation time) convert with F16C, 8 per instruction, the same values as
// f16ToF32 (exact for every F16).
#include <algorithm>
#include <cstring>

#include "backend/cpu/cpuclones.h"
#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"
#include "backend/cpu/halfconv.h"

namespace llava::cpu {
namespace {

#ifdef LLAVA_CPU_X86
LLAVA_AVX2 void decodeF16Avx2(const std::uint16_t* h, std::int64_t n, float* out) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    for (; i < n; ++i) out[i] = f16ToF32(h[i]);
}
#endif

// Whether a run of n F16 elements takes the F16C loop (the ISA check costs more than a short run).
bool f16cRun(std::int64_t n) {
#ifdef LLAVA_CPU_X86
    return n >= 256 && detectCpuIsa() == CpuIsa::Avx2;
#else
    (void)n;
    return false;
#endif
}

}  // namespace

LLAVA_CPU_CLONES
void decodeElements(StorageFormat format, const std::byte* data, std::int64_t first, std::int64_t n, float* out) {
    switch (format) {
    case StorageFormat::F32: std::memcpy(out, data + first * 4, static_cast<std::size_t>(n) * 4); return;
    case StorageFormat::F16: {
        const auto* h = reinterpret_cast<const std::uint16_t*>(data) + first;
#ifdef LLAVA_CPU_X86
        if (f16cRun(n)) return decodeF16Avx2(h, n, out);
#endif
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

}  // namespace llava::cpu
