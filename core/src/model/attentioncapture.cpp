// LlavaModel::captureAttention: the attention probabilities of the captured query rows of one prefill pass,
// recomputed on the host from the roped q rows and the layer's K cache (the backend's fused attention
// never materialises them). Only runs while an AttentionCapture is set.
// The cache may be F32, F16 (CUDA; the CPU backend with 16-bit weights) or BF16, and q any float format: the
// rows asked for are downloaded as stored and widened here, so the probabilities are those of the keys the
// model attended with. Cost: one q row and (position + 1) cache rows per captured position and layer.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "backend/cpu/halfconv.h"
#include "model/llavamodel.h"

namespace llava {
namespace {

// Downloads `t` (rows, cols; F32/F16/BF16) and widens it to fp32 into `out` (rows * cols). `raw` is reused.
Status downloadAsF32(Backend& backend, const Tensor& t, std::vector<std::byte>& raw, std::vector<float>& out,
                     const char* what) {
    const std::size_t n = static_cast<std::size_t>(t.elementCount());
    out.resize(n);
    if (t.format == StorageFormat::F32) return backend.download(t, out.data(), n * sizeof(float));
    if (t.format != StorageFormat::F16 && t.format != StorageFormat::BF16)
        return makeError(ErrorCode::Unsupported, std::string("attention capture: ") + what + " is " +
                                                     std::string(storageFormatName(t.format)) +
                                                     ", expected F32, F16 or BF16");
    raw.resize(n * 2);
    LLAVA_TRY(backend.download(t, raw.data(), raw.size()));
    const bool f16 = t.format == StorageFormat::F16;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = f16 ? cpu::f16ToF32(h) : cpu::bf16ToF32(h);
    }
    return Status::ok();
}

}  // namespace

Status LlavaModel::captureAttention(int layer, const Tensor& q, const Tensor& kCache, int n, int position) {
    const auto& t = m_config.text;
    AttentionCapture& c = *m_capture;
    c.rows.resize(c.positions.size() * static_cast<std::size_t>(t.nLayers) * static_cast<std::size_t>(t.nHeads));
    const int kvWidth = t.nKvHeads * t.headDim, group = t.nHeads / t.nKvHeads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(t.headDim));
    std::vector<float> qRow;      // (nHeads * headDim)
    std::vector<float> keys;      // (keys, nKvHeads * headDim)
    std::vector<std::byte> raw;   // a 16-bit download before widening
    std::vector<double> scores;
    for (std::size_t i = 0; i < c.positions.size(); ++i) {
        const int p = c.positions[i];
        if (p < position || p >= position + n) continue;
        LLAVA_ASSIGN_OR_RETURN(Tensor qView, rowView(q, p - position, 1));
        LLAVA_TRY(downloadAsF32(m_backend, qView, raw, qRow, "q"));
        LLAVA_ASSIGN_OR_RETURN(Tensor kView, rowView(kCache, 0, p + 1));
        LLAVA_TRY(downloadAsF32(m_backend, kView, raw, keys, "the K cache"));
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
