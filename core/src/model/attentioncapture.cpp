// LlavaModel::captureAttention: the attention probabilities of the captured query rows of one prefill pass,
// recomputed on the host from the roped q rows and the layer's K cache (the backend's fused attention
// never materialises them). Only runs while an AttentionCapture is set.
#include <algorithm>
#include <cmath>
#include <string>

#include "model/llavamodel.h"

namespace llava {

Status LlavaModel::captureAttention(int layer, const Tensor& q, const Tensor& kCache, int n, int position) {
    const auto& t = m_config.text;
    if (kCache.format != StorageFormat::F32)
        return makeError(ErrorCode::Unsupported, "attention capture needs an F32 KV cache (the CPU backend), not " +
                                                     std::string(storageFormatName(kCache.format)));
    AttentionCapture& c = *m_capture;
    c.rows.resize(c.positions.size() * static_cast<std::size_t>(t.nLayers) * static_cast<std::size_t>(t.nHeads));
    const int qWidth = t.nHeads * t.headDim, kvWidth = t.nKvHeads * t.headDim, group = t.nHeads / t.nKvHeads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(t.headDim));
    std::vector<float> qRow(static_cast<std::size_t>(qWidth));   // (nHeads * headDim)
    std::vector<float> keys;                                     // (keys, nKvHeads * headDim)
    std::vector<double> scores;
    for (std::size_t i = 0; i < c.positions.size(); ++i) {
        const int p = c.positions[i];
        if (p < position || p >= position + n) continue;
        LLAVA_ASSIGN_OR_RETURN(Tensor qView, rowView(q, p - position, 1));
        LLAVA_TRY(m_backend.download(qView, qRow.data(), qRow.size() * sizeof(float)));
        LLAVA_ASSIGN_OR_RETURN(Tensor kView, rowView(kCache, 0, p + 1));
        keys.resize(static_cast<std::size_t>(p + 1) * kvWidth);
        LLAVA_TRY(m_backend.download(kView, keys.data(), keys.size() * sizeof(float)));
        scores.resize(static_cast<std::size_t>(p + 1));
        for (int h = 0; h < t.nHeads; ++h) {
            const float* qh = qRow.data() + static_cast<std::size_t>(h) * t.headDim;
            const std::size_t kvOffset = static_cast<std::size_t>(h / group) * t.headDim;
            double maxScore = -INFINITY;
            for (int j = 0; j <= p; ++j) {
                const float* kj = keys.data() + static_cast<std::size_t>(j) * kvWidth + kvOffset;
                double dot = 0;
                for (int d = 0; d < t.headDim; ++d) dot += double(qh[d]) * kj[d];
                scores[static_cast<std::size_t>(j)] = dot * scale;
                maxScore = std::max(maxScore, dot * scale);
            }
            double sum = 0;
            for (double& s : scores) sum += (s = std::exp(s - maxScore));
            std::vector<float>& row = c.rows[(i * t.nLayers + static_cast<std::size_t>(layer)) * t.nHeads + h];
            row.resize(scores.size());
            for (std::size_t j = 0; j < scores.size(); ++j) row[j] = static_cast<float>(scores[j] / sum);
        }
    }
    return Status::ok();
}

}  // namespace llava
