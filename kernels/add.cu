// out = a + b over fp32 rows, b in any float format, either full (rows, d) or one row broadcast.
// Scheme: grid-stride loop, one element per thread per step. Aliasing out == a or out == b is fine
// (each element is read then written by the same thread).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void addKernel(float* out, const float* a, const void* b, Format bFormat, std::int64_t n, std::int64_t d,
                          bool broadcast) {
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        out[i] = a[i] + loadFloat(b, bFormat, broadcast ? i % d : i);
}

}  // namespace

void add(float* out, const float* a, const void* b, Format bFormat, std::int64_t rows, std::int64_t d, bool broadcast,
         cudaStream_t stream) {
    const std::int64_t n = rows * d;
    if (n == 0) return;
    addKernel<<<elementwiseBlocks(n, 256), 256, 0, stream>>>(out, a, b, bFormat, n, d, broadcast);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
