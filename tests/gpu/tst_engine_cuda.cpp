// End to end: the same Engine on the CUDA backend and on the CPU backend, on the demo model (random
// weights, F16 as stored, written at test time by writeDemoModel). Guards: a backend op that passes
// its parity test but is called differently by the model (views, offsets, aliasing, KV cache rows),
// Auto selection picking CUDA when a device exists, the memory report at load, CUDA-graph decode vs
// eager launches. Tolerances: logits NMSE <= 1e-4 after the prefill and after the last decode step (F16
// weights: on CUDA the prefill GEMMs and attention round their operands to F16 and the KV cache is F16,
// each ~3e-4 relative per element, over every layer), and the whole greedy reply identical (the demo
// reply's top-2 margins are all >= 0.13, measured on the CPU). With F32 weights (WeightPrecision::F32)
// the whole run is fp32: NMSE <= 1e-9. Skips, with the reason, when no CUDA device is usable.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "engine/enginetesthelpers.h"
#include "gpu/gpucheck.h"
#include "gpu/paritykit.h"
#include "llava/demomodel.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;
using gpucheck::Context;

namespace {

struct Run {
    Status status = Status::ok();
    test::Recorded reply;
    std::vector<float> firstLogits, lastLogits;  // after the prefill / after the last decode step
    BackendReport report;
};

Run runOn(const std::filesystem::path& dir, BackendKind kind, WeightPrecision precision, const BackendRegistry& registry) {
    Run run;
    EngineOptions options;
    options.backend = kind;
    options.registry = &registry;
    options.threads = 2;
    options.contextLength = 2048;
    options.precision = precision;
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) {
        run.status = engine.status().withContext(std::string("load on ") + std::string(backendKindName(kind)));
        return run;
    }
    (*engine)->setDebugHook([&](std::string_view name, std::span<const float> data, const Shape&) {
        if (name != "logits") return;
        if (run.firstLogits.empty()) run.firstLogits.assign(data.begin(), data.end());
        run.lastLogits.assign(data.begin(), data.end());
    });
    const UserMessage message{"What is in this picture?", {test::patternImage(320, 240)}};
    run.reply = test::replyRecorded((*engine)->session(), message, test::greedy(16));
    run.report = (*engine)->backendReport();  // after the reply: scratch at its size, graph fallbacks noted
    return run;
}

// A temporary folder removed on destruction.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "llava-gpu-XXXXXX").string();
        if (::mkdtemp(pattern.data())) m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!m_path.empty()) std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

struct Suite {
    TempDir tmp;
    std::filesystem::path dir;
    BackendRegistry registry;

    void autoPicksCuda(Context& ctx) {
        auto choice = registry.create(BackendKind::Auto, BackendRequest{});
        if (!ctx.ok(choice.status())) return;
        ctx.check(choice->backend->info().name == "cuda", "Auto picks cuda when a device exists");
        ctx.check(choice->fallbackReason.empty(), "no fallback reason: " + choice->fallbackReason);
        BackendRequest tooBig;
        tooBig.requiredBytes = std::uint64_t(1) << 50;  // 1 PiB: Auto must fall back with the reason
        auto fallback = registry.create(BackendKind::Auto, tooBig);
        if (!ctx.ok(fallback.status())) return;
        ctx.check(fallback->backend->info().name == "cpu", "Auto falls back to the CPU when memory is short");
        ctx.check(fallback->fallbackReason.find("free") != std::string::npos,
                  "the reason names the free memory: " + fallback->fallbackReason);
    }

