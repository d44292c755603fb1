// Rotate-half RoPE in place (HF LlamaRotaryEmbedding): for each (row, head, i < headDim/2),
// angle = (positionStart + row) * theta^(-2i/headDim) in fp32, (a, b) -> (a cos - b sin, b cos + a sin)
// with a = x[i], b = x[i + half]. Scheme: one thread per (row, i) pair, looping over heads so the
// angle and its sin/cos are computed once per pair (precise sinf/cosf: positions reach thousands).
// inv_freq is computed on the HOST with the same std::pow(float, float) call as the CPU reference and
// passed by value: device powf differs by up to 2 ulp, and at position ~3000 one ulp of inv_freq moves
// the angle by ~2e-4 rad, enough to eat most of the 1e-7 NMSE budget.
// positionFrom (decode steps replayed as a graph): the start position is read from device memory.
// ropeWriteRowAt: the same rotation of one row, written straight into a KV-cache row (F32 or F16) at the
// position read on the device: RoPE fused with the cache write, the rotated row never stored elsewhere.
#include <cmath>
#include <string>

#include "device_common.cuh"

namespace llava::cuda {
namespace {

struct InvFreqTable {
    float v[kRopeMaxHeadDim / 2];  // (headDim / 2)
};

__global__ void ropeKernel(float* x, std::int64_t rows, int nHeads, int headDim, int positionStart,
                           const std::int32_t* positionFrom, const InvFreqTable invFreqs) {
    const int half = headDim / 2;
    if (positionFrom) positionStart = *positionFrom;
    const std::int64_t total = rows * half;
    for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = t / half;
        const int i = static_cast<int>(t % half);
        const float invFreq = invFreqs.v[i];
        const float angle = static_cast<float>(positionStart + r) * invFreq;
        float s, c;
        sincosf(angle, &s, &c);
        float* row = x + r * static_cast<std::int64_t>(nHeads) * headDim;
        for (int h = 0; h < nHeads; ++h) {
            float* v = row + h * headDim;
            const float a = v[i], b = v[i + half];
            v[i] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));  // no FMA contraction: rounded like the CPU loop
            v[i + half] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
        }
    }
}

__global__ void ropeWriteRowAtKernel(void* cache, Format cacheFormat, const float* src, std::int64_t cacheRows,
                                     int nHeads, int headDim, const std::int32_t* positionFrom,
                                     const InvFreqTable invFreqs) {
    const int half = headDim / 2;
    const std::int64_t row = *positionFrom;
    if (row < 0 || row >= cacheRows) return;  // validated before upload; never write outside the cache
    const std::int64_t width = static_cast<std::int64_t>(nHeads) * headDim;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < half; i += gridDim.x * blockDim.x) {
        float s, c;
        sincosf(static_cast<float>(row) * invFreqs.v[i], &s, &c);
        for (int h = 0; h < nHeads; ++h) {
            const float a = src[h * headDim + i], b = src[h * headDim + i + half];
            storeFloat(cache, cacheFormat, row * width + h * headDim + i, __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s)));
            storeFloat(cache, cacheFormat, row * width + h * headDim + i + half, __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s)));
        }
    }
}

InvFreqTable invFreqTable(int headDim, float theta) {
    if (headDim > kRopeMaxHeadDim)
        throw BackendError(ErrorCode::Unsupported,
                           "rope: headDim " + std::to_string(headDim) + " > " + std::to_string(kRopeMaxHeadDim));
    InvFreqTable table{};
    for (int i = 0; i < headDim / 2; ++i)  // exactly the CPU reference's expression (cpuops.cpp)
        table.v[i] = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(headDim));
    return table;
}

}  // namespace

void ropeWriteRowAt(void* cache, Format cacheFormat, const float* src, std::int64_t cacheRows, int nHeads, int headDim,
                    float theta, const std::int32_t* positionFrom, cudaStream_t stream) {
    if (headDim < 2) return;
    const InvFreqTable table = invFreqTable(headDim, theta);
    ropeWriteRowAtKernel<<<1, 64, 0, stream>>>(cache, cacheFormat, src, cacheRows, nHeads, headDim, positionFrom, table);
    LLAVA_LAUNCH_CHECK();
}

void rope(float* x, std::int64_t rows, int nHeads, int headDim, int positionStart, float theta, cudaStream_t stream,
          const std::int32_t* positionFrom) {
    const std::int64_t total = rows * (headDim / 2);
    if (total == 0) return;
    const InvFreqTable table = invFreqTable(headDim, theta);
    ropeKernel<<<elementwiseBlocks(total, 256), 256, 0, stream>>>(x, rows, nHeads, headDim, positionStart, positionFrom,
                                                                  table);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
