// LlavaModel forward passes. CLIP runs every crop of an image through each layer at once (buffers of
// maxCrops * 577 rows, attention per crop on row views), so a GPU sees GEMMs of ~2900 rows; the decoder
// runs `rows` <= m_chunk positions per pass with residual adds fused into the output projections
// (MatmulMode::Accumulate). Cancellation is polled between CLIP layers, decoder layers and chunks.
#include <algorithm>
#include <cmath>

#include "model/llavamodel.h"

namespace llava {
namespace {

Status cancelled(const char* where) { return makeError(ErrorCode::Cancelled, std::string("cancelled during ") + where); }

// The first `count` rows of a buffer this model sized itself (allocateActivations): infallible (backend.h).
Tensor rows(const Tensor& t, std::int64_t count) { return ownedRowView(t, 0, count); }

}  // namespace

// One CLIP encoder layer over `crops` crops of 577 rows each (rows [0, crops * 577) of the buffers).
Status LlavaModel::clipLayer(int layer, int crops) {
    const auto& w = m_clip[static_cast<std::size_t>(layer)];
    const auto& vc = m_config.vision;
    Backend& b = m_backend;
    const std::int64_t tokens = vc.nPatches() + 1, n = crops * tokens;
    const Tensor h = rows(m_h, n);        // (n, dVision) residual stream
    const Tensor hn = rows(m_hn, n);      // (n, dVision) normed
    const Tensor q = rows(m_vq, n);       // (n, dVision)
    const Tensor k = rows(m_vk, n);       // (n, dVision)
    const Tensor v = rows(m_vv, n);       // (n, dVision)
    const Tensor att = rows(m_vatt, n);   // (n, dVision)
    const Tensor f = rows(m_vf, n);       // (n, dFfnV)
    LLAVA_TRY(b.layerNorm(hn, h, w.ln1W, w.ln1B, vc.layerNormEps));
    LLAVA_TRY(b.matmul(q, hn, w.qW, w.qB, MatmulMode::Overwrite));
    LLAVA_TRY(b.matmul(k, hn, w.kW, w.kB, MatmulMode::Overwrite));
    LLAVA_TRY(b.matmul(v, hn, w.vW, w.vB, MatmulMode::Overwrite));
    const int headDim = vc.dVision / vc.nHeads;
    const AttentionParams params{vc.nHeads, vc.nHeads, headDim, 0, 1.0f / std::sqrt(static_cast<float>(headDim)),
                                 AttentionMask::None, m_clipReducedPrecision};
    for (int c = 0; c < crops; ++c) {  // each crop attends only to itself
        const auto crop = [&](const Tensor& t) { return ownedRowView(t, c * tokens, tokens); };
        LLAVA_TRY(b.attention(crop(att), crop(q), crop(k), crop(v), params));
    }
    LLAVA_TRY(b.matmul(h, att, w.oW, w.oB, MatmulMode::Accumulate));
    const std::string where = "CLIP layer " + std::to_string(layer) + " (vision.encoder.layers." + std::to_string(layer);
    LLAVA_TRY(checkStage(h, n, where + ".self_attn)"));
    LLAVA_TRY(b.layerNorm(hn, h, w.ln2W, w.ln2B, vc.layerNormEps));
    LLAVA_TRY(b.matmul(f, hn, w.fc1W, w.fc1B, MatmulMode::Overwrite));
    LLAVA_TRY(b.quickGelu(f));
    LLAVA_TRY(b.matmul(h, f, w.fc2W, w.fc2B, MatmulMode::Accumulate));
    return checkStage(h, n, where + ".mlp)");
}

Result<std::vector<float>> LlavaModel::encodeImage(std::span<const float> pixels, const ImageLayout& layout,
                                                   const CancelPredicate& cancel) {
    const auto& vc = m_config.vision;
    const int d = m_config.text.dModel, nPatches = vc.nPatches(), tokens = nPatches + 1;
    const std::size_t cropFloats = 3u * static_cast<std::size_t>(vc.imageSize) * static_cast<std::size_t>(vc.imageSize);
    const int nCrops = layout.cropCount();
    if (pixels.size() != cropFloats * static_cast<std::size_t>(nCrops))
        return makeError(ErrorCode::ShapeMismatch, "encodeImage: " + std::to_string(pixels.size()) + " floats for " +
                                                       std::to_string(nCrops) + " crops");
    Backend& b = m_backend;
    std::vector<float> selected, projected(static_cast<std::size_t>(nCrops) * nPatches * d);  // (nCrops*576, dModel)
    if (m_debug) selected.resize(static_cast<std::size_t>(nCrops) * nPatches * vc.dVision);
    for (int c0 = 0; c0 < nCrops; c0 += m_maxCrops) {  // one pass for every image the pinpoints allow
        if (cancel && cancel()) return cancelled("image encoding");
        const auto clipBegin = StageLog::now();
        const int crops = std::min(m_maxCrops, nCrops - c0);
        const std::int64_t patchRows = std::int64_t{crops} * nPatches;
        const Tensor pixelRows = ownedRowView(m_pixels, 0, std::int64_t{crops} * 3 * vc.imageSize);
        const Tensor px = ownedReshaped(pixelRows, {crops, 3, vc.imageSize, vc.imageSize});
        const Tensor patches = rows(m_patches, patchRows);  // (crops*576, dVision)
        LLAVA_TRY(b.upload(px, pixels.data() + cropFloats * static_cast<std::size_t>(c0),
                           cropFloats * static_cast<std::size_t>(crops) * 4));
        LLAVA_TRY(b.patchEmbed(patches, px, m_patchW));
        for (int c = 0; c < crops; ++c) {  // h rows of crop c: [CLS, 576 patches] + position embeddings
            const Tensor crop = ownedRowView(m_h, std::int64_t{c} * tokens, tokens);
            const Tensor cls = ownedRowView(crop, 0, 1);
            const Tensor body = ownedRowView(crop, 1, nPatches);
            const Tensor cropPatches = ownedRowView(patches, std::int64_t{c} * nPatches, nPatches);
            LLAVA_TRY(b.copy(cls, m_classEmb));
            LLAVA_TRY(b.copy(body, cropPatches));
            LLAVA_TRY(b.add(crop, crop, m_posEmb));
        }
        const Tensor h = rows(m_h, std::int64_t{crops} * tokens);
        LLAVA_TRY(b.layerNorm(h, h, m_preW, m_preB, vc.layerNormEps));
        LLAVA_TRY(checkStage(h, std::int64_t{crops} * tokens, "the CLIP embeddings (vision.embeddings.*, vision.pre_layrnorm)"));
        for (int l = 0; l < vc.layersToRun(); ++l) {
            if (cancel && cancel()) return cancelled("image encoding");
            LLAVA_TRY(clipLayer(l, crops));
        }
        for (int c = 0; c < crops; ++c) {  // the selected features: every crop's rows without CLS, packed
            LLAVA_TRY(b.copy(ownedRowView(patches, std::int64_t{c} * nPatches, nPatches),
                             ownedRowView(m_h, std::int64_t{c} * tokens + 1, nPatches)));
        }
        if (m_debug)
            LLAVA_TRY(b.download(patches, selected.data() + static_cast<std::size_t>(c0) * nPatches * vc.dVision,
                                 static_cast<std::size_t>(patchRows) * vc.dVision * 4));
        LLAVA_TRY(endStage(kStageClip, clipBegin, crops, 0, clipBytes(m_config, m_costs, crops), clipFlops(m_config, crops)));
        const auto projectorBegin = StageLog::now();
        const Tensor p1 = rows(m_p1, patchRows);  // (crops*576, dModel)
        const Tensor p2 = rows(m_p2, patchRows);  // (crops*576, dModel)
        LLAVA_TRY(b.matmul(p1, patches, m_proj1W, m_proj1B, MatmulMode::Overwrite));
        LLAVA_TRY(b.gelu(p1));
        LLAVA_TRY(b.matmul(p2, p1, m_proj2W, m_proj2B, MatmulMode::Overwrite));
        LLAVA_TRY(checkStage(p2, patchRows, "the projector (projector.linear_1, projector.linear_2)"));
        LLAVA_TRY(b.download(p2, projected.data() + static_cast<std::size_t>(c0) * nPatches * d,
                             static_cast<std::size_t>(patchRows) * d * 4));
        LLAVA_TRY(endStage(kStageProjector, projectorBegin, crops, 0, projectorBytes(m_config, m_costs, crops),
                           projectorFlops(m_config, crops)));
    }
    const auto mergeBegin = StageLog::now();
    dump("vision.selected", selected, {nCrops * nPatches, vc.dVision});
    dump("projector.out", projected, {nCrops * nPatches, d});
    std::vector<float> newline(static_cast<std::size_t>(d));
    const Tensor nl = ownedRowView(m_lastNorm, 0, 1);  // (1, dModel)
    LLAVA_TRY(b.copy(nl, m_newline));
    LLAVA_TRY(b.download(nl, newline.data(), newline.size() * 4));
    std::vector<float> merged = mergeImageFeatures(projected, layout, vc.patchesPerSide(), newline, d);
    if (firstNonFinite(merged) >= 0)  // the last stage is the merge with image_newline
        LLAVA_TRY(nonFiniteFound("image features (after the merge with image_newline)", "image encoding",
                                 [&] { return encodeImage(pixels, layout, cancel).status(); }));
    dump("image.merged", merged, {static_cast<std::int64_t>(merged.size() / static_cast<std::size_t>(d)), d});
    const auto mergedRows = static_cast<std::int64_t>(merged.size() / static_cast<std::size_t>(d));
    LLAVA_TRY(endStage(kStageMerge, mergeBegin, mergedRows, 0, mergeBytes(m_config, mergedRows, nCrops), 0.0));
    return merged;
}

// One decoder layer over `n` rows at positions [position, position + n). stepOps: a decode step (n == 1)
// whose position-dependent ops read the position from m_step (ropeAt, ropeWriteRowAt = RoPE fused with
// the KV write, writeRowAt, attentionAt over the whole cache), so the step's ops have the same arguments
// every time and Backend::runRecorded can replay them as a CUDA graph.
Status LlavaModel::llmLayer(int layer, const Tensor& x, int n, int position, bool stepOps) {
    const auto& w = m_llm[static_cast<std::size_t>(layer)];
    const auto& t = m_config.text;
    Backend& b = m_backend;
    const Tensor xn = rows(m_xn, n);      // (n, dModel) normed
    const Tensor q = rows(m_q, n);        // (n, nHeads*headDim)
    const Tensor k = rows(m_k, n);        // (n, nKvHeads*headDim)
    const Tensor v = rows(m_v, n);        // (n, nKvHeads*headDim)
    const Tensor att = rows(m_att, n);    // (n, nHeads*headDim)
    const Tensor gate = rows(m_gate, n);  // (n, dFfn)
    const Tensor up = rows(m_up, n);      // (n, dFfn)
    const auto& kc = m_kCache[static_cast<std::size_t>(layer)];
    const auto& vcache = m_vCache[static_cast<std::size_t>(layer)];

    LLAVA_TRY(b.rmsNorm(xn, x, w.inNorm, t.rmsNormEps));
    LLAVA_TRY(b.matmul(q, xn, w.q, {}, MatmulMode::Overwrite));
    LLAVA_TRY(b.matmul(k, xn, w.k, {}, MatmulMode::Overwrite));
    LLAVA_TRY(b.matmul(v, xn, w.v, {}, MatmulMode::Overwrite));
    const AttentionParams params{t.nHeads, t.nKvHeads, t.headDim, position,
                                 1.0f / std::sqrt(static_cast<float>(t.headDim)), AttentionMask::Causal,
                                 m_llmReducedPrecision};
    if (stepOps) {
        LLAVA_TRY(b.ropeAt(q, t.nHeads, t.headDim, m_step, t.ropeTheta));
        LLAVA_TRY(b.ropeWriteRowAt(kc, k, t.nKvHeads, t.headDim, m_step, t.ropeTheta));
        LLAVA_TRY(b.writeRowAt(vcache, v, m_step));
        LLAVA_TRY(b.attentionAt(att, q, kc, vcache, params, m_step));
    } else {
        // prefill() checked position + n <= context, the cache's row count.
        LLAVA_TRY(b.rope(q, t.nHeads, t.headDim, position, t.ropeTheta));
        LLAVA_TRY(b.rope(k, t.nKvHeads, t.headDim, position, t.ropeTheta));
        LLAVA_TRY(b.copy(ownedRowView(kc, position, n), k));
        LLAVA_TRY(b.copy(ownedRowView(vcache, position, n), v));
        if (m_capture) LLAVA_TRY(captureAttention(layer, q, kc, n, position));
        LLAVA_TRY(b.attention(att, q, ownedRowView(kc, 0, position + n), ownedRowView(vcache, 0, position + n),
                              params));
    }
    LLAVA_TRY(b.matmul(x, att, w.o, {}, MatmulMode::Accumulate));
    const std::string where = "decoder layer " + std::to_string(layer) + " (llm.layers." + std::to_string(layer);
    LLAVA_TRY(checkStage(x, n, where + ".input_layernorm, .self_attn)"));
    LLAVA_TRY(b.rmsNorm(xn, x, w.postNorm, t.rmsNormEps));
    LLAVA_TRY(b.matmul(gate, xn, w.gate, {}, MatmulMode::Overwrite));
    LLAVA_TRY(b.matmul(up, xn, w.up, {}, MatmulMode::Overwrite));
    LLAVA_TRY(b.siluMul(gate, gate, up));
    LLAVA_TRY(b.matmul(x, gate, w.down, {}, MatmulMode::Accumulate));
    return checkStage(x, n, where + ".post_attention_layernorm, .mlp)");
}

Status LlavaModel::forwardRows(const Tensor& x, int n, int position, const CancelPredicate& cancel) {
    for (int l = 0; l < m_config.text.nLayers; ++l) {
        if (cancel && cancel()) return cancelled("prefill");
        LLAVA_TRY(llmLayer(l, x, n, position, false));
    }
    return Status::ok();
}

Status LlavaModel::prefill(std::span<const std::int32_t> ids, const std::vector<ImageSlot>& images, int nPast,
                           const CancelPredicate& cancel) {
    const int total = static_cast<int>(ids.size()), d = m_config.text.dModel;
    if (total == 0) return makeError(ErrorCode::InvalidArgument, "prefill: no tokens");
    if (nPast < 0 || nPast + total > m_context)
        return makeError(ErrorCode::OutOfRange, "prefill: " + std::to_string(total) + " tokens after " +
                                                    std::to_string(nPast) + " exceed the context of " + std::to_string(m_context));
    Backend& b = m_backend;
    for (int c0 = 0; c0 < total; c0 += m_chunk) {
        const auto chunkBegin = StageLog::now();
        const int n = std::min(m_chunk, total - c0);
        const Tensor x = rows(m_x, n);  // (n, dModel)
        LLAVA_TRY(b.embed(x, m_embed, ids.subspan(static_cast<std::size_t>(c0), static_cast<std::size_t>(n))));
        for (const auto& img : images) {
            const int imgRows = static_cast<int>(img.features.size() / static_cast<std::size_t>(d));
            const int from = std::max(img.position, c0), to = std::min(img.position + imgRows, c0 + n);
            if (from >= to) continue;
            const Tensor dst = ownedRowView(x, from - c0, to - from);
            LLAVA_TRY(b.upload(dst, img.features.data() + static_cast<std::size_t>(from - img.position) * d,
                               static_cast<std::size_t>(to - from) * d * 4));
        }
        LLAVA_TRY(checkStage(x, n, "the token embedding (llm.embed_tokens.weight) and image rows"));
        LLAVA_TRY(forwardRows(x, n, nPast + c0, cancel));
        if (c0 + n == total) {
            LLAVA_TRY(b.rmsNorm(m_lastNorm, ownedRowView(x, n - 1, 1), m_finalNorm, m_config.text.rmsNormEps));
            LLAVA_TRY(checkStage(m_lastNorm, 1, "the final norm (llm.norm.weight)"));
            LLAVA_TRY(b.matmul(m_logits, m_lastNorm, m_lmHead, {}, MatmulMode::Overwrite));
            LLAVA_TRY(b.download(m_logits, m_logitsHost.data(), m_logitsHost.size() * 4));
        }
        const bool last = c0 + n == total;
        LLAVA_TRY(endStage(kStagePrefillChunk, chunkBegin, n, nPast + c0, decoderBytes(m_config, m_costs, n, nPast + c0, last),
                           decoderFlops(m_config, n, nPast + c0, last)));
    }
    LLAVA_TRY(checkLogitsHost("prefill", [&] { return prefill(ids, images, nPast, cancel); }));
    dump("logits", m_logitsHost, {m_config.text.nVocab});
    return Status::ok();
}

Status LlavaModel::decodeStep() {
    Backend& b = m_backend;
    const Tensor x = rows(m_x, 1);  // (1, dModel)
    LLAVA_TRY(b.embedAt(x, m_embed, m_step));
    LLAVA_TRY(checkStage(x, 1, "the token embedding (llm.embed_tokens.weight)"));  // checks: only when diagnosing
    for (int l = 0; l < m_config.text.nLayers; ++l) LLAVA_TRY(llmLayer(l, x, 1, 0, true));
    LLAVA_TRY(b.rmsNorm(m_lastNorm, x, m_finalNorm, m_config.text.rmsNormEps));
    LLAVA_TRY(checkStage(m_lastNorm, 1, "the final norm (llm.norm.weight)"));
    return b.matmul(m_logits, m_lastNorm, m_lmHead, {}, MatmulMode::Overwrite);
}

Status LlavaModel::runDecodeStep(std::int32_t id, int position) {
    if (position < 0 || position >= m_context)
        return makeError(ErrorCode::OutOfRange, "decode: position " + std::to_string(position) +
                                                    " is outside the context of " + std::to_string(m_context));
    if (id < 0 || id >= m_embed.rows())
        return makeError(ErrorCode::OutOfRange, "decode: token id " + std::to_string(id) + " >= vocabulary rows " +
                                                    std::to_string(m_embed.rows()));
    const std::int32_t step[2] = {position, id};
    Backend& b = m_backend;
    LLAVA_TRY(b.upload(m_step, step, sizeof step));
    return b.runRecorded(m_decodeKey, [this] { return decodeStep(); });
}

// The failing decode step again, eagerly (not replayed) with a scan after every stage. The step tensor
// still holds the step's position and id; the KV rows it rewrites get the same values.
Status LlavaModel::rerunDecodeStepChecked() {
    LLAVA_TRY(decodeStep());
    LLAVA_TRY(m_backend.download(m_logits, m_logitsHost.data(), m_logitsHost.size() * 4));
    return checkLogitsHost("decode", {});
}

Status LlavaModel::decode(std::int32_t id, int position) {
    const auto begin = StageLog::now();
    LLAVA_TRY(runDecodeStep(id, position));
    LLAVA_TRY(m_backend.download(m_logits, m_logitsHost.data(), m_logitsHost.size() * 4));
    LLAVA_TRY(checkLogitsHost("decode", [this] { return rerunDecodeStepChecked(); }));
    dump("logits", m_logitsHost, {m_config.text.nVocab});
    return endStage(kStageDecodeFirst, begin, 1, position, decoderBytes(m_config, m_costs, 1, position, true),
                    decoderFlops(m_config, 1, position, true));
}

Result<std::int32_t> LlavaModel::decodeGreedy(std::int32_t id, int position, int nValid) {
    const auto begin = StageLog::now();
    LLAVA_TRY(runDecodeStep(id, position));
    if (m_debug) {
        std::vector<float> logits(m_logitsHost.size());
        LLAVA_TRY(m_backend.download(m_logits, logits.data(), logits.size() * 4));
        dump("logits", logits, {m_config.text.nVocab});
    }
    LLAVA_ASSIGN_OR_RETURN(const std::int32_t best, m_backend.argmax(m_logits, nValid));
    // Only the chosen logit comes back (4 bytes): NaN/Inf hidden states make every logit non-finite, so
    // the winner is too. (A NaN confined to single lm_head rows is caught by the full-logits paths only.)
    // `best` comes from the device, so its row view stays checked.
    const Tensor column = ownedReshaped(m_logits, {m_logits.elementCount(), 1});  // (nVocab, 1)
    LLAVA_ASSIGN_OR_RETURN(const Tensor chosen, rowView(column, best, 1));
    float value = 0;
    LLAVA_TRY(m_backend.download(chosen, &value, 4));
    if (!std::isfinite(value)) {
        const std::string what = "logits (the greedy choice, token id " + std::to_string(best) + ", is " +
                                 (std::isnan(value) ? "NaN" : "Inf") + ")";
        return nonFiniteFound(what.c_str(), "decode", [this] { return rerunDecodeStepChecked(); });
    }
    LLAVA_TRY(endStage(kStageDecodeFirst, begin, 1, position, decoderBytes(m_config, m_costs, 1, position, true),
                       decoderFlops(m_config, 1, position, true)));
    return best;
}

}  // namespace llava
