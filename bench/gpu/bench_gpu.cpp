// bench-gpu: times the CUDA backend on llava-v1.6-mistral-7b shapes with random weights created on the
// device (no checkpoint needed) and prints a markdown table:
//   * device-to-device copy bandwidth (the ceiling, measured in the same run);
//   * decode tok/s at a 3k context for F16, Q8 and Q4 weights, as the engine runs it (step tensor + CUDA
//     graph replay) and with eager launches, with achieved GB/s (weights + F16 KV cache bytes read per
//     token / time) as a fraction of the copy bandwidth;
//   * CLIP ViT-L/336 (the 23 layers LLaVA runs: features come from the penultimate one) + projector
//     on 5 tiles (ms);  prefill of 2930 tokens in the engine's chunks (ms, TFLOP/s);  TTFT = CLIP +
//     prefill + one decode step;
//   * llava-v1.6-34b's decoder in Q4: memory for weights + KV cache, and decode speed.
// Timing: CUDA events on the backend's stream, 3 warm-up runs, median of --reps (default 20).
// Besides the table, "RESULT <key> <value> <unit>" lines (decode_16bit_tok_s, prefill_ms, clip_ms,
// ttft_ms, ...) that scripts/gpu-check matches with bench/gpu/hf_bench.py's to print ours-vs-HF ratios.
// stdout is line-buffered so a run cut short by a timeout still leaves every finished row.
// Deliberately the same op sequence as the model code, written here with Backend ops only, so the
// numbers are the backend's; the engine's own stats are measured by the app.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "llava/backend.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;

