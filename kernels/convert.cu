// Element-wise format conversion between F32, F16 and BF16 (Backend::copy across formats, weights
// converted to F16 at load, activations converted for tensor-core GEMMs). Round to nearest even like
// the CPU encoders. Scheme: grid-stride loop, one element per thread per step.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void convertKernel(void* dst, Format dstFormat, const void* src, Format srcFormat, std::int64_t n) {
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        storeFloat(dst, dstFormat, i, loadFloat(src, srcFormat, i));
}

// One row of a cache at a row index read from device memory (decode steps replayed as a graph).
__global__ void convertRowAtKernel(void* cache, Format cacheFormat, const float* src, std::int64_t cols,
                                   std::int64_t cacheRows, const std::int32_t* rowFrom) {
    const std::int64_t row = *rowFrom;
    if (row < 0 || row >= cacheRows) return;  // validated before upload; never write outside the cache
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < cols;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        storeFloat(cache, cacheFormat, row * cols + i, src[i]);
}

}  // namespace

void convertRowAt(void* cache, Format cacheFormat, const float* src, std::int64_t cols, std::int64_t cacheRows,
                  const std::int32_t* rowFrom, cudaStream_t stream) {
    if (cols == 0) return;
    convertRowAtKernel<<<elementwiseBlocks(cols, 256), 256, 0, stream>>>(cache, cacheFormat, src, cols, cacheRows, rowFrom);
    LLAVA_LAUNCH_CHECK();
}

void convert(void* dst, Format dstFormat, const void* src, Format srcFormat, std::int64_t n, cudaStream_t stream) {
    if (n == 0) return;
    convertKernel<<<elementwiseBlocks(n, 256), 256, 0, stream>>>(dst, dstFormat, src, srcFormat, n);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