    void compare(Context& ctx, WeightPrecision precision, double logitsTolerance) {
        const Run cuda = runOn(dir, BackendKind::Cuda, precision, registry);
        const Run cpu = runOn(dir, BackendKind::Cpu, precision, registry);
        if (!ctx.ok(cuda.status) || !ctx.ok(cpu.status)) return;
        if (!ctx.ok(cuda.reply.stats.status()) || !ctx.ok(cpu.reply.stats.status())) return;
        ctx.check(cuda.report.name == "cuda", "the engine runs on cuda");
        Context::info("cuda: %s, weights %.1f MiB, kv %.1f MiB, scratch %.1f MiB", cuda.report.device.c_str(),
                      double(cuda.report.memory.weightBytes) / 1048576.0,
                      double(cuda.report.memory.kvCacheBytes) / 1048576.0,
                      double(cuda.report.memory.scratchBytes) / 1048576.0);
        ctx.check(cuda.report.memory.weightBytes > 0 && cuda.report.memory.kvCacheBytes > 0,
                  "weights and KV cache are reported at load");
        if (!ctx.check(!cuda.firstLogits.empty() && cuda.firstLogits.size() == cpu.firstLogits.size(),
                       "first-step logits recorded on both"))
            return;
        const double e = test::nmse(cuda.firstLogits, cpu.firstLogits);
        Context::info("precision %s: first-step logits NMSE %.3e (tolerance %.1e)",
                      std::string(weightPrecisionName(precision)).c_str(), e, logitsTolerance);
        ctx.check(e <= logitsTolerance, "first-step logits within tolerance");
        if (!ctx.check(!cuda.reply.ids.empty() && !cpu.reply.ids.empty(), "both generated tokens")) return;
        ctx.check(cuda.reply.ids.front() == cpu.reply.ids.front(), "the first greedy token is identical");
        std::size_t same = 0;
        while (same < cuda.reply.ids.size() && same < cpu.reply.ids.size() && cuda.reply.ids[same] == cpu.reply.ids[same])
            ++same;
        Context::info("identical greedy prefix: %zu of %zu tokens (cuda %.1f tok/s, cpu %.1f tok/s)", same,
                      cpu.reply.ids.size(), cuda.reply.stats->decodeTokPerS,
                      cpu.reply.stats->decodeTokPerS);
        // The demo model's top-2 margins are >= 0.13 at every step of this reply (logit rms ~1, measured on
        // the CPU), far above the errors allowed here: the whole reply must match, and the last logits too.
        ctx.check(cuda.reply.ids == cpu.reply.ids, "every greedy token identical to the CPU's");
        if (ctx.check(cuda.lastLogits.size() == cpu.lastLogits.size(), "last-step logits recorded on both"))
            ctx.check(test::nmse(cuda.lastLogits, cpu.lastLogits) <= logitsTolerance, "last-step logits within tolerance");
    }

    void greedyF16(Context& ctx) { compare(ctx, WeightPrecision::AsStored, 1e-4); }

    // Decode steps replayed as CUDA graphs compute exactly what the same kernels launched one by one do.
    void graphsMatchEager(Context& ctx) {
        ::setenv("LLAVA_CUDA_GRAPHS", "0", 1);  // read when the engine creates its backend
        const Run eager = runOn(dir, BackendKind::Cuda, WeightPrecision::AsStored, registry);
        ::unsetenv("LLAVA_CUDA_GRAPHS");
        const Run graphs = runOn(dir, BackendKind::Cuda, WeightPrecision::AsStored, registry);
        if (!ctx.ok(eager.status) || !ctx.ok(graphs.status)) return;
        if (!ctx.ok(eager.reply.stats.status()) || !ctx.ok(graphs.reply.stats.status())) return;
        Context::info("eager: %s, %.1f tok/s; graphs: %s, %.1f tok/s", eager.report.device.c_str(),
                      eager.reply.stats->decodeTokPerS, graphs.report.device.c_str(), graphs.reply.stats->decodeTokPerS);
        ctx.check(eager.report.device.find("graphs off") != std::string::npos, "LLAVA_CUDA_GRAPHS=0 is reported");
        ctx.check(graphs.report.device.find("graphs off") == std::string::npos, "graphs stayed on: " + graphs.report.device);
        ctx.check(eager.reply.ids == graphs.reply.ids, "identical greedy tokens");
        ctx.check(eager.lastLogits == graphs.lastLogits, "bit-identical logits after the last decode step");
    }
    void greedyF32(Context& ctx) { compare(ctx, WeightPrecision::F32, 1e-9); }
};

}  // namespace

int main(int argc, char** argv) {
    Suite suite;
    const auto setup = [&]() -> std::string {
        auto probe = cuda::createCudaBackend(BackendRequest{});
        if (!probe.isOk()) return "no usable CUDA device: " + probe.status().message();
        cuda::registerCudaBackend(suite.registry);
        if (suite.tmp.path().empty()) return "could not create a temporary folder";
        suite.dir = suite.tmp.path() / "demo";
        auto info = writeDemoModel(suite.dir);
        if (!info.isOk()) {
            std::printf("FAIL setup: writeDemoModel: %s\n", info.status().toString().c_str());
            std::exit(1);  // a broken setup is a failure, never a skip
        }
        return {};
    };
    const std::vector<gpucheck::Case> cases = {
        {"autoPicksCuda", [&](Context& ctx) { suite.autoPicksCuda(ctx); }},
        {"greedyF16", [&](Context& ctx) { suite.greedyF16(ctx); }},
        {"greedyF32", [&](Context& ctx) { suite.greedyF32(ctx); }},
        {"graphsMatchEager", [&](Context& ctx) { suite.graphsMatchEager(ctx); }},
    };
    return gpucheck::runCases(argc, argv, setup, cases);
}
