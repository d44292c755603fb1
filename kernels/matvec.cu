// Decode-time matrix-vector products: out (m, n) (=|+=) x (m, k) · wᵀ + bias for m <= kMatvecMaxRows,
// w (n, k) in F32/F16/BF16/Q8PerChannel/Q4Group128. Decode is bound by weight bandwidth, so the scheme
// is built around streaming each weight byte once with 16-byte loads:
//   * one warp per weight row (8 warps = 8 rows per block); lane i reads 16-byte chunks i, i+32, ...
//     (4 F32 / 8 F16|BF16 / 16 Q8 / 32 Q4 values per chunk), so a warp reads 512 contiguous bytes per step;
//   * the fp32 x rows (<= 8 × k floats, L1/L2-resident, shared by all warps) are read as float4;
//   * every x row is multiplied with the decoded chunk while it is in registers (m accumulators);
//   * warp shuffle reduction, lane 0 applies scale (Q8), bias and accumulate.
// When k or a pointer does not allow aligned 16-byte access, the same kernel takes a scalar path.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

template <Format F>
struct ChunkTraits;
template <> struct ChunkTraits<Format::F32> { static constexpr int kValues = 4; };
template <> struct ChunkTraits<Format::F16> { static constexpr int kValues = 8; };
template <> struct ChunkTraits<Format::BF16> { static constexpr int kValues = 8; };
template <> struct ChunkTraits<Format::Q8PerChannel> { static constexpr int kValues = 16; };
template <> struct ChunkTraits<Format::Q4Group128> { static constexpr int kValues = 32; };

// The 16 bytes of one chunk as fp32 values (Q8: raw int8, Q4: nibble - 8; scales applied by the caller).
template <Format F>
__device__ __forceinline__ void decodeChunk(const uint4& raw, float* v) {
    const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
    if constexpr (F == Format::F32) {
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = __uint_as_float(words[i]);
    } else if constexpr (F == Format::F16 || F == Format::BF16) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const unsigned short lo = static_cast<unsigned short>(words[i]), hi = static_cast<unsigned short>(words[i] >> 16);
            if constexpr (F == Format::F16) {
                v[2 * i] = __half2float(__ushort_as_half(lo));
                v[2 * i + 1] = __half2float(__ushort_as_half(hi));
            } else {
                v[2 * i] = __uint_as_float(static_cast<unsigned>(lo) << 16);
                v[2 * i + 1] = __uint_as_float(static_cast<unsigned>(hi) << 16);
            }
        }
    } else if constexpr (F == Format::Q8PerChannel) {
#pragma unroll
        for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(static_cast<signed char>(words[i / 4] >> (8 * (i % 4))));
    } else {
#pragma unroll
        for (int i = 0; i < 32; ++i) v[i] = static_cast<float>(static_cast<int>((words[i / 8] >> (4 * (i % 8))) & 0xFu) - 8);
    }
}

// One weight element as fp32 for the scalar path (Q8 without its row scale).
template <Format F>
__device__ __forceinline__ float weightAt(const unsigned char* w, std::int64_t row, std::int64_t col, std::int64_t n,
                                          std::int64_t k) {
    if constexpr (F == Format::Q8PerChannel) {
        return static_cast<float>(reinterpret_cast<const signed char*>(w)[row * k + col]);
    } else if constexpr (F == Format::Q4Group128) {
        const auto* scales = reinterpret_cast<const __half*>(w + n * (k / 2));  // F16 group scales
        const int nibble = (w[row * (k / 2) + col / 2] >> ((col & 1) * 4)) & 0xF;
        return static_cast<float>(nibble - 8) * __half2float(scales[row * (k / 128) + col / 128]);
    } else {
        return loadFloat(w, F, row * k + col);
    }
}

