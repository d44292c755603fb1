// im2col for the CLIP patch embedding (a conv with kernel = stride = p): each output row is one patch
// of one crop, laid out (channel, y, x) to match the conv weight (D, 3, p, p) flattened to (D, 3*p*p);
// BackendCuda::patchEmbed then runs an ordinary matmul through gemm. Scheme: grid-stride over output
// elements; reads are strided by `side` but the whole input is a few MB and L2-resident.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void im2colKernel(float* cols, const float* pixels, std::int64_t crops, std::int64_t side, std::int64_t p) {
    const std::int64_t grid = side / p, k = 3 * p * p, total = crops * grid * grid * k;
    for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t patch = t / k, e = t % k;
        const std::int64_t crop = patch / (grid * grid), gy = (patch / grid) % grid, gx = patch % grid;
        const std::int64_t ch = e / (p * p), y = (e / p) % p, x = e % p;
        cols[t] = pixels[((crop * 3 + ch) * side + gy * p + y) * side + gx * p + x];
    }
}

}  // namespace

void im2col(float* cols, const float* pixels, std::int64_t crops, std::int64_t side, std::int64_t p,
            cudaStream_t stream) {
    const std::int64_t total = crops * (side / p) * (side / p) * 3 * p * p;
    if (total == 0) return;
    im2colKernel<<<elementwiseBlocks(total, 256), 256, 0, stream>>>(cols, pixels, crops, side, p);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
