// LLaVA-NeXT forward passes on a Backend: CLIP tower (layers up to the selected one), mlp2x_gelu
// projector, spatial_unpad merge with image_newline (host side, docs/spec.md §5), and the Mistral/Llama
// decoder with a KV cache sized at creation, chunked prefill and single-token decode.
// Weights are uploaded once from the Checkpoint (which must outlive the model: the CPU backend reads
// AsStored weights in place). Not here: prompts, sampling, stop strings (engine/).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llava/anyres.h"
#include "llava/backend.h"
#include "llava/checkpoint.h"
#include "llava/engine.h"
#include "model/quantcache.h"
#include "model/stagecost.h"
#include "model/stagelog.h"

namespace llava {

struct ClipLayerWeights {
    Tensor ln1W, ln1B, ln2W, ln2B;       // (dVision)
    Tensor qW, qB, kW, kB, vW, vB, oW, oB;  // (dVision, dVision) / (dVision)
    Tensor fc1W, fc1B, fc2W, fc2B;       // (dFfnV, dVision) / (dFfnV); (dVision, dFfnV) / (dVision)
};

struct LlmLayerWeights {
    Tensor inNorm, postNorm;             // (dModel)
    Tensor q, k, v, o;                   // (nHeads*headDim, dModel), (nKvHeads*headDim, dModel) x2, (dModel, nHeads*headDim)
    Tensor gate, up, down;               // (dFfn, dModel) x2, (dModel, dFfn)
};

// Image features spliced into a prefill: rows [position, position + rows) of the sequence.
struct ImageSlot {
    int position = 0;                    // index into the ids passed to prefill
    std::span<const float> features;     // (rows, dModel)
};

using ModelProgress = std::function<bool(std::uint64_t done, std::uint64_t total)>;

// Attention probabilities of chosen query positions, captured while prefill() runs (the "where did it
// look" view re-runs the positions it explains). Computed on the host from the layer's q rows and the
// KV cache, in double: softmax(q k^T / sqrt(headDim)) over keys [0, position], per layer and head.
// Any float cache (F32 on the CPU reference, F16 on CUDA and the CPU with 16-bit weights, BF16) and any
// float q: the rows are downloaded raw and widened on the host, so the probabilities are those of the keys
// the model attended with.
struct AttentionCapture {
    std::vector<int> positions;              // absolute query positions to capture
    std::vector<std::vector<float>> rows;    // [(i * nLayers + layer) * nHeads + head]: (positions[i] + 1)
};

class LlavaModel {
public:
    static Result<std::unique_ptr<LlavaModel>> create(Backend& backend, const Checkpoint& checkpoint,
                                                      WeightPrecision precision, int contextLength,
                                                      const ModelProgress& progress,
                                                      const QuantCacheOptions& cacheOptions = {},
                                                      QuantCacheReport* cacheReport = nullptr,
                                                      KvCacheFormat kvCache = KvCacheFormat::Auto);
    ~LlavaModel();

    const ModelConfig& config() const { return m_config; }
    int contextLength() const { return m_context; }
    StorageFormat kvCacheFormat() const { return m_kvFormat; }  // F32 or F16 (resolveKvCacheFormat at create)
    void setDebugHook(DebugHook hook) { m_debug = std::move(hook); }
    // While set, encodeImage / prefill / decode record their stages into `log` (nullptr: nothing is
    // recorded and no extra synchronisation happens). The log must outlive the calls.
    void setStageLog(StageLog* log) { m_stageLog = log; }
    StageLog* stageLog() const { return m_stageLog; }
    // While set, prefill() fills `capture` for the positions it runs (nullptr: off, no cost).
    void setAttentionCapture(AttentionCapture* capture) { m_capture = capture; }

