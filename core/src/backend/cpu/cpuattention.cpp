// CPU attention: out = softmax(q kᵀ · scale [+ causal mask]) v per head, fp32 throughout.
// Parallelisation: one work item per (query row, head); each thread keeps its score row (nKeys floats)
// in its own scratch. GQA: q head h reads kv head h / (nHeads / nKvHeads).
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpukernels.h"

namespace llava::cpu {

void attention(ThreadPool& pool, Scratch& scratch, float* out, const float* q, const float* k, const float* v,
               const AttentionShape& s) {
    const std::int64_t qWidth = static_cast<std::int64_t>(s.nHeads) * s.headDim;
    const std::int64_t kvWidth = static_cast<std::int64_t>(s.nKvHeads) * s.headDim;
    const int group = s.nHeads / s.nKvHeads;
    for (int t = 0; t < pool.size(); ++t) scratch.get(t, static_cast<std::size_t>(s.nKeys));
    pool.parallelFor(s.nQueries * s.nHeads, 1, [&](std::int64_t begin, std::int64_t end, int thread) {
        float* scores = scratch.perThread[static_cast<std::size_t>(thread)].data();  // (nKeys)
        for (std::int64_t item = begin; item < end; ++item) {
            const std::int64_t row = item / s.nHeads;
            const int head = static_cast<int>(item % s.nHeads), kvHead = head / group;
            const std::int64_t visible = s.causal ? std::min<std::int64_t>(s.nKeys, s.nPast + row + 1) : s.nKeys;
            const float* qRow = q + row * qWidth + head * s.headDim;
            float maxScore = -std::numeric_limits<float>::infinity();
            for (std::int64_t j = 0; j < visible; ++j) {
                scores[j] = dot(qRow, k + j * kvWidth + kvHead * s.headDim, s.headDim) * s.scale;
                maxScore = std::max(maxScore, scores[j]);
            }
            float sum = 0;
            for (std::int64_t j = 0; j < visible; ++j) {
                scores[j] = std::exp(scores[j] - maxScore);
                sum += scores[j];
            }
            const float inv = 1.0f / sum;
            float* o = out + row * qWidth + head * s.headDim;
            std::fill(o, o + s.headDim, 0.0f);
            for (std::int64_t j = 0; j < visible; ++j) {
                const float p = scores[j] * inv;
                const float* vRow = v + j * kvWidth + kvHead * s.headDim;
                for (int d = 0; d < s.headDim; ++d) o[d] += p * vRow[d];
            }
        }
    });
}

}  // namespace llava::cpu