namespace {

#define BENCH_CHECK(expr)                                                                            \
    do {                                                                                             \
        const ::llava::Status benchStatus_ = (expr);                                                 \
        if (!benchStatus_.isOk()) {                                                                  \
            std::fprintf(stderr, "bench-gpu: %s failed: %s\n", #expr, benchStatus_.toString().c_str()); \
            std::exit(1);                                                                            \
        }                                                                                            \
    } while (0)

// Decoder shapes: llava-v1.6-mistral-7b (Mistral-7B-Instruct-v0.2) and llava-v1.6-34b (Nous-Hermes-2-Yi-34B).
struct TextShape {
    const char* name;
    std::int64_t model, heads, kvHeads, headDim, ffn, layers, vocab;
};
constexpr TextShape kMistral7b{"llava-v1.6-mistral-7b", 4096, 32, 8, 128, 14336, 32, 32064};
constexpr TextShape kYi34b{"llava-v1.6-34b", 7168, 56, 8, 128, 20480, 60, 64064};
// Vision: CLIP ViT-L/14-336 and the mlp2x_gelu projector into the mistral-7b width.
constexpr std::int64_t kModel = kMistral7b.model;
constexpr std::int64_t kVision = 1024, kVisionHeads = 16, kVisionFfn = 4096, kVisionLayers = 23, kPatch = 14,
                       kSide = 336, kTiles = 5, kTokensPerTile = 577;
constexpr std::int64_t kContext = 3072, kPrefill = 2930;

Backend* gBackend = nullptr;

Tensor make(const Shape& shape, StorageFormat format, BufferRole role, float amplitude, std::uint64_t seed) {
    auto t = gBackend->allocate(shape, format, role, "bench");
    BENCH_CHECK(t.status());
    if (amplitude > 0) BENCH_CHECK(cuda::fillRandom(*gBackend, *t, amplitude, seed));
    return *t;
}
Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t count) {
    auto v = rowView(t, begin, count);
    BENCH_CHECK(v.status());
    return *v;
}
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Layer {
    Tensor attnNorm, wq, wk, wv, wo, mlpNorm, gate, up, down, kCache, vCache;
};

struct TextModel {
    TextShape s;
    Tensor embed, finalNorm, lmHead;
    std::vector<Layer> layers;
    std::uint64_t weightBytes = 0;
};

TextModel makeText(const TextShape& s, StorageFormat format) {
    TextModel m;
    m.s = s;
    std::uint64_t seed = 100;
    auto weight = [&](std::int64_t n, std::int64_t k) {
        m.weightBytes += storageBytes(format, n, k);
        return make({n, k}, format, BufferRole::Weights, 0.02f, ++seed);
    };
    m.embed = make({s.vocab, s.model}, StorageFormat::F16, BufferRole::Weights, 0.02f, ++seed);
    m.finalNorm = make({s.model}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
    m.lmHead = weight(s.vocab, s.model);
    for (std::int64_t l = 0; l < s.layers; ++l) {
        Layer y;
        y.attnNorm = make({s.model}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
        y.mlpNorm = make({s.model}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
        y.wq = weight(s.heads * s.headDim, s.model);
        y.wk = weight(s.kvHeads * s.headDim, s.model);
        y.wv = weight(s.kvHeads * s.headDim, s.model);
        y.wo = weight(s.model, s.heads * s.headDim);
        y.gate = weight(s.ffn, s.model);
        y.up = weight(s.ffn, s.model);
        y.down = weight(s.model, s.ffn);
        // 16-bit / quantised weights: the model keeps an F16 KV cache on CUDA (BackendInfo::f16KvCache).
        y.kCache = make({kContext, s.kvHeads * s.headDim}, StorageFormat::F16, BufferRole::KvCache, 1.0f, ++seed);
        y.vCache = make({kContext, s.kvHeads * s.headDim}, StorageFormat::F16, BufferRole::KvCache, 1.0f, ++seed);
        m.layers.push_back(y);
    }
    return m;
}

void release(TextModel& m) {
    for (const Tensor& t : {m.embed, m.finalNorm, m.lmHead}) gBackend->release(t);
    for (const Layer& y : m.layers)
        for (const Tensor& t : {y.attnNorm, y.wq, y.wk, y.wv, y.wo, y.mlpNorm, y.gate, y.up, y.down, y.kCache, y.vCache})
            gBackend->release(t);
    m.layers.clear();
}

// One forward pass of `ids` at positions [past, past + n): the decoder part of the engine.
struct Activations {
    Tensor x, h, q, k, v, att, g, u, logits;
};

Activations makeActivations(const TextShape& s, std::int64_t n) {
    Activations a;
    a.x = make({n, s.model}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.h = make({n, s.model}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.q = make({n, s.heads * s.headDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.k = make({n, s.kvHeads * s.headDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.v = make({n, s.kvHeads * s.headDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.att = make({n, s.heads * s.headDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.g = make({n, s.ffn}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.u = make({n, s.ffn}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.logits = make({1, s.vocab}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    return a;
}

Status forward(TextModel& m, Activations& a, const std::vector<std::int32_t>& ids, std::int64_t past) {
    const std::int64_t n = static_cast<std::int64_t>(ids.size());
    const Tensor none;
    AttentionParams p;
    p.nHeads = m.s.heads;
    p.nKvHeads = m.s.kvHeads;
    p.headDim = m.s.headDim;
    p.nPast = static_cast<int>(past);
    p.scale = 1.0f / std::sqrt(static_cast<float>(m.s.headDim));
    p.reducedPrecision = true;  // 16-bit / quantised weights: the model lets attention use tensor cores too
    LLAVA_TRY(gBackend->embed(a.x, m.embed, ids));
    for (Layer& y : m.layers) {
        LLAVA_TRY(gBackend->rmsNorm(a.h, a.x, y.attnNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(a.q, a.h, y.wq, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(a.k, a.h, y.wk, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(a.v, a.h, y.wv, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->rope(a.q, m.s.heads, m.s.headDim, static_cast<int>(past), 1e6));
        LLAVA_TRY(gBackend->rope(a.k, m.s.kvHeads, m.s.headDim, static_cast<int>(past), 1e6));
        LLAVA_TRY(gBackend->copy(rows(y.kCache, past, n), a.k));
        LLAVA_TRY(gBackend->copy(rows(y.vCache, past, n), a.v));
        LLAVA_TRY(gBackend->attention(a.att, a.q, rows(y.kCache, 0, past + n), rows(y.vCache, 0, past + n), p));
        LLAVA_TRY(gBackend->matmul(a.x, a.att, y.wo, none, MatmulMode::Accumulate));
        LLAVA_TRY(gBackend->rmsNorm(a.h, a.x, y.mlpNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(a.g, a.h, y.gate, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(a.u, a.h, y.up, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->siluMul(a.g, a.g, a.u));
        LLAVA_TRY(gBackend->matmul(a.x, a.g, y.down, none, MatmulMode::Accumulate));
    }
    const Tensor last = rows(a.x, n - 1, 1), lastH = rows(a.h, n - 1, 1);
    LLAVA_TRY(gBackend->rmsNorm(lastH, last, m.finalNorm, 1e-5f));
    LLAVA_TRY(gBackend->matmul(a.logits, lastH, m.lmHead, none, MatmulMode::Overwrite));
    auto token = gBackend->argmax(a.logits, m.s.vocab);
    return token.status();
}

// One decode step as the engine runs it: position and id in the device tensor `step`, the step-tensor
// ops (Backend::embedAt/ropeAt/writeRowAt/attentionAt), recorded once as a CUDA graph and replayed.
Status decodeStep(TextModel& m, Activations& a, const Tensor& step) {
    const Tensor none;
    AttentionParams p;
    p.nHeads = m.s.heads;
    p.nKvHeads = m.s.kvHeads;
    p.headDim = m.s.headDim;
    p.scale = 1.0f / std::sqrt(static_cast<float>(m.s.headDim));
    p.reducedPrecision = true;
    const Tensor x = rows(a.x, 0, 1), h = rows(a.h, 0, 1), q = rows(a.q, 0, 1), k = rows(a.k, 0, 1), v = rows(a.v, 0, 1);
    const Tensor att = rows(a.att, 0, 1), g = rows(a.g, 0, 1), u = rows(a.u, 0, 1);
    LLAVA_TRY(gBackend->embedAt(x, m.embed, step));
    for (Layer& y : m.layers) {
        LLAVA_TRY(gBackend->rmsNorm(h, x, y.attnNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(q, h, y.wq, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(k, h, y.wk, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(v, h, y.wv, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->ropeAt(q, m.s.heads, m.s.headDim, step, 1e6));
        LLAVA_TRY(gBackend->ropeWriteRowAt(y.kCache, k, m.s.kvHeads, m.s.headDim, step, 1e6));
        LLAVA_TRY(gBackend->writeRowAt(y.vCache, v, step));
        LLAVA_TRY(gBackend->attentionAt(att, q, y.kCache, y.vCache, p, step));
        LLAVA_TRY(gBackend->matmul(x, att, y.wo, none, MatmulMode::Accumulate));
        LLAVA_TRY(gBackend->rmsNorm(h, x, y.mlpNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(g, h, y.gate, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(u, h, y.up, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->siluMul(g, g, u));
        LLAVA_TRY(gBackend->matmul(x, g, y.down, none, MatmulMode::Accumulate));
    }
    LLAVA_TRY(gBackend->rmsNorm(h, x, m.finalNorm, 1e-5f));
    return gBackend->matmul(a.logits, h, m.lmHead, none, MatmulMode::Overwrite);
}

void release(const Activations& a) {
    for (const Tensor& t : {a.x, a.h, a.q, a.k, a.v, a.att, a.g, a.u, a.logits}) gBackend->release(t);
}

struct VisionLayer {
    Tensor ln1w, ln1b, wq, bq, wk, bk, wv, bv, wo, bo, ln2w, ln2b, fc1, b1, fc2, b2;
};

// CLIP on kTiles crops (577 tokens each, attention per crop) + the 2-layer GELU projector.
double timeVision(int reps) {
    std::uint64_t seed = 5000;
    auto w = [&](std::int64_t n, std::int64_t k) { return make({n, k}, StorageFormat::F16, BufferRole::Weights, 0.02f, ++seed); };
    auto vec = [&](std::int64_t n) { return make({n}, StorageFormat::F16, BufferRole::Weights, 0.1f, ++seed); };
    std::vector<VisionLayer> layers;
    for (std::int64_t l = 0; l < kVisionLayers; ++l)
        layers.push_back({vec(kVision), vec(kVision), w(kVision, kVision), vec(kVision), w(kVision, kVision), vec(kVision),
                          w(kVision, kVision), vec(kVision), w(kVision, kVision), vec(kVision), vec(kVision), vec(kVision),
                          w(kVisionFfn, kVision), vec(kVisionFfn), w(kVision, kVisionFfn), vec(kVision)});
    const Tensor patchW = make({kVision, 3, kPatch, kPatch}, StorageFormat::F16, BufferRole::Weights, 0.02f, ++seed);
    const Tensor proj1 = w(kModel, kVision), projB1 = vec(kModel), proj2 = w(kModel, kModel), projB2 = vec(kModel);
    const std::int64_t patches = kTiles * (kSide / kPatch) * (kSide / kPatch), tokens = kTiles * kTokensPerTile;
    Tensor pixels = make({kTiles, 3, kSide, kSide}, StorageFormat::F32, BufferRole::Scratch, 1.0f, ++seed);
    Tensor x = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 1.0f, ++seed);
    Tensor h = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor q = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor k = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor v = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor att = make({tokens, kVision}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor f = make({tokens, kVisionFfn}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor p1 = make({patches, kModel}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    Tensor p2 = make({patches, kModel}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    AttentionParams ap;
    ap.nHeads = ap.nKvHeads = static_cast<int>(kVisionHeads);
    ap.headDim = 64;
    ap.scale = 0.125f;
    ap.mask = AttentionMask::None;
    ap.reducedPrecision = true;
    const Tensor none;
    auto work = [&]() -> Status {
        LLAVA_TRY(gBackend->patchEmbed(rows(x, 0, patches), pixels, patchW));
        for (const VisionLayer& y : layers) {
            LLAVA_TRY(gBackend->layerNorm(h, x, y.ln1w, y.ln1b, 1e-5f));
            LLAVA_TRY(gBackend->matmul(q, h, y.wq, y.bq, MatmulMode::Overwrite));
            LLAVA_TRY(gBackend->matmul(k, h, y.wk, y.bk, MatmulMode::Overwrite));
            LLAVA_TRY(gBackend->matmul(v, h, y.wv, y.bv, MatmulMode::Overwrite));
            for (std::int64_t t = 0; t < kTiles; ++t) {
                const std::int64_t r0 = t * kTokensPerTile;
                LLAVA_TRY(gBackend->attention(rows(att, r0, kTokensPerTile), rows(q, r0, kTokensPerTile),
                                              rows(k, r0, kTokensPerTile), rows(v, r0, kTokensPerTile), ap));
            }
            LLAVA_TRY(gBackend->matmul(x, att, y.wo, y.bo, MatmulMode::Accumulate));
            LLAVA_TRY(gBackend->layerNorm(h, x, y.ln2w, y.ln2b, 1e-5f));
            LLAVA_TRY(gBackend->matmul(f, h, y.fc1, y.b1, MatmulMode::Overwrite));
            LLAVA_TRY(gBackend->quickGelu(f));
            LLAVA_TRY(gBackend->matmul(x, f, y.fc2, y.b2, MatmulMode::Accumulate));
        }
        LLAVA_TRY(gBackend->matmul(p1, rows(x, 0, patches), proj1, projB1, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->gelu(p1));
        return gBackend->matmul(p2, p1, proj2, projB2, MatmulMode::Overwrite);
    };
    auto times = cuda::timeOnDevice(*gBackend, 3, reps, work);
    BENCH_CHECK(times.status());
    for (const VisionLayer& y : layers)
        for (const Tensor& t : {y.ln1w, y.ln1b, y.wq, y.bq, y.wk, y.bk, y.wv, y.bv, y.wo, y.bo, y.ln2w, y.ln2b, y.fc1, y.b1, y.fc2, y.b2})
            gBackend->release(t);
    for (const Tensor& t : {patchW, proj1, projB1, proj2, projB2, pixels, x, h, q, k, v, att, f, p1, p2}) gBackend->release(t);
    return median(*times);
}


// Decode at position kContext - 1: eager launches (as prefill issues ops) and the engine's path (step
// tensor + CUDA graph replay). Prints both rows and RESULT <name>_tok_s / <name>_eager_tok_s; returns
// the graph's median ms.
double timeDecode(Backend& backend, TextModel& model, Activations& a, const Tensor& step, const char* name,
                  double copyGBs, int reps) {
    const TextShape& s = model.s;
    const std::uint64_t kvBytesPerToken = std::uint64_t(s.layers) * 2 * kContext * s.kvHeads * s.headDim * 2;  // F16
    const std::vector<std::int32_t> id = {1234};
    auto eager = cuda::timeOnDevice(backend, 3, reps, [&] { return forward(model, a, id, kContext - 1); });
    BENCH_CHECK(eager.status());
    const std::string key = std::string("bench ") + name;
    auto graphed = cuda::timeOnDevice(backend, 3, reps, [&]() -> Status {
        LLAVA_TRY(backend.runRecorded(key, [&] { return decodeStep(model, a, step); }));
        return backend.argmax(a.logits, s.vocab).status();
    });
    BENCH_CHECK(graphed.status());
    const double ms = median(*graphed), eagerMs = median(*eager);
    std::printf("RESULT %s_tok_s %.2f tok/s\nRESULT %s_eager_tok_s %.2f tok/s\n", name, 1e3 / ms, name, 1e3 / eagerMs);
    const double bytes = double(model.weightBytes) + double(kvBytesPerToken);  // + one embedding row, negligible
    const double gbs = bytes / (ms * 1e-3) / 1e9, eagerGbs = bytes / (eagerMs * 1e-3) / 1e9;
    const std::string what = std::string(s.name) + " " + name;
    std::printf("| %s, 3k context, CUDA graph | %.1f tok/s (%.2f ms) | %.0f GB/s = %.0f %% of copy; %.2f GB weights + "
                "%.2f GB F16 KV per token; %s |\n",
                what.c_str(), 1e3 / ms, ms, gbs, 100.0 * gbs / copyGBs, double(model.weightBytes) / 1e9,
                double(kvBytesPerToken) / 1e9, backend.info().device.c_str());
    std::printf("| %s, 3k context, eager launches | %.1f tok/s (%.2f ms) | %.0f GB/s = %.0f %% of copy |\n", what.c_str(),
                1e3 / eagerMs, eagerMs, eagerGbs, 100.0 * eagerGbs / copyGBs);
    return ms;
}

// Prefill of kPrefill tokens in the engine's chunks (BackendInfo::prefillRows rows per pass).
double timePrefill(Backend& backend, TextModel& model, int reps) {
    const TextShape& s = model.s;
    const std::int64_t chunk = std::min<std::int64_t>(backend.info().prefillRows, kPrefill);
    Activations big = makeActivations(s, chunk);
    std::vector<std::int32_t> ids(static_cast<std::size_t>(kPrefill));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 7919) % s.vocab);
    auto prefill = cuda::timeOnDevice(backend, 2, std::max(reps / 2, 10), [&]() -> Status {
        for (std::int64_t r0 = 0; r0 < kPrefill; r0 += chunk) {
            const std::int64_t n = std::min(chunk, kPrefill - r0);
            Activations part = big;
            for (Tensor* t : {&part.x, &part.h, &part.q, &part.k, &part.v, &part.att, &part.g, &part.u}) *t = rows(*t, 0, n);
            const std::vector<std::int32_t> chunkIds(ids.begin() + r0, ids.begin() + r0 + n);
            LLAVA_TRY(forward(model, part, chunkIds, r0));
        }
        return Status::ok();
    });
    BENCH_CHECK(prefill.status());
    const double pms = median(*prefill);
    const double linear = 2.0 * double(kPrefill) * double(s.layers) *
                          double(2 * s.model * s.heads * s.headDim + 2 * s.kvHeads * s.headDim * s.model + 3 * s.model * s.ffn);
    const double attention = 2.0 * 2.0 * double(kPrefill) * double(kPrefill) / 2.0 * double(s.heads * s.headDim) * double(s.layers);
    std::printf("| prefill %lld tokens, F16 weights, %lld-row chunks | %.1f ms | %.1f TFLOP/s (%.1f TFLOP: linear + causal attention) |\n",
                static_cast<long long>(kPrefill), static_cast<long long>(chunk), pms,
                (linear + attention) / (pms * 1e-3) / 1e12, (linear + attention) / 1e12);
    std::printf("RESULT prefill_ms %.2f ms\n", pms);
    release(big);
    return pms;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    int reps = 20;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    auto created = cuda::createCudaBackend(BackendRequest{});
    if (!created.isOk()) {
        std::fprintf(stderr, "bench-gpu: no usable CUDA device (%s); nothing to measure\n",
                     created.status().message().c_str());
        return 2;
    }
    std::unique_ptr<Backend> backend = std::move(created).value();
    gBackend = backend.get();
    const BackendInfo info = backend->info();
    auto copyGBs = cuda::copyBandwidthGBs(*backend, std::size_t{1} << 30, reps);
    BENCH_CHECK(copyGBs.status());
    std::printf("# bench-gpu: llava-v1.6-mistral-7b shapes, random weights\n\n");
    std::printf("device: %s, %.1f GiB; median of %d runs after 3 warm-ups (CUDA events)\n\n", info.device.c_str(),
                double(info.memory.deviceTotalBytes) / (1 << 30), reps);
    std::printf("| metric | value | notes |\n|---|---|---|\n");
    std::printf("| device-to-device copy | %.0f GB/s | read + write, 1 GiB buffer: the ceiling |\n", *copyGBs);
    std::printf("RESULT copy_gb_s %.1f GB/s\n", *copyGBs);

    const Tensor step = make({2}, StorageFormat::I32, BufferRole::Scratch, 0, 0);
    const std::int32_t stepValues[2] = {static_cast<std::int32_t>(kContext - 1), 1234};
    BENCH_CHECK(backend->upload(step, stepValues, sizeof stepValues));
    const double copy = *copyGBs;
    double decodeF16Ms = 0;
    for (StorageFormat format : {StorageFormat::F16, StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
        TextModel model = makeText(kMistral7b, format);
        Activations a = makeActivations(kMistral7b, 1);
        const char* name = format == StorageFormat::F16 ? "decode_16bit" : format == StorageFormat::Q8PerChannel ? "decode_q8" : "decode_q4";
        const double ms = timeDecode(*backend, model, a, step, name, copy, reps);
        if (format == StorageFormat::F16) {
            decodeF16Ms = ms;
            const double pms = timePrefill(*backend, model, reps);
            const double visionMs = timeVision(reps);
            std::printf("RESULT clip_ms %.2f ms\nRESULT ttft_ms %.2f ms\n", visionMs, visionMs + pms + decodeF16Ms);
            std::printf("| CLIP-L/336 + projector, %lld tiles, F16 weights | %.1f ms | %lld layers, all tiles per GEMM, attention per tile |\n",
                        static_cast<long long>(kTiles), visionMs, static_cast<long long>(kVisionLayers));
            std::printf("| time to first token (estimate) | %.1f ms | CLIP + prefill + one decode step, medians summed |\n",
                        visionMs + pms + decodeF16Ms);
        }
        release(a);
        release(model);
    }
    {  // llava-v1.6-34b in int4: does it fit, and how fast does it decode?
        const BackendMemory before = backend->info().memory;
        TextModel model = makeText(kYi34b, StorageFormat::Q4Group128);
        Activations a = makeActivations(kYi34b, 1);
        const BackendMemory after = backend->info().memory;
        const double weightsGB = double(after.weightBytes - before.weightBytes) / 1e9;
        const double kvGB = double(after.kvCacheBytes - before.kvCacheBytes) / 1e9;
        std::printf("| llava-v1.6-34b decoder, Q4 weights | %.2f GB weights + %.2f GB F16 KV (%lld tokens) | + CLIP-L/projector "
                    "~0.7 GB F16 and scratch; the device has %.1f GB |\n",
                    weightsGB, kvGB, static_cast<long long>(kContext), double(after.deviceTotalBytes) / 1e9);
        std::printf("RESULT yi34b_q4_weights_gb %.2f GB\n", weightsGB);
        timeDecode(*backend, model, a, step, "decode_34b_q4", copy, reps);
        release(a);
        release(model);
    }
    std::printf("\nKV cache F16 (as the engine keeps it on CUDA with 16-bit or quantised weights).\n");
    return 0;
}
