// Device helpers shared by the kernels: element decode by storage format, warp/block reductions,
// grid sizing. Header-only, included by .cu files only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_check.h"
#include "ops.h"

namespace llava::cuda {

constexpr int kWarp = 32;

// Element i of a F32/F16/BF16 array as fp32 (exact for all three).
__device__ __forceinline__ float loadFloat(const void* p, Format format, std::int64_t i) {
    switch (format) {
    case Format::F16: return __half2float(static_cast<const __half*>(p)[i]);
    case Format::BF16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    default: return static_cast<const float*>(p)[i];
    }
}

// Round to nearest even, matching the CPU encoders in halfconv.h.
__device__ __forceinline__ void storeFloat(void* p, Format format, std::int64_t i, float v) {
    switch (format) {
    case Format::F16: static_cast<__half*>(p)[i] = __float2half_rn(v); break;
    case Format::BF16: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v); break;
    default: static_cast<float*>(p)[i] = v; break;
    }
}

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
    for (int o = kWarp / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum (kMax false) or max (kMax true) over the block (blockDim.x a multiple of 32, <= 1024); every thread
// gets the result. `shared` holds >= 32 floats; the function syncs before returning so shared can be reused.
template <bool kMax>
__device__ __forceinline__ float blockReduce(float v, float* shared) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, nWarps = blockDim.x / kWarp;
    v = kMax ? warpMax(v) : warpSum(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float total = lane < nWarps ? shared[lane] : (kMax ? -INFINITY : 0.0f);
    total = kMax ? warpMax(total) : warpSum(total);
    __syncthreads();
    return total;
}
__device__ __forceinline__ float blockSum(float v, float* shared) { return blockReduce<false>(v, shared); }
__device__ __forceinline__ float blockMax(float v, float* shared) { return blockReduce<true>(v, shared); }

// Blocks for a grid-stride elementwise kernel over n elements (capped; kernels loop).
inline unsigned elementwiseBlocks(std::int64_t n, int threads) {
    const std::int64_t blocks = (n + threads - 1) / threads;
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

}  // namespace llava::cuda
