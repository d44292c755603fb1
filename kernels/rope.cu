// Rotate-half RoPE in place (HF LlamaRotaryEmbedding): for each (row, head, i < headDim/2),
// angle = (positionStart + row) * theta^(-2i/headDim) in fp32, (a, b) -> (a cos - b sin, b cos + a sin)
// with a = x[i], b = x[i + half]. Scheme: one thread per (row, i) pair, looping over heads so the
// angle and its sin/cos are computed once per pair (precise sinf/cosf: positions reach thousands).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void ropeKernel(float* x, std::int64_t rows, int nHeads, int headDim, int positionStart, float theta) {
    const int half = headDim / 2;
    const std::int64_t total = rows * half;
    for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = t / half;
        const int i = static_cast<int>(t % half);
        const float invFreq = 1.0f / powf(theta, static_cast<float>(2 * i) / static_cast<float>(headDim));
        const float angle = static_cast<float>(positionStart + r) * invFreq;
        float s, c;
        sincosf(angle, &s, &c);
        float* row = x + r * static_cast<std::int64_t>(nHeads) * headDim;
        for (int h = 0; h < nHeads; ++h) {
            float* v = row + h * headDim;
            const float a = v[i], b = v[i + half];
            v[i] = a * c - b * s;
            v[i + half] = b * c + a * s;
        }
    }
}

}  // namespace

void rope(float* x, std::int64_t rows, int nHeads, int headDim, int positionStart, float theta, cudaStream_t stream) {
    const std::int64_t total = rows * (headDim / 2);
    if (total == 0) return;
    ropeKernel<<<elementwiseBlocks(total, 256), 256, 0, stream>>>(x, rows, nHeads, headDim, positionStart, theta);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
