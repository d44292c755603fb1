// Elementwise activations in fp32: quickGelu x*sigmoid(1.702x) (CLIP), exact gelu 0.5x(1+erf(x/√2))
// (projector), and silu(gate)*up (Mistral/Llama MLP). Scheme: grid-stride loop, one element per
// thread per step; precise expf/erff (no fast-math) to stay within the fp32 parity target.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void activationKernel(float* x, std::int64_t n, Activation kind) {
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float v = x[i];
        x[i] = kind == Activation::QuickGelu ? v / (1.0f + expf(-1.702f * v))
                                             : 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    }
}

__global__ void siluMulKernel(float* out, const float* gate, const float* up, std::int64_t n) {
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

}  // namespace

void activation(float* x, std::int64_t n, Activation kind, cudaStream_t stream) {
    if (n == 0) return;
    activationKernel<<<elementwiseBlocks(n, 256), 256, 0, stream>>>(x, n, kind);
    LLAVA_LAUNCH_CHECK();
}

void siluMul(float* out, const float* gate, const float* up, std::int64_t n, cudaStream_t stream) {
    if (n == 0) return;
    siluMulKernel<<<elementwiseBlocks(n, 256), 256, 0, stream>>>(out, gate, up, n);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
