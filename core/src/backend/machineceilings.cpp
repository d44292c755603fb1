// See llava/machineceilings.h. The measurements; the cache file is ceilingscache.cpp.
#include "llava/machineceilings.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "llava/backend.h"
#include "llava/threadpool.h"

namespace llava {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Copy: 64 MiB per buffer is above the last-level cache of desktop and most server CPUs, so the copy runs
// from memory; on a machine where one copy takes long, fewer repetitions keep the total short.
constexpr std::size_t kCopyBytes = std::size_t{64} << 20;
// GEMM: a 96-row slice of a prefill chunk through a 1024x1024 weight (one 96-row block of the CPU GEMM,
// 2 MiB of F16 weights): ~0.2 GFLOP, 4-40 ms per product on 2-16 cores.
constexpr int kGemmM = 96, kGemmN = 1024, kGemmK = 1024;
// Repetitions after the warm-up: as many as fit in this budget per measurement, at least 1, at most 5.
constexpr double kBudgetSeconds = 0.25;

int repsFor(double warmupSeconds) {
    if (!(warmupSeconds > 0)) return 5;
    return std::clamp(static_cast<int>(kBudgetSeconds / warmupSeconds), 1, 5);
}

std::string utcNow() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
#ifdef _WIN32
    gmtime_s(&tm, &now);
#else
    gmtime_r(&now, &tm);
#endif
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}
}  // namespace

std::string cpuModelName() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (in && std::getline(in, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t' || name.back() == '\r')) name.pop_back();
        if (name.size() > 200) name.resize(200);
        if (!name.empty()) return name;
    }
    return "unknown CPU";
}

int cpuBackendThreads(int requested) {
    const int usable = usableCpuCount();
    return requested <= 0 ? usable : std::min(requested, usable);
}

Result<double> measureCopyBandwidthGBs(int threads, std::size_t bytes, int reps) {
    threads = std::max(threads, 1);
    const std::size_t chunk = bytes / static_cast<std::size_t>(threads);
    if (chunk == 0) return makeError(ErrorCode::InvalidArgument, "copy bandwidth: fewer bytes than threads");
    std::unique_ptr<char[]> a(new (std::nothrow) char[bytes]);  // (bytes) source
    std::unique_ptr<char[]> c(new (std::nothrow) char[bytes]);  // (bytes) destination
    if (!a || !c)
        return makeError(ErrorCode::OutOfMemory, "copy bandwidth: cannot allocate 2 x " + std::to_string(bytes >> 20) + " MiB");
    std::memset(a.get(), 1, bytes);
    std::memset(c.get(), 0, bytes);
    auto copy = [&] {
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; ++t)
            pool.emplace_back([&, t] {
                const std::size_t off = chunk * static_cast<std::size_t>(t);
                std::memcpy(c.get() + off, a.get() + off, chunk);
            });
        std::memcpy(c.get(), a.get(), chunk);
        for (auto& th : pool) th.join();
    };
    const auto w0 = Clock::now();
    copy();  // page faults of the destination; also tells how long one copy takes
    if (reps <= 0) reps = repsFor(secondsSince(w0));
    double seconds = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        copy();
        seconds = std::min(seconds, secondsSince(t0));
    }
    return 2.0 * static_cast<double>(chunk) * threads / seconds / 1e9;
}

Result<double> measureGemmGflops(int threads, int m, int n, int k, int reps) {
    if (m <= 0 || n <= 0 || k <= 0) return makeError(ErrorCode::InvalidArgument, "GEMM peak: empty product");
    std::unique_ptr<Backend> backend = createCpuBackend(threads);
    LLAVA_ASSIGN_OR_RETURN(Tensor x, backend->allocate({m, k}, StorageFormat::F32, BufferRole::Scratch, "ceiling.x"));  // (M, K)
    LLAVA_ASSIGN_OR_RETURN(Tensor w, backend->allocate({n, k}, StorageFormat::F16, BufferRole::Weights, "ceiling.w"));  // (N, K)
    LLAVA_ASSIGN_OR_RETURN(Tensor out, backend->allocate({m, n}, StorageFormat::F32, BufferRole::Scratch, "ceiling.out"));  // (M, N)
    std::vector<float> xHost(static_cast<std::size_t>(m) * k);          // (M, K)
    std::vector<std::uint16_t> wHost(static_cast<std::size_t>(n) * k);  // (N, K) F16 bits
    for (std::size_t i = 0; i < xHost.size(); ++i) xHost[i] = 0.01f * static_cast<float>(i % 7);
    // F16 0x2C00..0x2CFF: 1/16 .. ~1/8, finite, varied (no value a kernel could shortcut).
    for (std::size_t i = 0; i < wHost.size(); ++i) wHost[i] = static_cast<std::uint16_t>(0x2C00 + (i % 251));
    LLAVA_TRY(backend->upload(x, xHost.data(), xHost.size() * sizeof(float)));
    LLAVA_TRY(backend->upload(w, wHost.data(), wHost.size() * sizeof(std::uint16_t)));
    auto product = [&]() -> Result<double> {
        const auto t0 = Clock::now();
        LLAVA_TRY(backend->matmul(out, x, w, Tensor{}, MatmulMode::Overwrite));
        LLAVA_TRY(backend->synchronize());
        return secondsSince(t0);
    };
    LLAVA_ASSIGN_OR_RETURN(double warm, product());
    if (reps <= 0) reps = repsFor(warm);
    double best = warm;
    for (int r = 0; r < reps; ++r) {
        LLAVA_ASSIGN_OR_RETURN(double s, product());
        best = std::min(best, s);
    }
    backend->release(x);
    backend->release(w);
    backend->release(out);
    return 2.0 * m * n * static_cast<double>(k) / best / 1e9;
}

Result<MachineCeilings> measureMachineCeilings(int threads) {
    MachineCeilings c;
    c.threads = cpuBackendThreads(threads);
    c.cpu = cpuModelName();
    LLAVA_ASSIGN_OR_RETURN(c.gemmGflops, measureGemmGflops(c.threads, kGemmM, kGemmN, kGemmK, 0));
    LLAVA_ASSIGN_OR_RETURN(c.copyGBs, measureCopyBandwidthGBs(c.threads, kCopyBytes, 0));
    c.measuredAt = utcNow();
    if (!std::isfinite(c.copyGBs) || !std::isfinite(c.gemmGflops) || c.copyGBs <= 0 || c.gemmGflops <= 0)
        return makeError(ErrorCode::Internal, "machine ceilings: measured a non-positive rate");
    return c;
}

}  // namespace llava