template <Format F>
__global__ void matvecKernel(float* out, const float* x, const unsigned char* w, const void* bias, Format biasFormat,
                             int m, std::int64_t n, std::int64_t k, bool accumulate, bool vectorised) {
    const int lane = threadIdx.x % kWarp;
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
    if (row >= n) return;
    float acc[kMatvecMaxRows] = {};
    if (vectorised) {
        constexpr int kValues = ChunkTraits<F>::kValues;
        const std::int64_t rowBytes = F == Format::F32 ? k * 4 : (F == Format::Q8PerChannel ? k : (F == Format::Q4Group128 ? k / 2 : k * 2));
        const uint4* wRow = reinterpret_cast<const uint4*>(w + row * rowBytes);
        const std::int64_t chunks = k / kValues;
#pragma unroll 2
        for (std::int64_t c = lane; c < chunks; c += kWarp) {
            float v[kValues];
            decodeChunk<F>(__ldg(wRow + c), v);
            float scale = 1.0f;
            if constexpr (F == Format::Q4Group128)
                scale = __half2float(reinterpret_cast<const __half*>(w + n * (k / 2))[row * (k / 128) + c * kValues / 128]);
#pragma unroll
            for (int r = 0; r < kMatvecMaxRows; ++r) {
                if (r >= m) break;
                const float4* xp = reinterpret_cast<const float4*>(x + r * k + c * kValues);
                float s = 0.0f;
#pragma unroll
                for (int i = 0; i < kValues / 4; ++i) {
                    const float4 xv = xp[i];
                    s += v[4 * i] * xv.x + v[4 * i + 1] * xv.y + v[4 * i + 2] * xv.z + v[4 * i + 3] * xv.w;
                }
                acc[r] += s * scale;
            }
        }
    } else {
        for (std::int64_t c = lane; c < k; c += kWarp) {
            const float wv = weightAt<F>(w, row, c, n, k);
            for (int r = 0; r < m; ++r) acc[r] += wv * x[r * k + c];
        }
    }
    float rowScale = 1.0f;
    if constexpr (F == Format::Q8PerChannel) {
        const unsigned char* p = w + n * k + row * 4;  // may be unaligned (see quantise.cu)
        rowScale = __uint_as_float(p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<unsigned>(p[3]) << 24));
    }
    const float b = bias ? loadFloat(bias, biasFormat, row) : 0.0f;
#pragma unroll
    for (int r = 0; r < kMatvecMaxRows; ++r) {
        if (r >= m) break;
        const float sum = warpSum(acc[r]) * rowScale;
        if (lane == 0) {
            float* o = out + r * n + row;
            *o = (accumulate ? *o : 0.0f) + sum + b;
        }
    }
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

void matvec(float* out, const float* x, const void* w, Format wFormat, const void* bias, Format biasFormat,
            std::int64_t m, std::int64_t n, std::int64_t k, bool accumulate, cudaStream_t stream) {
    if (m == 0 || n == 0) return;
    int values = 4;
    if (wFormat == Format::F16 || wFormat == Format::BF16) values = 8;
    if (wFormat == Format::Q8PerChannel) values = 16;
    if (wFormat == Format::Q4Group128) values = 32;
    const bool vectorised = k % values == 0 && aligned16(w) && aligned16(x);
    const unsigned blocks = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
    const auto* wb = static_cast<const unsigned char*>(w);
    const int rows = static_cast<int>(m);
    const dim3 block(kWarpsPerBlock * kWarp);
    switch (wFormat) {
    case Format::F16: matvecKernel<Format::F16><<<blocks, block, 0, stream>>>(out, x, wb, bias, biasFormat, rows, n, k, accumulate, vectorised); break;
    case Format::BF16: matvecKernel<Format::BF16><<<blocks, block, 0, stream>>>(out, x, wb, bias, biasFormat, rows, n, k, accumulate, vectorised); break;
    case Format::Q8PerChannel: matvecKernel<Format::Q8PerChannel><<<blocks, block, 0, stream>>>(out, x, wb, bias, biasFormat, rows, n, k, accumulate, vectorised); break;
    case Format::Q4Group128: matvecKernel<Format::Q4Group128><<<blocks, block, 0, stream>>>(out, x, wb, bias, biasFormat, rows, n, k, accumulate, vectorised); break;
    default: matvecKernel<Format::F32><<<blocks, block, 0, stream>>>(out, x, wb, bias, biasFormat, rows, n, k, accumulate, vectorised); break;
    }
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
