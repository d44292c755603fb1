// rmsNorm and layerNorm over rows of fp32 activations (the two norms share everything but the
// statistics, so they share a file). Scheme: one block of 256 threads per row; each thread strides
// the row, block reductions give sum(x²) (rms) or mean then centred variance (layer, two passes like
// the CPU reference's); fp32 throughout.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void rmsNormKernel(float* out, const float* x, const void* w, Format wFormat, std::int64_t d, float eps) {
    __shared__ float shared[kWarp];
    const float* xr = x + blockIdx.x * d;
    float* o = out + blockIdx.x * d;
    float ss = 0.0f;
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) ss += xr[i] * xr[i];
    ss = blockSum(ss, shared);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(d) + eps);
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = (xr[i] * inv) * loadFloat(w, wFormat, i);
}

__global__ void layerNormKernel(float* out, const float* x, const void* w, Format wFormat, const void* b,
                                Format bFormat, std::int64_t d, float eps) {
    __shared__ float shared[kWarp];
    const float* xr = x + blockIdx.x * d;
    float* o = out + blockIdx.x * d;
    float sum = 0.0f;
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) sum += xr[i];
    const float mean = blockSum(sum, shared) / static_cast<float>(d);
    float var = 0.0f;
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) var += (xr[i] - mean) * (xr[i] - mean);
    var = blockSum(var, shared) / static_cast<float>(d);
    const float inv = 1.0f / sqrtf(var + eps);
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x)
        o[i] = (xr[i] - mean) * inv * loadFloat(w, wFormat, i) + loadFloat(b, bFormat, i);
}

}  // namespace

void rmsNorm(float* out, const float* x, const void* w, Format wFormat, std::int64_t rows, std::int64_t d, float eps,
             cudaStream_t stream) {
    if (rows == 0) return;
    rmsNormKernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(out, x, w, wFormat, d, eps);
    LLAVA_LAUNCH_CHECK();
}

void layerNorm(float* out, const float* x, const void* w, Format wFormat, const void* b, Format bFormat,
               std::int64_t rows, std::int64_t d, float eps, cudaStream_t stream) {
    if (rows == 0) return;
    layerNormKernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(out, x, w, wFormat, b, bFormat, d, eps);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
