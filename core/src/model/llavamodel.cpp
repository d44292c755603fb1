// LlavaModel construction: weight upload by canonical name (checkpoint.h), KV cache and activation
// buffers sized once from the config, the context length and the prefill chunk; plus the host merge.
#include "model/llavamodel.h"

#include <algorithm>
#include <string>
#include <utility>

namespace llava {

LlavaModel::~LlavaModel() {
    for (const auto& t : m_owned) m_backend.release(t);
}

Result<std::unique_ptr<LlavaModel>> LlavaModel::create(Backend& backend, const Checkpoint& checkpoint,
                                                       WeightPrecision precision, int contextLength,
                                                       const ModelProgress& progress,
                                                       const QuantCacheOptions& cacheOptions,
                                                       QuantCacheReport* cacheReport, KvCacheFormat kvCache) {
    std::unique_ptr<LlavaModel> model(new LlavaModel(backend, checkpoint.config()));
    const auto& text = model->m_config.text;
    if (contextLength < 1) return makeError(ErrorCode::InvalidArgument, "context length must be >= 1");
    model->m_context = std::min(contextLength, text.maxPositions);
    model->m_chunk = std::max(1, std::min(backend.info().prefillRows, model->m_context));
    model->m_kvRequest = kvCache;
    const int side = model->m_config.vision.imageSize;
    for (const auto& [w, h] : model->m_config.gridPinpoints)
        if (side > 0) model->m_maxCrops = std::max(model->m_maxCrops, 1 + ((w + side - 1) / side) * ((h + side - 1) / side));
    // A backend that adopts host weights (CPU) multiplies straight from the cache mapping, so the model keeps
    // the cache open; otherwise it is held only while loading (the device has its own copy).
    std::unique_ptr<QuantCache> cache = openOrBuildQuantCache(checkpoint, precision, cacheOptions, cacheReport);
    LLAVA_TRY(model->loadWeights(checkpoint, precision, progress, cache.get()));
    if (cache && backend.adoptsHostWeights()) model->m_quantCache = std::move(cache);
    LLAVA_TRY(model->allocateActivations());
    model->computeStageCosts();
    return model;
}

void LlavaModel::computeStageCosts() {
    const auto bytes = [](const Tensor& t) {
        return t.isNull() ? 0.0 : static_cast<double>(storageBytes(t.format, t.rows(), t.cols()));
    };
    StageCosts& c = m_costs;
    c = {};
    for (const Tensor* t : {&m_patchW, &m_classEmb, &m_posEmb, &m_preW, &m_preB}) c.clipWeightBytes += bytes(*t);
    for (const auto& w : m_clip)
        for (const Tensor* t : {&w.ln1W, &w.ln1B, &w.ln2W, &w.ln2B, &w.qW, &w.qB, &w.kW, &w.kB, &w.vW, &w.vB, &w.oW, &w.oB,
                                &w.fc1W, &w.fc1B, &w.fc2W, &w.fc2B})
            c.clipWeightBytes += bytes(*t);
    for (const Tensor* t : {&m_proj1W, &m_proj1B, &m_proj2W, &m_proj2B}) c.projectorWeightBytes += bytes(*t);
    for (const auto& w : m_llm)
        for (const Tensor* t : {&w.inNorm, &w.postNorm, &w.q, &w.k, &w.v, &w.o, &w.gate, &w.up, &w.down})
            c.llmLayerWeightBytes += bytes(*t);
    c.lmHeadBytes = bytes(m_finalNorm) + bytes(m_lmHead);
    c.embedRowBytes = m_embed.rows() > 0 ? bytes(m_embed) / static_cast<double>(m_embed.rows()) : 0.0;
    c.kvBytesPerValue = m_kCache.empty() ? 4.0 : bytes(m_kCache[0]) / static_cast<double>(std::max<std::int64_t>(1, m_kCache[0].elementCount()));
}

Status LlavaModel::endStage(std::string_view name, StageLog::Clock::time_point begin, std::int64_t items,
                            std::int64_t position, double bytes, double flops) {
    if (!m_stageLog) return Status::ok();
    LLAVA_TRY(m_backend.synchronize());
    m_stageLog->record(name, begin, items, position, bytes, flops);
    return Status::ok();
}

namespace {

// Per-layer weights by canonical name (checkpoint.h) below "vision.encoder.layers.N." and "llm.layers.N.",
// in upload order.
constexpr std::pair<const char*, Tensor ClipLayerWeights::*> kClipLayerWeights[] = {
    {"layer_norm1.weight", &ClipLayerWeights::ln1W},
    {"layer_norm1.bias", &ClipLayerWeights::ln1B},
    {"layer_norm2.weight", &ClipLayerWeights::ln2W},
    {"layer_norm2.bias", &ClipLayerWeights::ln2B},
    {"self_attn.q_proj.weight", &ClipLayerWeights::qW},
    {"self_attn.q_proj.bias", &ClipLayerWeights::qB},
    {"self_attn.k_proj.weight", &ClipLayerWeights::kW},
    {"self_attn.k_proj.bias", &ClipLayerWeights::kB},
    {"self_attn.v_proj.weight", &ClipLayerWeights::vW},
    {"self_attn.v_proj.bias", &ClipLayerWeights::vB},
    {"self_attn.out_proj.weight", &ClipLayerWeights::oW},
    {"self_attn.out_proj.bias", &ClipLayerWeights::oB},
    {"mlp.fc1.weight", &ClipLayerWeights::fc1W},
    {"mlp.fc1.bias", &ClipLayerWeights::fc1B},
    {"mlp.fc2.weight", &ClipLayerWeights::fc2W},
    {"mlp.fc2.bias", &ClipLayerWeights::fc2B},
};
constexpr std::pair<const char*, Tensor LlmLayerWeights::*> kLlmLayerWeights[] = {
    {"input_layernorm.weight", &LlmLayerWeights::inNorm},
    {"post_attention_layernorm.weight", &LlmLayerWeights::postNorm},
    {"self_attn.q_proj.weight", &LlmLayerWeights::q},
    {"self_attn.k_proj.weight", &LlmLayerWeights::k},
    {"self_attn.v_proj.weight", &LlmLayerWeights::v},
    {"self_attn.o_proj.weight", &LlmLayerWeights::o},
    {"mlp.gate_proj.weight", &LlmLayerWeights::gate},
    {"mlp.up_proj.weight", &LlmLayerWeights::up},
    {"mlp.down_proj.weight", &LlmLayerWeights::down},
};

}  // namespace

Status LlavaModel::loadWeights(const Checkpoint& checkpoint, WeightPrecision precision, const ModelProgress& progress,
                               const QuantCache* cache) {
    const std::uint64_t total = checkpoint.totalTensorBytes();
    std::uint64_t done = 0;
    auto get = [&](const std::string& name, Tensor& out, bool required = true) -> Status {
        const TensorView* view = checkpoint.find(name);
        if (!view) {
            if (!required) return Status::ok();
            return makeError(ErrorCode::NotFound, "weight " + name + " missing from " + checkpoint.directory().string());
        }
        if (const QuantCacheEntry* cached = cache ? cache->find(name) : nullptr) {
            LLAVA_ASSIGN_OR_RETURN(out, m_backend.adoptWeight(cached->shape, cached->format, cache->data(*cached), cached->bytes, name));
            m_owned.push_back(out);
            if (!m_backend.adoptsHostWeights()) cache->dropPages(*cached);  // copied: the pages are not needed again
        } else {
            LLAVA_ASSIGN_OR_RETURN(out, m_backend.uploadWeight(*view, precision));
            m_owned.push_back(out);
        }
        done += view->byteSize;
        if (progress && !progress(done, total)) return makeError(ErrorCode::Cancelled, "loading cancelled");
        return Status::ok();
    };
    const auto& vc = m_config.vision;
    LLAVA_TRY(get("vision.embeddings.patch_embedding.weight", m_patchW));
    LLAVA_TRY(get("vision.embeddings.class_embedding", m_classEmb));
    LLAVA_TRY(get("vision.embeddings.position_embedding.weight", m_posEmb));
    LLAVA_TRY(get("vision.pre_layrnorm.weight", m_preW));
    LLAVA_TRY(get("vision.pre_layrnorm.bias", m_preB));
    m_clip.resize(static_cast<std::size_t>(vc.layersToRun()));
    for (int l = 0; l < vc.layersToRun(); ++l) {
        const std::string p = "vision.encoder.layers." + std::to_string(l) + ".";
        auto& w = m_clip[static_cast<std::size_t>(l)];
        for (const auto& [name, member] : kClipLayerWeights) LLAVA_TRY(get(p + name, w.*member));
    }
    LLAVA_TRY(get("projector.linear_1.weight", m_proj1W));
    LLAVA_TRY(get("projector.linear_1.bias", m_proj1B));
    LLAVA_TRY(get("projector.linear_2.weight", m_proj2W));
    LLAVA_TRY(get("projector.linear_2.bias", m_proj2B));
    LLAVA_TRY(get("image_newline", m_newline));
    LLAVA_TRY(get("llm.embed_tokens.weight", m_embed));
    LLAVA_TRY(get("llm.norm.weight", m_finalNorm));
    LLAVA_TRY(get("llm.lm_head.weight", m_lmHead, !m_config.text.tieWordEmbeddings));
    if (m_lmHead.isNull()) m_lmHead = m_embed;
    m_llm.resize(static_cast<std::size_t>(m_config.text.nLayers));
    for (int l = 0; l < m_config.text.nLayers; ++l) {
        const std::string p = "llm.layers." + std::to_string(l) + ".";
        auto& w = m_llm[static_cast<std::size_t>(l)];
        for (const auto& [name, member] : kLlmLayerWeights) LLAVA_TRY(get(p + name, w.*member));
    }
    // Attention may use 16-bit tensor cores only where the tower's matrices are already below fp32.
    m_clipReducedPrecision = !m_clip.empty() && m_clip.front().qW.format != StorageFormat::F32;
    m_llmReducedPrecision = !m_llm.empty() && m_llm.front().q.format != StorageFormat::F32;
    return Status::ok();
}

Status LlavaModel::allocateActivations() {
    const auto& t = m_config.text;
    const auto& vc = m_config.vision;
    auto alloc = [&](Tensor& out, Shape shape, BufferRole role, const char* name,
                     StorageFormat format = StorageFormat::F32) -> Status {
        LLAVA_ASSIGN_OR_RETURN(out, m_backend.allocate(shape, format, role, name));
        m_owned.push_back(out);
        return Status::ok();
    };
    // 16-bit or quantised weights: a 16-bit KV cache where the backend reads one (Auto; fp16 rounding of K and V
    // loses less than the weights already gave up; F32 weights keep the exact F32 cache). memoryplan.cpp
    // plans the same choice.
    m_kvFormat = resolveKvCacheFormat(m_kvRequest, m_llmReducedPrecision, m_backend.info().f16KvCache);
    const StorageFormat kvFormat = m_kvFormat;
    const std::int64_t kvWidth = static_cast<std::int64_t>(t.nKvHeads) * t.headDim, qWidth = std::int64_t{t.nHeads} * t.headDim;
    m_kCache.resize(static_cast<std::size_t>(t.nLayers));
    m_vCache.resize(static_cast<std::size_t>(t.nLayers));
    for (int l = 0; l < t.nLayers; ++l) {
        LLAVA_TRY(alloc(m_kCache[static_cast<std::size_t>(l)], {m_context, kvWidth}, BufferRole::KvCache, "k cache", kvFormat));
        LLAVA_TRY(alloc(m_vCache[static_cast<std::size_t>(l)], {m_context, kvWidth}, BufferRole::KvCache, "v cache", kvFormat));
    }
    const std::int64_t c = m_chunk;
    LLAVA_TRY(alloc(m_x, {c, t.dModel}, BufferRole::Scratch, "x"));
    LLAVA_TRY(alloc(m_xn, {c, t.dModel}, BufferRole::Scratch, "xn"));
    LLAVA_TRY(alloc(m_q, {c, qWidth}, BufferRole::Scratch, "q"));
    LLAVA_TRY(alloc(m_att, {c, qWidth}, BufferRole::Scratch, "att"));
    LLAVA_TRY(alloc(m_k, {c, kvWidth}, BufferRole::Scratch, "k"));
    LLAVA_TRY(alloc(m_v, {c, kvWidth}, BufferRole::Scratch, "v"));
    LLAVA_TRY(alloc(m_gate, {c, t.dFfn}, BufferRole::Scratch, "gate"));
    LLAVA_TRY(alloc(m_up, {c, t.dFfn}, BufferRole::Scratch, "up"));
    LLAVA_TRY(alloc(m_lastNorm, {1, t.dModel}, BufferRole::Scratch, "final norm"));
    LLAVA_TRY(alloc(m_logits, {1, t.nVocab}, BufferRole::Scratch, "logits"));
    LLAVA_ASSIGN_OR_RETURN(m_step, m_backend.allocate({2}, StorageFormat::I32, BufferRole::Scratch, "decode step"));
    m_owned.push_back(m_step);
    m_decodeKey = "llava.decode@" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    const std::int64_t s = vc.imageSize, crops = m_maxCrops, n = crops * (vc.nPatches() + 1), dv = vc.dVision;
    const std::int64_t patches = crops * vc.nPatches();
    LLAVA_TRY(alloc(m_pixels, {crops, 3, s, s}, BufferRole::Scratch, "pixels"));
    LLAVA_TRY(alloc(m_patches, {patches, dv}, BufferRole::Scratch, "patches"));
    LLAVA_TRY(alloc(m_h, {n, dv}, BufferRole::Scratch, "clip h"));
    LLAVA_TRY(alloc(m_hn, {n, dv}, BufferRole::Scratch, "clip hn"));
    LLAVA_TRY(alloc(m_vq, {n, dv}, BufferRole::Scratch, "clip q"));
    LLAVA_TRY(alloc(m_vk, {n, dv}, BufferRole::Scratch, "clip k"));
    LLAVA_TRY(alloc(m_vv, {n, dv}, BufferRole::Scratch, "clip v"));
    LLAVA_TRY(alloc(m_vatt, {n, dv}, BufferRole::Scratch, "clip att"));
    LLAVA_TRY(alloc(m_vf, {n, vc.dFfn}, BufferRole::Scratch, "clip fc1"));
    LLAVA_TRY(alloc(m_p1, {patches, t.dModel}, BufferRole::Scratch, "projector 1"));
    LLAVA_TRY(alloc(m_p2, {patches, t.dModel}, BufferRole::Scratch, "projector 2"));
    m_logitsHost.resize(static_cast<std::size_t>(t.nVocab));
    return Status::ok();
}

void LlavaModel::dump(std::string_view name, const std::vector<float>& data, const Shape& shape) const {
    if (m_debug) m_debug(name, data, shape);
}

std::vector<float> mergeImageFeatures(std::span<const float> projected, const ImageLayout& layout, int patchesPerSide,
                                      std::span<const float> newline, int d) {
    const std::size_t du = static_cast<std::size_t>(d), side = static_cast<std::size_t>(patchesPerSide);
    const std::size_t perCrop = side * side * du;
    std::vector<float> out(projected.begin(), projected.begin() + static_cast<std::ptrdiff_t>(perCrop));  // base crop
    out.reserve(static_cast<std::size_t>(layout.imageTokens) * du);
    for (int y = layout.keptRowBegin; y < layout.keptRowEnd; ++y) {
        const int tileRow = y / patchesPerSide, i = y % patchesPerSide;
        for (int x = layout.keptColBegin; x < layout.keptColEnd; ++x) {
            const int tileCol = x / patchesPerSide, j = x % patchesPerSide;
            const std::size_t crop = 1 + static_cast<std::size_t>(tileRow * layout.gridCols + tileCol);
            const float* f = projected.data() + crop * perCrop + (static_cast<std::size_t>(i) * side + static_cast<std::size_t>(j)) * du;
            out.insert(out.end(), f, f + d);
        }
        out.insert(out.end(), newline.begin(), newline.end());
    }
    return out;
}

}  // namespace llava
