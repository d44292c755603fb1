// Row softmax of the tensor-core attention path (attention_gemm.cpp): the scores of one (head, query)
// row -> probabilities, with the causal mask applied here rather than in the GEMM (the GEMM computes the
// whole rectangle of keys up to the chunk's last visible one; masked entries become exact zeros, so the
// probability-value GEMM adds nothing for them). One block per row; three passes over the row (max,
// sum of exp, write), which stays in L1/L2 (<= 16 KiB per row for 4096 keys).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

constexpr int kSoftmaxThreads = 256;

__global__ void attentionSoftmaxKernel(void* p, Format pFormat, const float* s, std::int64_t m, std::int64_t n,
                                       std::int64_t ld, std::int64_t firstPosition, bool causal) {
    __shared__ float reduce[kWarp];
    const std::int64_t row = blockIdx.x;
    const std::int64_t query = row % m;
    const std::int64_t visible = causal ? min(n, firstPosition + query + 1) : n;
    const float* scores = s + row * ld;
    float mx = -INFINITY;
    for (std::int64_t j = threadIdx.x; j < visible; j += blockDim.x) mx = fmaxf(mx, scores[j]);
    mx = blockMax(mx, reduce);
    float sum = 0.0f;
    for (std::int64_t j = threadIdx.x; j < visible; j += blockDim.x) sum += expf(scores[j] - mx);
    sum = blockSum(sum, reduce);  // its barriers also order every read above before the writes below
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    // In place (F32, p == s) is safe: each thread reads element j just before it writes element j.
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x)
        storeFloat(p, pFormat, row * ld + j, j < visible ? expf(scores[j] - mx) * inv : 0.0f);
}

}  // namespace

void attentionSoftmax(void* p, Format pFormat, const float* s, std::int64_t m, std::int64_t nBatch, std::int64_t n,
                      std::int64_t ld, std::int64_t firstPosition, bool causal, cudaStream_t stream) {
    const std::int64_t rows = m * nBatch;
    if (rows == 0 || n == 0) return;
    attentionSoftmaxKernel<<<static_cast<unsigned>(rows), kSoftmaxThreads, 0, stream>>>(p, pFormat, s, m, n, ld,
                                                                                      firstPosition, causal);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
