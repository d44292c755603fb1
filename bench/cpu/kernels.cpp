// bench-cpu-kernels: the CPU backend's kernels one at a time, against a copy bandwidth measured in the same
// run: matrix-vector products (decode) per weight format as GB/s of weights streamed, matrix-matrix products
// (CLIP- and prefill-shaped, fp16 weights) as GFLOP/s, and attention at ~3 k keys (a prefill chunk after an
// image) and CLIP-shaped, and decode attention at 3 k positions over an F32 vs an F16 KV cache. Calls the kernels directly (cpukernels.h), not through the Backend seam, so the
// numbers are the kernels' own. Best of `reps` runs (the machine is shared; the best run is the fair one).
// Usage: bench-cpu-kernels [threads (0 = all usable)] [reps] [sections: any of gemv,gemm,attention; default all]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"
#include "llava/machineceilings.h"
#include "llava/tensor.h"

using namespace llava;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Rng {
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    std::uint64_t next() { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
    float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24) * 2.0f - 1.0f; }
};

double best(int reps, const std::function<void()>& fn) {
    fn();  // warm-up (page faults, scratch growth)
    double b = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        fn();
        b = std::min(b, secondsSince(t0));
    }
    return b;
}

// Random weights in `format` (valid codes and scales; values near N(0, 1/K)-ish), (rows, cols).
std::vector<std::byte> randomWeights(StorageFormat format, std::int64_t rows, std::int64_t cols, Rng& rng) {
    std::vector<std::byte> w(storageBytes(format, rows, cols));
    const float amp = 1.0f / std::sqrt(static_cast<float>(cols));
    auto* h = reinterpret_cast<std::uint16_t*>(w.data());
    switch (format) {
    case StorageFormat::F16:
        for (std::int64_t i = 0; i < rows * cols; ++i) h[i] = cpu::f32ToF16(rng.uniform() * amp);
        break;
    case StorageFormat::Q8PerChannel:
        for (std::int64_t i = 0; i < rows * cols; ++i) w[static_cast<std::size_t>(i)] = std::byte(rng.next() % 255 + 129);
        for (std::int64_t r = 0; r < rows; ++r) {
            const float s = amp / 127.0f;
            std::memcpy(w.data() + rows * cols + r * 4, &s, 4);
        }
        break;
    case StorageFormat::Q4Group128: {
        for (std::int64_t i = 0; i < rows * cols / 2; ++i) w[static_cast<std::size_t>(i)] = std::byte(rng.next());
        const std::uint16_t s = cpu::f32ToF16(amp / 7.0f);
        for (std::int64_t g = 0; g < rows * cols / 128; ++g) std::memcpy(w.data() + rows * cols / 2 + g * 2, &s, 2);
        break;
    }
    default: std::fprintf(stderr, "bench-cpu-kernels: unsupported format\n"); std::exit(1);
    }
    return w;
}

// Read-only bandwidth: every thread sums its share of a 512 MiB buffer with AVX2 loads, walking four parts of
// it side by side with the same prefetch as the kernels (which stream R = 4 weight rows at once; one stream
// alone reads slower on the machines measured). A matrix-vector product only reads its weights, so this, not
// the copy (which reads and writes), is the rate it can reach; both are printed.
__attribute__((target("avx2"))) std::uint64_t sumWords(const std::uint64_t* p, std::size_t n) {
    const std::size_t part = n / 4;  // n % 64 == 0
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (std::size_t i = 0; i + 8 <= part; i += 8)
        for (int s = 0; s < 4; ++s) {
            const std::uint64_t* q = p + static_cast<std::size_t>(s) * part + i;
            _mm_prefetch(reinterpret_cast<const char*>(q + 1024), _MM_HINT_T0);
            acc[s] = _mm256_add_epi64(acc[s], _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)),
                                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4))));
        }
    alignas(32) std::uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                       _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]), _mm256_add_epi64(acc[2], acc[3])));
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

