// Weight quantisers of the CPU backend (load time): Q8 per output channel and Q4 in groups of 128 with
// F16 scales, in the layouts of tensor.h. The CUDA backend's quantise.cu uses the same arithmetic, so the
// bytes match.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"

namespace llava::cpu {

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

}  // namespace llava::cpu
