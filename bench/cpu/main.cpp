// bench-cpu: decode tok/s and achieved GB/s against a copy bandwidth measured in the same run, prefill
// tok/s, and one CLIP-L/336 tile (the 23 layers LLaVA uses) on the CPU backend. Weights are random fp16
// created in memory and uploaded with Backend::allocate/upload; every op goes through the Backend seam,
// in the same order as core/src/model/forward.cpp. Usage: bench-cpu [threads] [prefillTokens] [decodeSteps] [clipTiles (0 skips CLIP)]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "llava/backend.h"
#include "llava/machineceilings.h"

using namespace llava;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void check(const Status& s) {
    if (!s.isOk()) {
        std::fprintf(stderr, "bench-cpu: %s\n", s.toString().c_str());
        std::exit(1);
    }
}
template <typename T>
T take(Result<T> r) {
    if (!r.isOk()) check(r.status());
    return std::move(*r);
}

// Random fp16 in [-1/32, 1/32) (exponent bits fixed, mantissa random), enough to keep activations finite.
struct Rng {
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    std::uint64_t next() { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
};

std::uint64_t g_weightBytes = 0;

Tensor weight(Backend& b, Rng& rng, std::int64_t rows, std::int64_t cols, bool ones = false) {
    const Shape shape = rows == 1 ? Shape{cols} : Shape{rows, cols};
    Tensor t = take(b.allocate(shape, StorageFormat::F16, BufferRole::Weights, "w"));
    std::vector<std::uint16_t> host(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < host.size(); i += 4) {
        const std::uint64_t r = rng.next();
        for (std::size_t j = 0; j < 4 && i + j < host.size(); ++j)
            host[i + j] = ones ? 0x3c00 : static_cast<std::uint16_t>(0x2400 | ((r >> (16 * j)) & 0x83ff));
    }
    check(b.upload(t, host.data(), host.size() * 2));
    g_weightBytes += host.size() * 2;
    return t;
}

Tensor scratch(Backend& b, std::int64_t rows, std::int64_t cols) {
    return take(b.allocate({rows, cols}, StorageFormat::F32, BufferRole::Scratch, "s"));
}

struct Llm {
    static constexpr int dModel = 2048, nLayers = 18, nHeads = 16, nKv = 4, headDim = 128, dFfn = 5632, nVocab = 32000;
    struct Layer { Tensor inNorm, postNorm, q, k, v, o, gate, up, down; };
    std::vector<Layer> layers;
    Tensor embed, norm, lmHead;
    std::vector<Tensor> kCache, vCache;
    Tensor x, xn, q, k, v, att, gate, up, last, logits;  // (rows, ...) scratch
};

Status llmForward(Backend& b, Llm& m, int n, int pos) {
    auto rows = [&](const Tensor& t) { return take(rowView(t, 0, n)); };
    const Tensor x = rows(m.x), xn = rows(m.xn), q = rows(m.q), k = rows(m.k), v = rows(m.v), att = rows(m.att),
                 gate = rows(m.gate), up = rows(m.up);
    for (int l = 0; l < Llm::nLayers; ++l) {
        auto& w = m.layers[static_cast<std::size_t>(l)];
        LLAVA_TRY(b.rmsNorm(xn, x, w.inNorm, 1e-5f));
        LLAVA_TRY(b.matmul(q, xn, w.q, {}, MatmulMode::Overwrite));
        LLAVA_TRY(b.matmul(k, xn, w.k, {}, MatmulMode::Overwrite));
        LLAVA_TRY(b.matmul(v, xn, w.v, {}, MatmulMode::Overwrite));
        LLAVA_TRY(b.rope(q, Llm::nHeads, Llm::headDim, pos, 1e6));
        LLAVA_TRY(b.rope(k, Llm::nKv, Llm::headDim, pos, 1e6));
        LLAVA_TRY(b.copy(take(rowView(m.kCache[static_cast<std::size_t>(l)], pos, n)), k));
        LLAVA_TRY(b.copy(take(rowView(m.vCache[static_cast<std::size_t>(l)], pos, n)), v));
        const AttentionParams p{Llm::nHeads, Llm::nKv, Llm::headDim, pos, 1.0f / std::sqrt(128.0f), AttentionMask::Causal};
        LLAVA_TRY(b.attention(att, q, take(rowView(m.kCache[static_cast<std::size_t>(l)], 0, pos + n)),
                              take(rowView(m.vCache[static_cast<std::size_t>(l)], 0, pos + n)), p));
        LLAVA_TRY(b.matmul(x, att, w.o, {}, MatmulMode::Accumulate));
        LLAVA_TRY(b.rmsNorm(xn, x, w.postNorm, 1e-5f));
        LLAVA_TRY(b.matmul(gate, xn, w.gate, {}, MatmulMode::Overwrite));
        LLAVA_TRY(b.matmul(up, xn, w.up, {}, MatmulMode::Overwrite));
        LLAVA_TRY(b.siluMul(gate, gate, up));
        LLAVA_TRY(b.matmul(x, gate, w.down, {}, MatmulMode::Accumulate));
    }
    LLAVA_TRY(b.rmsNorm(m.last, take(rowView(x, n - 1, 1)), m.norm, 1e-5f));
    LLAVA_TRY(b.matmul(m.logits, m.last, m.lmHead, {}, MatmulMode::Overwrite));
    return b.argmax(m.logits, Llm::nVocab).status();
}

Llm buildLlm(Backend& b, int maxRows, int context) {
    Rng rng;
    Llm m;
    for (int l = 0; l < Llm::nLayers; ++l) {
        Llm::Layer w;
        w.inNorm = weight(b, rng, 1, Llm::dModel, true);
        w.postNorm = weight(b, rng, 1, Llm::dModel, true);
        w.q = weight(b, rng, Llm::nHeads * Llm::headDim, Llm::dModel);
        w.k = weight(b, rng, Llm::nKv * Llm::headDim, Llm::dModel);
        w.v = weight(b, rng, Llm::nKv * Llm::headDim, Llm::dModel);
        w.o = weight(b, rng, Llm::dModel, Llm::nHeads * Llm::headDim);
        w.gate = weight(b, rng, Llm::dFfn, Llm::dModel);
        w.up = weight(b, rng, Llm::dFfn, Llm::dModel);
        w.down = weight(b, rng, Llm::dModel, Llm::dFfn);
        m.layers.push_back(w);
        // fp16 weights: the KV cache LlavaModel keeps for them (KvCacheFormat::Auto), F16 where the backend reads it.
        const StorageFormat kv = resolveKvCacheFormat(KvCacheFormat::Auto, true, b.info().f16KvCache);
        m.kCache.push_back(take(b.allocate({context, Llm::nKv * Llm::headDim}, kv, BufferRole::KvCache, "k")));
        m.vCache.push_back(take(b.allocate({context, Llm::nKv * Llm::headDim}, kv, BufferRole::KvCache, "v")));
    }
    m.embed = weight(b, rng, Llm::nVocab, Llm::dModel);
    m.norm = weight(b, rng, 1, Llm::dModel, true);
    m.lmHead = weight(b, rng, Llm::nVocab, Llm::dModel);
    m.x = scratch(b, maxRows, Llm::dModel);
    m.xn = scratch(b, maxRows, Llm::dModel);
    m.q = scratch(b, maxRows, Llm::nHeads * Llm::headDim);
    m.att = scratch(b, maxRows, Llm::nHeads * Llm::headDim);
    m.k = scratch(b, maxRows, Llm::nKv * Llm::headDim);
    m.v = scratch(b, maxRows, Llm::nKv * Llm::headDim);
    m.gate = scratch(b, maxRows, Llm::dFfn);
    m.up = scratch(b, maxRows, Llm::dFfn);
    m.last = scratch(b, 1, Llm::dModel);
    m.logits = scratch(b, 1, Llm::nVocab);
    return m;
}

// One 336x336 tile through CLIP-L/14: patch embed, CLS + positions, pre-LN, 23 encoder layers.
double clipTile(Backend& b) {
    constexpr int dv = 1024, ffn = 4096, n = 577, layersRun = 23;
    Rng rng;
    struct L { Tensor ln1w, ln1b, ln2w, ln2b, qw, qb, kw, kb, vw, vb, ow, ob, f1w, f1b, f2w, f2b; };
    std::vector<L> ls;
    for (int l = 0; l < layersRun; ++l)
        ls.push_back({weight(b, rng, 1, dv, true), weight(b, rng, 1, dv), weight(b, rng, 1, dv, true), weight(b, rng, 1, dv),
                      weight(b, rng, dv, dv), weight(b, rng, 1, dv), weight(b, rng, dv, dv), weight(b, rng, 1, dv),
                      weight(b, rng, dv, dv), weight(b, rng, 1, dv), weight(b, rng, dv, dv), weight(b, rng, 1, dv),
                      weight(b, rng, ffn, dv), weight(b, rng, 1, ffn), weight(b, rng, dv, ffn), weight(b, rng, 1, dv)});
    const Tensor patchW = take(reshaped(weight(b, rng, dv, 3 * 14 * 14), {dv, 3, 14, 14}));
    const Tensor pos = weight(b, rng, n, dv), preW = weight(b, rng, 1, dv, true), preB = weight(b, rng, 1, dv);
    const Tensor pixels = take(b.allocate({1, 3, 336, 336}, StorageFormat::F32, BufferRole::Scratch, "px"));
    std::vector<float> px(3 * 336 * 336);
    for (auto& p : px) p = static_cast<float>(rng.next() % 2000) / 1000.0f - 1.0f;
    check(b.upload(pixels, px.data(), px.size() * 4));
    const Tensor h = scratch(b, n, dv), hn = scratch(b, n, dv), q = scratch(b, n, dv), k = scratch(b, n, dv),
                 v = scratch(b, n, dv), att = scratch(b, n, dv), f = scratch(b, n, ffn);
    const auto t0 = Clock::now();
    check(b.patchEmbed(take(rowView(h, 1, n - 1)), pixels, patchW));
    check(b.add(h, h, pos));
    check(b.layerNorm(h, h, preW, preB, 1e-5f));
    const AttentionParams p{16, 16, 64, 0, 0.125f, AttentionMask::None};
    for (const auto& w : ls) {
        check(b.layerNorm(hn, h, w.ln1w, w.ln1b, 1e-5f));
        check(b.matmul(q, hn, w.qw, w.qb, MatmulMode::Overwrite));
        check(b.matmul(k, hn, w.kw, w.kb, MatmulMode::Overwrite));
        check(b.matmul(v, hn, w.vw, w.vb, MatmulMode::Overwrite));
        check(b.attention(att, q, k, v, p));
        check(b.matmul(h, att, w.ow, w.ob, MatmulMode::Accumulate));
        check(b.layerNorm(hn, h, w.ln2w, w.ln2b, 1e-5f));
        check(b.matmul(f, hn, w.f1w, w.f1b, MatmulMode::Overwrite));
        check(b.quickGelu(f));
        check(b.matmul(h, f, w.f2w, w.f2b, MatmulMode::Accumulate));
    }
    check(b.synchronize());
    return secondsSince(t0);
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
    const int prefillTokens = argc > 2 ? std::atoi(argv[2]) : 128;
    const int decodeSteps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 16;
    const int clipTiles = argc > 4 ? std::atoi(argv[4]) : 1;
    auto backend = createCpuBackend(threads);
    Backend& b = *backend;
    const int nThreads = b.info().threads;
    std::printf("bench-cpu: %s\n", b.info().device.c_str());
    // The same copy yardstick as the app's stage waterfall (llava/machineceilings.h).
    const auto copied = llava::measureCopyBandwidthGBs(nThreads, std::size_t{1} << 30, 3);
    const double copyGBs = copied.isOk() ? *copied : 0.0;

    Llm m = buildLlm(b, std::max(prefillTokens, 1), prefillTokens + decodeSteps + 1);
    const std::uint64_t llmBytes = g_weightBytes - static_cast<std::uint64_t>(Llm::nVocab) * Llm::dModel * 2;  // embed: one row read
    const double params = static_cast<double>(g_weightBytes) / 2;
    std::vector<std::int32_t> ids(static_cast<std::size_t>(prefillTokens));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 7919) % Llm::nVocab);
    check(b.embed(take(rowView(m.x, 0, prefillTokens)), m.embed, ids));
    auto t0 = Clock::now();
    check(llmForward(b, m, prefillTokens, 0));
    const double prefillS = secondsSince(t0);

    std::vector<double> steps;
    for (int s = 0; s < decodeSteps; ++s) {
        const std::int32_t id[1] = {s + 5};
        t0 = Clock::now();
        check(b.embed(take(rowView(m.x, 0, 1)), m.embed, id));
        check(llmForward(b, m, 1, prefillTokens + s));
        steps.push_back(secondsSince(t0));
    }
    std::sort(steps.begin(), steps.end());
    const double decodeS = steps[steps.size() / 2];
    const double kvBytes = 2.0 * Llm::nLayers * (prefillTokens + decodeSteps / 2.0) * Llm::nKv * Llm::headDim * 4;
    const double decodeGBs = (static_cast<double>(llmBytes) + kvBytes) / decodeS / 1e9;
    const double clipS = clipTiles > 0 ? clipTile(b) : 0.0;

    std::printf("\n| metric | value |\n|---|---|\n");
    std::printf("| threads | %d |\n", nThreads);
    std::printf("| synthetic Mistral-shaped LLM | %.2f B params fp16 (d 2048, 18 layers, 16/4 heads, ffn 5632, vocab 32000) |\n", params / 1e9);
    std::printf("| copy bandwidth (read+write, %d threads) | %.2f GB/s |\n", nThreads, copyGBs);
    std::printf("| decode (median of %d, context %d) | %.2f tok/s, %.1f ms/token |\n", decodeSteps, prefillTokens, 1.0 / decodeS, decodeS * 1e3);
    std::printf("| decode achieved bandwidth | %.2f GB/s = %.0f %% of copy |\n", decodeGBs, 100.0 * decodeGBs / copyGBs);
    std::printf("| prefill %d tokens | %.2f tok/s (%.2f s, %.1f GFLOP/s) |\n", prefillTokens, prefillTokens / prefillS, prefillS,
                2.0 * params * prefillTokens / prefillS / 1e9);
    std::printf("| CLIP-L/336, one tile, 23 layers | %.2f s |\n", clipS);
    return 0;
}