double readBandwidthGBs(int threads, int reps) {
    const std::size_t words = (std::size_t{1} << 29) / 8, chunk = words / static_cast<std::size_t>(threads) / 64 * 64;
    std::vector<std::uint64_t> buf(words, 1);  // (64 Mi words) = 512 MiB
    std::vector<std::uint64_t> sums(static_cast<std::size_t>(threads));
    auto pass = [&] {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] { sums[static_cast<std::size_t>(t)] = sumWords(buf.data() + chunk * static_cast<std::size_t>(t), chunk); });
        for (auto& th : pool) th.join();
    };
    const double s = best(reps, pass);
    if (sums[0] != chunk) std::fprintf(stderr, "bench-cpu-kernels: read check failed\n");
    return static_cast<double>(chunk * static_cast<std::size_t>(threads) * 8) / s / 1e9;
}

const char* formatName(StorageFormat f) {
    return f == StorageFormat::F16 ? "f16" : f == StorageFormat::Q8PerChannel ? "q8" : "q4";
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : usableCpuCount();
    const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const std::string sections = argc > 3 ? argv[3] : "gemv,gemm,attention";
    const auto wanted = [&](const char* name) { return sections.find(name) != std::string::npos; };
    ThreadPool pool(threads);
    cpu::Scratch scratch;
    const cpu::CpuIsa isa = cpu::detectCpuIsa();
    Rng rng;
    std::printf("bench-cpu-kernels: %d threads, kernels %s, best of %d\n\n", threads, cpu::cpuIsaName(isa), reps);
    // The same copy yardstick as the app's stage waterfall (llava/machineceilings.h).
    const auto copied = measureCopyBandwidthGBs(threads, std::size_t{1} << 29, reps);
    const double copy = copied.isOk() ? *copied : 0.0;
    const double read = readBandwidthGBs(threads, reps);
    std::printf("| kernel | shape | time | rate | vs copy | vs read |\n|---|---|---|---|---|---|\n");
    std::printf("| copy (read+write) | 512 MiB | | %.2f GB/s | 100 %% | |\n", copy);
    std::printf("| read (sum) | 512 MiB | | %.2f GB/s | %.0f %% | 100 %% |\n", read, 100.0 * read / copy);

    // Decode: the FFN matrices of the synthetic decoder (d 2048, ffn 5632), 6 of them (> 8 x the L3).
    constexpr std::int64_t kN = 5632, kK = 2048, kMats = 6;
    std::vector<float> x(kK), out(kN);
    for (auto& v : x) v = rng.uniform();
    for (StorageFormat f : {StorageFormat::F16, StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
        if (!wanted("gemv")) break;
        std::vector<std::vector<std::byte>> mats;
        for (int i = 0; i < kMats; ++i) mats.push_back(randomWeights(f, kN, kK, rng));
        const double s = best(reps, [&] {
            for (const auto& m : mats)
                cpu::matmul(pool, scratch, isa, out.data(), x.data(), 1, {f, m.data(), kN, kK}, nullptr, false);
        });
        const double gbs = static_cast<double>(kMats) * static_cast<double>(mats[0].size()) / s / 1e9;
        std::printf("| gemv %s | %lld x (%lld x %lld) | %.2f ms | %.2f GB/s | %.0f %% | %.0f %% |\n", formatName(f),
                    static_cast<long long>(kMats), static_cast<long long>(kN), static_cast<long long>(kK), s * 1e3, gbs,
                    100.0 * gbs / copy, 100.0 * gbs / read);
        if (f != StorageFormat::F16 && isa == cpu::CpuIsa::Avx2) {  // the fp32-unpacking kernel it replaced
            const double sf = best(reps, [&] {
                for (const auto& m : mats)
                    pool.parallelFor(kN, 16, [&](std::int64_t r0, std::int64_t r1, int) {
                        cpu::gemvAvx2(out.data(), x.data(), 1, {f, m.data(), kN, kK}, nullptr, false, r0, r1);
                    });
            });
            const double gf = static_cast<double>(kMats) * static_cast<double>(mats[0].size()) / sf / 1e9;
            std::printf("| gemv %s, fp32 activations | same | %.2f ms | %.2f GB/s | %.0f %% | %.0f %% |\n", formatName(f),
                        sf * 1e3, gf, 100.0 * gf / copy, 100.0 * gf / read);
        }
    }

    // Matrix-matrix: CLIP-L FFN up (577 x 1024 -> 4096) and a prefill chunk (512 x 2048 -> 5632), fp16 weights.
    const std::int64_t gemms[][3] = {{577, 4096, 1024}, {512, 5632, 2048}};
    for (const auto& g : gemms) {
        if (!wanted("gemm")) break;
        const std::int64_t m = g[0], n = g[1], k = g[2];
        const auto w = randomWeights(StorageFormat::F16, n, k, rng);
        std::vector<float> a(static_cast<std::size_t>(m * k)), c(static_cast<std::size_t>(m * n));
        for (auto& v : a) v = rng.uniform();
        const double s = best(reps, [&] {
            cpu::matmul(pool, scratch, isa, c.data(), a.data(), m, {StorageFormat::F16, w.data(), n, k}, nullptr, false);
        });
        std::printf("| gemm f16 weights | %lld x %lld x %lld | %.1f ms | %.1f GFLOP/s | | |\n", static_cast<long long>(m),
                    static_cast<long long>(n), static_cast<long long>(k), s * 1e3, 2.0 * m * n * k / s / 1e9);
    }

    // Attention: a 512-row prefill chunk after 2560 cached positions (3072 keys, causal, 16/4 heads of 128),
    // and one CLIP tile (577 x 577, 16 heads of 64, no mask).
    struct Case { const char* name; AttentionShape shape; };
    const Case cases[] = {{"attention prefill chunk", {512, 3072, 16, 4, 128, 2560, 1.0f / std::sqrt(128.0f), true}},
                          {"attention CLIP tile", {577, 577, 16, 16, 64, 0, 0.125f, false}}};
    for (const auto& c : cases) {
        if (!wanted("attention")) break;
        const auto& sh = c.shape;
        std::vector<float> q(static_cast<std::size_t>(sh.nQueries * sh.nHeads * sh.headDim));
        std::vector<float> k(static_cast<std::size_t>(sh.nKeys * sh.nKvHeads * sh.headDim)), v(k.size()), o(q.size());
        for (auto& e : q) e = rng.uniform();
        for (auto& e : k) e = rng.uniform();
        for (auto& e : v) e = rng.uniform();
        double visible = 0;
        for (std::int64_t r = 0; r < sh.nQueries; ++r)
            visible += sh.causal ? static_cast<double>(std::min<std::int64_t>(sh.nKeys, sh.nPast + r + 1)) : static_cast<double>(sh.nKeys);
        const double s = best(reps, [&] { cpu::attention(pool, scratch, isa, o.data(), q.data(), k.data(), v.data(), sh); });
        const double flops = 4.0 * visible * sh.nHeads * sh.headDim;
        std::printf("| %s | %lld q x %lld k, %d/%d heads x %d | %.1f ms | %.1f GFLOP/s | | |\n", c.name,
                    static_cast<long long>(sh.nQueries), static_cast<long long>(sh.nKeys), sh.nHeads, sh.nKvHeads,
                    sh.headDim, s * 1e3, flops / s / 1e9);
        // The one-row-per-pass kernel (what ran before the blocked one): slices of 8 query rows stay below
        // the blocked kernel's threshold and compute exactly the same rows.
        const std::int64_t qWidth = static_cast<std::int64_t>(sh.nHeads) * sh.headDim;
        const double sr = best(reps, [&] {
            for (std::int64_t r0 = 0; r0 < sh.nQueries; r0 += 8) {
                AttentionShape part = sh;
                part.nQueries = std::min<std::int64_t>(8, sh.nQueries - r0);
                if (sh.causal) part.nPast = sh.nPast + static_cast<int>(r0);
                cpu::attention(pool, scratch, isa, o.data() + r0 * qWidth, q.data() + r0 * qWidth, k.data(), v.data(), part);
            }
        });
        std::printf("| %s, one row per pass (before) | same | %.1f ms | %.1f GFLOP/s | | |\n", c.name, sr * 1e3, flops / sr / 1e9);
        // The same with the keys/values in F16 (the KV cache of a 16-bit model; the blocked kernel widens each
        // 256-key block once per 32-row tile). The prefill case only: CLIP's K/V are activations, always F32.
        if (!sh.causal) continue;
        std::vector<std::uint16_t> k16(k.size()), v16(v.size());
        for (std::size_t i = 0; i < k.size(); ++i) k16[i] = cpu::f32ToF16(k[i]);
        for (std::size_t i = 0; i < v.size(); ++i) v16[i] = cpu::f32ToF16(v[i]);
        const cpu::KvRows kh{StorageFormat::F16, reinterpret_cast<const std::byte*>(k16.data())};
        const cpu::KvRows vh{StorageFormat::F16, reinterpret_cast<const std::byte*>(v16.data())};
        const double sh16 = best(reps, [&] { cpu::attention(pool, scratch, isa, o.data(), q.data(), kh, vh, sh); });
        std::printf("| %s, F16 K/V | same | %.1f ms | %.1f GFLOP/s | | |\n", c.name, sh16 * 1e3, flops / sh16 / 1e9);
    }

    // Decode attention at a long context: one query row over 3072 cached positions (Mistral-7B: 32 q / 8 kv heads
    // of 128), over the caches of 8 layers in turn (F32: 200 MB, beyond the L3, as in a decode step that reads
    // each layer's cache once between that layer's weights). Rate = K and V bytes read per second; the F16 cache
    // reads half the bytes for the same work.
    if (wanted("attention")) {
        constexpr int kLayers = 8;
        constexpr std::int64_t kPositions = 3072;
        const AttentionShape sh{1, kPositions, 32, 8, 128, static_cast<int>(kPositions - 1), 1.0f / std::sqrt(128.0f), true};
        const std::int64_t kvWidth = std::int64_t{sh.nKvHeads} * sh.headDim;
        std::vector<float> q(static_cast<std::size_t>(sh.nHeads * sh.headDim)), o(q.size());
        for (auto& e : q) e = rng.uniform();
        double f32Seconds = 0;
        for (StorageFormat f : {StorageFormat::F32, StorageFormat::F16}) {
            std::vector<std::vector<std::byte>> ks, vs;  // per layer (kPositions, kvWidth) in f
            for (int l = 0; l < kLayers; ++l)
                for (auto* cache : {&ks, &vs}) {
                    std::vector<std::byte> c(storageBytes(f, kPositions, kvWidth));
                    for (std::int64_t i = 0; i < kPositions * kvWidth; ++i) {
                        const float value = rng.uniform();
                        if (f == StorageFormat::F32) std::memcpy(c.data() + i * 4, &value, 4);
                        else {
                            const std::uint16_t h = cpu::f32ToF16(value);
                            std::memcpy(c.data() + i * 2, &h, 2);
                        }
                    }
                    cache->push_back(std::move(c));
                }
            const double s = best(reps, [&] {
                for (int l = 0; l < kLayers; ++l)
                    cpu::attention(pool, scratch, isa, o.data(), q.data(), cpu::KvRows{f, ks[static_cast<std::size_t>(l)].data()},
                                   cpu::KvRows{f, vs[static_cast<std::size_t>(l)].data()}, sh);
            });
            if (f == StorageFormat::F32) f32Seconds = s;
            const double gbs = static_cast<double>(kLayers) * 2.0 * static_cast<double>(ks[0].size()) / s / 1e9;
            char speedup[32] = "";
            if (f == StorageFormat::F16) std::snprintf(speedup, sizeof speedup, ", %.2fx F32", f32Seconds / s);
            std::printf("| decode attention, %s KV cache | 1 q x %lld k, 32/8 heads x 128, %d layers | %.2f ms (%.0f us/layer%s) "
                        "| %.2f GB/s | %.0f %% |\n",
                        f == StorageFormat::F32 ? "F32" : "F16", static_cast<long long>(kPositions), kLayers, s * 1e3,
                        s / kLayers * 1e6, speedup, gbs, 100.0 * gbs / copy);
        }
    }
    return 0;
}
