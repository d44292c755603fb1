// bench-gpu: times the CUDA backend on llava-v1.6-mistral-7b shapes with random weights created on the
// device (no checkpoint needed) and prints a markdown table:
//   * device-to-device copy bandwidth (the ceiling, measured in the same run);
//   * decode tok/s at a 3k context for F16, Q8 and Q4 weights, with achieved GB/s (weights + KV cache
//     bytes read per token / time) as a fraction of the copy bandwidth;
//   * CLIP ViT-L/336 (the 23 layers LLaVA runs: features come from the penultimate one) + projector
//     on 5 tiles (ms);  prefill of 2930 tokens (ms, TFLOP/s);  TTFT = CLIP + prefill + one decode step.
// Timing: CUDA events on the backend's stream, 3 warm-up runs, median of --reps (default 20).
// Besides the table, "RESULT <key> <value> <unit>" lines (decode_16bit_tok_s, prefill_ms, clip_ms,
// ttft_ms, ...) that scripts/gpu-check matches with bench/gpu/hf_bench.py's to print ours-vs-HF ratios.
// stdout is line-buffered so a run cut short by a timeout still leaves every finished row.
// Deliberately the same op sequence as the model code, written here with Backend ops only, so the
// numbers are the backend's; the engine's own stats are measured by the app.
#include <algorithm>
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

// llava-v1.6-mistral-7b (text: Mistral-7B-Instruct-v0.2; vision: CLIP ViT-L/14-336; mlp2x_gelu projector)
constexpr std::int64_t kModel = 4096, kHeads = 32, kKvHeads = 8, kHeadDim = 128, kFfn = 14336, kLayers = 32,
                       kVocab = 32064;
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
    Tensor embed, finalNorm, lmHead;
    std::vector<Layer> layers;
    std::uint64_t weightBytes = 0;
};

