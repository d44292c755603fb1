// Weight formats at load time: quantisation to Q8PerChannel / Q4Group128 (tensor.h layouts), the
// reverse (BF16 rows, for prefill GEMMs on quantised weights) and a pseudo-random fill for benchmarks.
// The quantisers repeat the CPU reference's arithmetic exactly (fp32 amax, scale = amax/127, or for Q4
// amax/7 rounded to the F16 it is stored as, inv = 1/scale, round half away from zero then clamp) so
// both backends hold identical bytes.
// Scheme: quantiseQ8 one block per row; quantiseQ4 one block of 128 threads per row looping over its
// groups (thread = column within the group); the rest grid-stride loops.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

// Q8 scales sit right after rows*cols int8 values, so they may be unaligned: byte access only.
__device__ __forceinline__ void storeUnalignedFloat(unsigned char* p, float v) {
    const unsigned u = __float_as_uint(v);
    p[0] = static_cast<unsigned char>(u);
    p[1] = static_cast<unsigned char>(u >> 8);
    p[2] = static_cast<unsigned char>(u >> 16);
    p[3] = static_cast<unsigned char>(u >> 24);
}

__device__ __forceinline__ float loadUnalignedFloat(const unsigned char* p) {
    return __uint_as_float(p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<unsigned>(p[3]) << 24));
}

__global__ void quantiseQ8Kernel(unsigned char* dst, const void* src, Format srcFormat, std::int64_t rows,
                                 std::int64_t cols) {
    __shared__ float shared[kWarp];
    const std::int64_t r = blockIdx.x;
    float amax = 0.0f;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) amax = fmaxf(amax, fabsf(loadFloat(src, srcFormat, r * cols + c)));
    amax = blockMax(amax, shared);
    const float scale = amax / 127.0f, inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    auto* q = reinterpret_cast<signed char*>(dst) + r * cols;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = fminf(fmaxf(__fmul_rn(loadFloat(src, srcFormat, r * cols + c), inv), -127.0f), 127.0f);
        q[c] = static_cast<signed char>(lroundf(v));
    }
    if (threadIdx.x == 0) storeUnalignedFloat(dst + rows * cols + r * 4, scale);
}

__global__ void quantiseQ4Kernel(unsigned char* dst, const void* src, Format srcFormat, std::int64_t rows,
                                 std::int64_t cols) {
    __shared__ float shared[kWarp];
    const std::int64_t r = blockIdx.x, groups = cols / 128;
    __half* scales = reinterpret_cast<__half*>(dst + rows * (cols / 2)) + r * groups;  // 2-byte aligned
    for (std::int64_t g = 0; g < groups; ++g) {
        const std::int64_t col = g * 128 + threadIdx.x;
        const float x = loadFloat(src, srcFormat, r * cols + col);
        const float amax = blockMax(fabsf(x), shared);
        const __half scale16 = __float2half_rn(fminf(amax / 7.0f, 65504.0f));  // stored F16; codes use it
        const float scale = __half2float(scale16), inv = scale > 0.0f ? 1.0f / scale : 0.0f;
        const long rounded = lroundf(__fmul_rn(x, inv));
        const int v = static_cast<int>(rounded < -8 ? -8 : (rounded > 7 ? 7 : rounded)) + 8;
        const int odd = __shfl_down_sync(0xffffffffu, v, 1);
        if ((threadIdx.x & 1) == 0) dst[r * (cols / 2) + col / 2] = static_cast<unsigned char>(v | (odd << 4));
        if (threadIdx.x == 0) scales[g] = scale16;
    }
}

__global__ void dequantiseRowsKernel(__nv_bfloat16* dst, const unsigned char* q, Format format, std::int64_t totalRows,
                                     std::int64_t row0, std::int64_t rows, std::int64_t cols) {
    const std::int64_t n = rows * cols;
    for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < n;
         t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = row0 + t / cols, c = t % cols;
        float v;
        if (format == Format::Q8PerChannel) {
            v = static_cast<float>(reinterpret_cast<const signed char*>(q)[r * cols + c]) *
                loadUnalignedFloat(q + totalRows * cols + r * 4);
        } else {
            const auto* scales = reinterpret_cast<const __half*>(q + totalRows * (cols / 2));
            const int nibble = (q[r * (cols / 2) + c / 2] >> ((c & 1) * 4)) & 0xF;
            v = static_cast<float>(nibble - 8) * __half2float(scales[r * (cols / 128) + c / 128]);
        }
        dst[t] = __float2bfloat16_rn(v);
    }
}

__device__ __forceinline__ std::uint64_t splitMix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

__global__ void fillRandomKernel(void* dst, Format format, std::int64_t rows, std::int64_t cols, float amplitude,
                                 std::uint64_t seed) {
    const bool q8 = format == Format::Q8PerChannel, q4 = format == Format::Q4Group128;
    const std::int64_t valueBytes = q8 ? rows * cols : rows * (cols / 2);
    const std::int64_t n = q8 || q4 ? valueBytes : rows * cols;
    const std::int64_t nScales = q8 ? rows : (q4 ? rows * (cols / 128) : 0);
    auto* bytes = static_cast<unsigned char*>(dst);
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n + nScales;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::uint64_t h = splitMix(seed * 0x100000001b3ull + static_cast<std::uint64_t>(i));
        if (i >= n) {
            const float scale = amplitude / (q8 ? 127.0f : 7.0f);
            if (q8) storeUnalignedFloat(bytes + valueBytes + (i - n) * 4, scale);
            else reinterpret_cast<__half*>(bytes + valueBytes)[i - n] = __float2half_rn(scale);
        } else if (q8) {
            bytes[i] = static_cast<unsigned char>(static_cast<signed char>(static_cast<int>(h % 255) - 127));
        } else if (q4) {
            bytes[i] = static_cast<unsigned char>(h);
        } else {
            const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);  // [0, 1)
            storeFloat(dst, format, i, (2.0f * u - 1.0f) * amplitude);
        }
    }
}

}  // namespace

void quantise(void* dst, Format dstFormat, const void* src, Format srcFormat, std::int64_t rows, std::int64_t cols,
              cudaStream_t stream) {
    if (rows == 0 || cols == 0) return;
    auto* d = static_cast<unsigned char*>(dst);
    if (dstFormat == Format::Q8PerChannel) quantiseQ8Kernel<<<static_cast<unsigned>(rows), 256, 0, stream>>>(d, src, srcFormat, rows, cols);
    else quantiseQ4Kernel<<<static_cast<unsigned>(rows), 128, 0, stream>>>(d, src, srcFormat, rows, cols);
    LLAVA_LAUNCH_CHECK();
}

void dequantiseRows(std::uint16_t* dst, const void* q, Format format, std::int64_t totalRows, std::int64_t row0,
                    std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
    if (rows == 0 || cols == 0) return;
    dequantiseRowsKernel<<<elementwiseBlocks(rows * cols, 256), 256, 0, stream>>>(
        reinterpret_cast<__nv_bfloat16*>(dst), static_cast<const unsigned char*>(q), format, totalRows, row0, rows, cols);
    LLAVA_LAUNCH_CHECK();
}

void fillRandom(void* dst, Format format, std::int64_t rows, std::int64_t cols, float amplitude, std::uint64_t seed,
                cudaStream_t stream) {
    const std::int64_t n = static_cast<std::int64_t>(storageBytes(format, rows, cols));
    if (n == 0) return;
    fillRandomKernel<<<elementwiseBlocks(n, 256), 256, 0, stream>>>(dst, format, rows, cols, amplitude, seed);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
