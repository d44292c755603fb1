// Scalar fp16 / bf16 <-> fp32 conversions written so compilers can vectorise loops over them
// (no branches, no tables). fp16 -> fp32 uses the exponent-rebias + magic-multiply technique
// (normals and subnormals exact, inf/NaN preserved); fp32 -> fp16 and -> bf16 round to nearest even.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace llava::cpu {

inline float f16ToF32(std::uint16_t h) {
    const std::uint32_t w = static_cast<std::uint32_t>(h) << 16;
    const std::uint32_t sign = w & 0x80000000u;
    const std::uint32_t twoW = w + w;  // exponent+mantissa shifted to the top, sign dropped
    // Normal path: move exponent/mantissa into fp32 position, rebias by 2^-112 multiplication
    // (also turns inf/NaN into inf/NaN because the exponent offset saturates to 0xFF).
    const float normal = std::bit_cast<float>((twoW >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    // Subnormal path: place mantissa under a 0.5 magic number and subtract it.
    const float subnormal = std::bit_cast<float>((twoW >> 17) | (126u << 23)) - 0.5f;
    const std::uint32_t bits = twoW < (1u << 27) ? std::bit_cast<std::uint32_t>(subnormal)
                                                 : std::bit_cast<std::uint32_t>(normal);
    return std::bit_cast<float>(sign | bits);
}

inline float bf16ToF32(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

inline std::uint16_t f32ToBf16(float f) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

inline std::uint16_t f32ToF16(float f) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);        // NaN
    if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);       // overflow -> inf
    if (a < 0x38800000u) {                                                          // subnormal / zero
        // Adding 0.5 aligns the mantissa so the fp32 adder rounds to nearest even at 2^-24 units.
        const float r = std::bit_cast<float>(a) + 0.5f;
        return static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(r) - 0x3f000000u));
    }
    const std::uint32_t mantOdd = (a >> 13) & 1u;
    const std::uint32_t rounded = a + 0xc8000fffu + mantOdd;  // rebias exponent (-112 << 23) and round
    return static_cast<std::uint16_t>(sign | (rounded >> 13));
}

// A Q4Group128 group scale (F16, 2-byte aligned at most) as fp32.
inline float loadScaleF16(const std::byte* p) {
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return f16ToF32(h);
}

}  // namespace llava::cpu