TextModel makeText(StorageFormat format) {
    TextModel m;
    std::uint64_t seed = 100;
    auto weight = [&](std::int64_t n, std::int64_t k) {
        m.weightBytes += storageBytes(format, n, k);
        return make({n, k}, format, BufferRole::Weights, 0.02f, ++seed);
    };
    m.embed = make({kVocab, kModel}, StorageFormat::F16, BufferRole::Weights, 0.02f, ++seed);
    m.finalNorm = make({kModel}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
    m.lmHead = weight(kVocab, kModel);
    for (std::int64_t l = 0; l < kLayers; ++l) {
        Layer y;
        y.attnNorm = make({kModel}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
        y.mlpNorm = make({kModel}, StorageFormat::F16, BufferRole::Weights, 1.0f, ++seed);
        y.wq = weight(kHeads * kHeadDim, kModel);
        y.wk = weight(kKvHeads * kHeadDim, kModel);
        y.wv = weight(kKvHeads * kHeadDim, kModel);
        y.wo = weight(kModel, kHeads * kHeadDim);
        y.gate = weight(kFfn, kModel);
        y.up = weight(kFfn, kModel);
        y.down = weight(kModel, kFfn);
        y.kCache = make({kContext, kKvHeads * kHeadDim}, StorageFormat::F32, BufferRole::KvCache, 1.0f, ++seed);
        y.vCache = make({kContext, kKvHeads * kHeadDim}, StorageFormat::F32, BufferRole::KvCache, 1.0f, ++seed);
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

Activations makeActivations(std::int64_t n) {
    Activations a;
    a.x = make({n, kModel}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.h = make({n, kModel}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.q = make({n, kHeads * kHeadDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.k = make({n, kKvHeads * kHeadDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.v = make({n, kKvHeads * kHeadDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.att = make({n, kHeads * kHeadDim}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.g = make({n, kFfn}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.u = make({n, kFfn}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    a.logits = make({1, kVocab}, StorageFormat::F32, BufferRole::Scratch, 0, 0);
    return a;
}

Status forward(TextModel& m, Activations& a, const std::vector<std::int32_t>& ids, std::int64_t past) {
    const std::int64_t n = static_cast<std::int64_t>(ids.size());
    const Tensor none;
    AttentionParams p;
    p.nHeads = kHeads;
    p.nKvHeads = kKvHeads;
    p.headDim = kHeadDim;
    p.nPast = static_cast<int>(past);
    p.scale = 1.0f / 11.3137085f;
    p.reducedPrecision = true;  // 16-bit / quantised weights: the model lets attention use tensor cores too
    LLAVA_TRY(gBackend->embed(a.x, m.embed, ids));
    for (Layer& y : m.layers) {
        LLAVA_TRY(gBackend->rmsNorm(a.h, a.x, y.attnNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(a.q, a.h, y.wq, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(a.k, a.h, y.wk, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(a.v, a.h, y.wv, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->rope(a.q, kHeads, kHeadDim, static_cast<int>(past), 1e6));
        LLAVA_TRY(gBackend->rope(a.k, kKvHeads, kHeadDim, static_cast<int>(past), 1e6));
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
    auto token = gBackend->argmax(a.logits, kVocab);
    return token.status();
}

// One decode step as the engine runs it: position and id in the device tensor `step`, the step-tensor
// ops (Backend::embedAt/ropeAt/writeRowAt/attentionAt), recorded once as a CUDA graph and replayed.
Status decodeStep(TextModel& m, Activations& a, const Tensor& step) {
    const Tensor none;
    AttentionParams p;
    p.nHeads = kHeads;
    p.nKvHeads = kKvHeads;
    p.headDim = kHeadDim;
    p.scale = 1.0f / 11.3137085f;
    p.reducedPrecision = true;
    const Tensor x = rows(a.x, 0, 1), h = rows(a.h, 0, 1), q = rows(a.q, 0, 1), k = rows(a.k, 0, 1), v = rows(a.v, 0, 1);
    const Tensor att = rows(a.att, 0, 1), g = rows(a.g, 0, 1), u = rows(a.u, 0, 1);
    LLAVA_TRY(gBackend->embedAt(x, m.embed, step));
    for (Layer& y : m.layers) {
        LLAVA_TRY(gBackend->rmsNorm(h, x, y.attnNorm, 1e-5f));
        LLAVA_TRY(gBackend->matmul(q, h, y.wq, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(k, h, y.wk, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->matmul(v, h, y.wv, none, MatmulMode::Overwrite));
        LLAVA_TRY(gBackend->ropeAt(q, kHeads, kHeadDim, step, 1e6));
        LLAVA_TRY(gBackend->ropeAt(k, kKvHeads, kHeadDim, step, 1e6));
        LLAVA_TRY(gBackend->writeRowAt(y.kCache, k, step));
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

    const std::uint64_t kvBytesPerToken = std::uint64_t(kLayers) * 2 * kContext * kKvHeads * kHeadDim * 4;
    double decodeF16Ms = 0;
    const Tensor step = make({2}, StorageFormat::I32, BufferRole::Scratch, 0, 0);
    const std::int32_t stepValues[2] = {static_cast<std::int32_t>(kContext - 1), 1234};
    BENCH_CHECK(backend->upload(step, stepValues, sizeof stepValues));
    for (StorageFormat format : {StorageFormat::F16, StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
        TextModel model = makeText(format);
        Activations a = makeActivations(1);
        const std::vector<std::int32_t> id = {1234};
        // Eager: ~15 launches per layer, as prefill issues them. Graph: the engine's decode path.
        auto eager = cuda::timeOnDevice(*backend, 3, reps, [&] { return forward(model, a, id, kContext - 1); });
        BENCH_CHECK(eager.status());
        const std::string key = "decode@" + std::string(storageFormatName(format));
        auto graphed = cuda::timeOnDevice(*backend, 3, reps, [&]() -> Status {
            LLAVA_TRY(backend->runRecorded(key, [&] { return decodeStep(model, a, step); }));
            return backend->argmax(a.logits, kVocab).status();
        });
        BENCH_CHECK(graphed.status());
        const double ms = median(*graphed), eagerMs = median(*eager);
        if (format == StorageFormat::F16) decodeF16Ms = ms;
        const char* name = format == StorageFormat::F16 ? "decode_16bit" : format == StorageFormat::Q8PerChannel ? "decode_q8" : "decode_q4";
        std::printf("RESULT %s_tok_s %.2f tok/s\nRESULT %s_eager_tok_s %.2f tok/s\n", name, 1e3 / ms, name, 1e3 / eagerMs);
        const double bytes = double(model.weightBytes) + double(kvBytesPerToken);  // + one embedding row, negligible
        const double gbs = bytes / (ms * 1e-3) / 1e9, eagerGbs = bytes / (eagerMs * 1e-3) / 1e9;
        std::printf("| decode %s, 3k context, CUDA graph | %.1f tok/s (%.2f ms) | %.0f GB/s = %.0f %% of copy; %.2f GB weights + %.2f GB F32 KV per token; %s |\n",
                    std::string(storageFormatName(format)).c_str(), 1e3 / ms, ms, gbs, 100.0 * gbs / *copyGBs,
                    double(model.weightBytes) / 1e9, double(kvBytesPerToken) / 1e9, backend->info().device.c_str());
        std::printf("| decode %s, 3k context, eager launches | %.1f tok/s (%.2f ms) | %.0f GB/s = %.0f %% of copy |\n",
                    std::string(storageFormatName(format)).c_str(), 1e3 / eagerMs, eagerMs, eagerGbs, 100.0 * eagerGbs / *copyGBs);
        if (format == StorageFormat::F16) {
            Activations big = makeActivations(kPrefill);
            std::vector<std::int32_t> ids(static_cast<std::size_t>(kPrefill));
            for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 7919) % kVocab);
            auto prefill = cuda::timeOnDevice(*backend, 2, std::max(reps / 2, 10), [&] { return forward(model, big, ids, 0); });
            BENCH_CHECK(prefill.status());
            const double pms = median(*prefill);
            const double linear = 2.0 * double(kPrefill) * double(kLayers) *
                                  double(2 * kModel * kModel + 2 * kKvHeads * kHeadDim * kModel + 3 * kModel * kFfn);
            const double attention = 2.0 * 2.0 * double(kPrefill) * double(kPrefill) / 2.0 * double(kModel) * double(kLayers);
            std::printf("| prefill %lld tokens, F16 weights | %.1f ms | %.1f TFLOP/s (%.1f TFLOP: linear + causal attention) |\n",
                        static_cast<long long>(kPrefill), pms, (linear + attention) / (pms * 1e-3) / 1e12,
                        (linear + attention) / 1e12);
            std::printf("RESULT prefill_ms %.2f ms\n", pms);
            release(big);
            const double visionMs = timeVision(reps);
            std::printf("RESULT clip_ms %.2f ms\nRESULT ttft_ms %.2f ms\n", visionMs, visionMs + pms + decodeF16Ms);
            std::printf("| CLIP-L/336 + projector, %lld tiles, F16 weights | %.1f ms | %lld layers, attention per tile |\n",
                        static_cast<long long>(kTiles), visionMs, static_cast<long long>(kVisionLayers));
            std::printf("| time to first token (estimate) | %.1f ms | CLIP + prefill + one decode step, medians summed |\n",
                        visionMs + pms + decodeF16Ms);
        }
        release(a);
        release(model);
    }
    std::printf("\nKV cache is F32 (the Backend seam's activation format); targets.md's floors assume 16-bit KV.\n");
    return 0;
}
