// argmax over the first n fp32 values (greedy sampling over the vocabulary, n ≈ 32k): one block of
// 1024 threads; each thread scans a strided slice keeping (value, lowest index), then a shared-memory
// tree reduction that prefers the lower index on ties, matching the CPU reference
// (strict '>' scan, so ties keep the first index).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

constexpr int kThreads = 1024;

__global__ void argmaxKernel(std::int32_t* result, const float* x, std::int64_t n) {
    __shared__ float bestValue[kThreads];
    __shared__ std::int64_t bestIndex[kThreads];
    float value = -INFINITY;
    std::int64_t index = n;  // sentinel larger than every valid index
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x)
        if (index == n || x[i] > value) {  // a thread's first element, then strictly greater only
            value = x[i];
            index = i;
        }
    bestValue[threadIdx.x] = value;
    bestIndex[threadIdx.x] = index;
    __syncthreads();
    for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) {
            const float v = bestValue[threadIdx.x + stride];
            const std::int64_t j = bestIndex[threadIdx.x + stride];
            if (v > bestValue[threadIdx.x] || (v == bestValue[threadIdx.x] && j < bestIndex[threadIdx.x])) {
                bestValue[threadIdx.x] = v;
                bestIndex[threadIdx.x] = j;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) *result = static_cast<std::int32_t>(bestIndex[0] == n ? 0 : bestIndex[0]);
}

}  // namespace

void argmax(std::int32_t* result, const float* x, std::int64_t n, cudaStream_t stream) {
    argmaxKernel<<<1, kThreads, 0, stream>>>(result, x, n);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