    // pixels (nCrops, 3, S, S) normalised -> merged image embedding (imageTokens, dModel) on the host.
    Result<std::vector<float>> encodeImage(std::span<const float> pixels, const ImageLayout& layout,
                                           const CancelPredicate& cancel);
    // Runs ids (image slots: id < 0, features from `images`) at positions [nPast, nPast + ids.size()),
    // fills the KV cache, leaves the last row's logits in logits(). Cancelled between chunks/layers.
    Status prefill(std::span<const std::int32_t> ids, const std::vector<ImageSlot>& images, int nPast,
                   const CancelPredicate& cancel);
    // One token at position `position` (== tokens already cached).
    Status decode(std::int32_t id, int position);
    // decode() with greedy sampling on the backend: returns the argmax of the first nValid logits (ties ->
    // lowest id, as Sampler) and brings 4 bytes to the host instead of the vocabulary. logits() then still
    // holds the previous step's (the debug hook sees this step's: they are downloaded only for it).
    Result<std::int32_t> decodeGreedy(std::int32_t id, int position, int nValid);
    const std::vector<float>& logits() const { return m_logitsHost; }  // (nVocab)

private:
    LlavaModel(Backend& backend, ModelConfig config) : m_backend(backend), m_config(std::move(config)) {}
    // cache: Q8/Q4 matrices read from the quantised-weight cache (quantcache.h) instead of quantised here.
    Status loadWeights(const Checkpoint& checkpoint, WeightPrecision precision, const ModelProgress& progress,
                       const QuantCache* cache);
    Status allocateActivations();
    Status llmLayer(int layer, const Tensor& x, int rows, int position, bool stepOps);
    Status clipLayer(int layer, int crops);
    Status forwardRows(const Tensor& x, int rows, int position, const CancelPredicate& cancel);
    // One decode step with position and id read from m_step (Backend::runRecorded replays it).
    Status decodeStep();
    Status runDecodeStep(std::int32_t id, int position);  // validate, upload the step, run or replay it
    Status rerunDecodeStepChecked();                       // the last step again with per-stage checks
    void dump(std::string_view name, const std::vector<float>& data, const Shape& shape) const;
    void computeStageCosts();
    Status captureAttention(int layer, const Tensor& q, const Tensor& kCache, int n, int position);
    // Synchronises the backend and records the stage when a log is set.
    Status endStage(std::string_view name, StageLog::Clock::time_point begin, std::int64_t items,
                    std::int64_t position, double bytes, double flops);
    // Non-finite values (finitecheck.cpp). Logits (and the merged image features) are always checked on
    // the host; a failure re-runs the failing pass with m_checkLayers set, which downloads and scans the
    // hidden state after every stage, so the error names the first stage whose output went bad.
    Status checkStage(const Tensor& x, std::int64_t rows, const std::string& stage);  // no-op unless m_checkLayers
    Status checkLogitsHost(const char* pass, const std::function<Status()>& rerun);
    Status nonFiniteFound(const char* what, const char* pass, const std::function<Status()>& rerun);

    Backend& m_backend;
    ModelConfig m_config;
    int m_context = 0;
    int m_chunk = 256;                   // prefill rows per pass (the backend's prefillRows, <= context)
    int m_maxCrops = 1;                  // crops per image at most (base + the largest pinpoint's tiles)
    KvCacheFormat m_kvRequest = KvCacheFormat::Auto;
    StorageFormat m_kvFormat = StorageFormat::F32;  // what allocateActivations chose for m_kCache / m_vCache
    // AttentionParams::reducedPrecision per tower: true when its matrices are not F32 (set at load).
    bool m_clipReducedPrecision = false, m_llmReducedPrecision = false;
    DebugHook m_debug;
    StageLog* m_stageLog = nullptr;
    AttentionCapture* m_capture = nullptr;
    StageCosts m_costs;                  // weight bytes per stage, from the uploaded formats
    std::vector<Tensor> m_owned;         // everything allocated, released in the destructor
    // The quantised-weight cache, when the backend multiplies from its mapping (CpuBackend::adoptWeight);
    // released after m_owned (the destructor releases the tensors first).
    std::unique_ptr<QuantCache> m_quantCache;

    // weights
    Tensor m_patchW, m_classEmb, m_posEmb, m_preW, m_preB;   // (dV,3,p,p), (dV), (577,dV), (dV) x2
    std::vector<ClipLayerWeights> m_clip;
    Tensor m_proj1W, m_proj1B, m_proj2W, m_proj2B;           // (dModel,dV),(dModel),(dModel,dModel),(dModel)
    Tensor m_newline;                                        // (dModel)
    Tensor m_embed, m_finalNorm, m_lmHead;                   // (nVocab,dModel), (dModel), (nVocab,dModel)
    std::vector<LlmLayerWeights> m_llm;

    // KV cache and activations
    std::vector<Tensor> m_kCache, m_vCache;                  // per layer (context, nKvHeads*headDim)
    Tensor m_x, m_xn, m_q, m_k, m_v, m_att, m_gate, m_up;    // (chunk, ...) LLM scratch
    Tensor m_lastNorm, m_logits;                             // (1, dModel), (1, nVocab)
    Tensor m_step;                                           // I32 (2): decode position, token id
    std::string m_decodeKey;                                 // runRecorded key, unique per model
    // CLIP scratch for all crops of an image at once (m_maxCrops x 577 rows): the matrices of a layer run
    // as one GEMM over every crop; attention runs per crop on row views.
    Tensor m_pixels, m_h, m_hn, m_vq, m_vk, m_vv, m_vatt, m_vf, m_patches, m_p1, m_p2;
    std::vector<float> m_logitsHost;
    bool m_checkLayers = false;          // diagnosing a non-finite result (see checkStage)
    std::vector<float> m_checkHost;      // (rows, cols) of the stage being scanned
};

// Index of the first NaN/Inf in `values`, or -1. Exposed for tests.
std::int64_t firstNonFinite(std::span<const float> values);

// docs/spec.md §5.1-§5.3 on the host: base crop tokens, then kept rows of the stitched tile map each followed by
// `newline`. projected: (nCrops*576, d) with crop 0 = base. Exposed for tests.
std::vector<float> mergeImageFeatures(std::span<const float> projected, const ImageLayout& layout, int patchesPerSide,
                                      std::span<const float> newline, int d);

}  // namespace llava
