// The tensor-core attention path: see attention_gemm.h for the algorithm and attention_softmax.cu for
// the masked softmax. Index bookkeeping (row-major, elements):
//   q (nQueries, H*hd), k/v (nKeys, Hkv*hd), out (nQueries, H*hd); head h = g*G + j (G = H / Hkv).
//   S for a chunk of `rows` queries: (H, rows, ldS) with head h at h*rows*ldS, so one call for a fixed j
//   writes batch item g (head g*G + j) at j*rows*ldS + g*(G*rows*ldS). ldS = nK rounded up to 8, so every
//   row of S and P starts 16-byte aligned (cuBLAS's tensor-core kernels want that; an odd nK is common).
#include "attention_gemm.h"

#include <algorithm>

namespace llava::cuda {
namespace {

std::int64_t roundUp8(std::int64_t n) { return (n + 7) / 8 * 8; }

}  // namespace

void attentionByGemm(const GemmContext& gemm, const AttentionGemmScratch& scratch, float* out, const float* q,
                     const void* k, const void* v, Format kvFormat, const AttentionShape& d, bool reducedPrecision,
                     cudaStream_t stream) {
    const std::int64_t hd = d.headDim, heads = d.nHeads, kvHeads = d.nKvHeads, group = heads / kvHeads;
    const std::int64_t qWidth = heads * hd, kvWidth = kvHeads * hd;
    if (d.nQueries == 0) return;

    // Operands in one format: F16 (reduced) or F32. q is fp32 and converted when reduced; k/v are used
    // as they are when already in the operand format (an F16 KV cache), else converted into scratch.
    const Format operandFormat = reducedPrecision ? Format::F16 : Format::F32;
    const std::size_t operandSize = reducedPrecision ? 2 : 4;
    const void *qOp = q, *kOp = k, *vOp = v;
    const bool convertQ = reducedPrecision, convertKv = kvFormat != operandFormat;
    const std::size_t qBytes = convertQ ? static_cast<std::size_t>(d.nQueries * qWidth) * operandSize : 0;
    const std::size_t kvBytes = convertKv ? static_cast<std::size_t>(d.nKeys * kvWidth) * operandSize : 0;
    if (qBytes + kvBytes > 0) {
        auto* base = static_cast<char*>(scratch.operands->ensure(qBytes + 2 * kvBytes, stream, "attention operands"));
        if (convertQ) {
            convert(base, operandFormat, q, Format::F32, d.nQueries * qWidth, stream);
            qOp = base;
        }
        if (convertKv) {
            convert(base + qBytes, operandFormat, k, kvFormat, d.nKeys * kvWidth, stream);
            convert(base + qBytes + kvBytes, operandFormat, v, kvFormat, d.nKeys * kvWidth, stream);
            kOp = base + qBytes;
            vOp = base + qBytes + kvBytes;
        }
    }
    auto at = [&](const void* base, std::int64_t elements) {
        return static_cast<const void*>(static_cast<const char*>(base) + elements * static_cast<std::int64_t>(operandSize));
    };

    // Rows per chunk: scores (4 B) + separate F16 probabilities (2 B) per (head, row, key) within budget.
    const std::int64_t bytesPerRow = heads * roundUp8(std::max<std::int64_t>(d.nKeys, 1)) * (reducedPrecision ? 6 : 4);
    const std::int64_t chunk = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(kAttentionScoreBudgetBytes) / bytesPerRow, 1, d.nQueries);
    const std::size_t scoreFloats = static_cast<std::size_t>(heads * chunk * roundUp8(std::max<std::int64_t>(d.nKeys, 1)));
    auto* region = static_cast<char*>(scratch.scores->ensure(
        scoreFloats * (reducedPrecision ? 6 : 4), stream, "attention scores"));

    for (std::int64_t r0 = 0; r0 < d.nQueries; r0 += chunk) {
        const std::int64_t rows = std::min(chunk, d.nQueries - r0);
        const std::int64_t nK = d.causal ? std::min(d.nKeys, d.nPast + r0 + rows) : d.nKeys;
        float* rowsOut = out + r0 * qWidth;
        if (nK == 0) {  // nothing visible: zero rows (backend.h)
            LLAVA_CUDA_CHECK(cudaMemsetAsync(rowsOut, 0, static_cast<std::size_t>(rows * qWidth) * 4, stream));
            continue;
        }
        const std::int64_t ldS = roundUp8(nK);
        auto* scores = reinterpret_cast<float*>(region);
        void* probs = reducedPrecision ? static_cast<void*>(region + static_cast<std::size_t>(heads * rows * ldS) * 4)
                                       : static_cast<void*>(scores);
        const std::int64_t headStride = rows * ldS;  // S/P elements between consecutive heads
        for (std::int64_t j = 0; j < group; ++j) {
            const StridedMatrices qj{at(qOp, r0 * qWidth + j * hd), qWidth, group * hd};
            const StridedMatrices kAll{kOp, kvWidth, hd};
            batchedGemm(gemm, BatchedOp::ABt, scores + j * headStride, ldS, group * headStride, qj, kAll, operandFormat,
                        rows, nK, hd, kvHeads, d.scale);
        }
        attentionSoftmax(probs, operandFormat, scores, rows, heads, nK, ldS, d.nPast + r0, d.causal, stream);
        const auto* probBytes = static_cast<const char*>(probs);
        for (std::int64_t j = 0; j < group; ++j) {
            const StridedMatrices pj{probBytes + j * headStride * static_cast<std::int64_t>(operandSize), ldS,
                                     group * headStride};
            const StridedMatrices vAll{vOp, kvWidth, hd};
            batchedGemm(gemm, BatchedOp::AB, rowsOut + j * hd, qWidth, group * hd, pj, vAll, operandFormat, rows, hd,
                        nK, kvHeads, 1.0f);
        }
    }
}

}  // namespace llava::cuda
