// This machine's ceilings for the stage waterfall (stages.h): what the CPU can move and compute at best,
// so achieved GB/s and GFLOP/s can be read as a fraction of what is possible here.
//  - copy bandwidth: a STREAM-like copy split over the engine's threads (bytes read + written per second;
//    the yardstick the CPU benchmarks use too, bench/cpu);
//  - GEMM peak: the CPU backend's own matmul (createCpuBackend with the engine's thread count) on a
//    prefill-sized product with F16 weights, the format checkpoints are stored in.
// Measuring takes well under a second (sizes and repetitions shrink on a slow machine) and is done once per
// key: the result is cached in a small JSON file keyed by CPU model + thread count + format version, and
// measured again when the key differs or the file is missing, corrupt or implausible (never an error).
// Only the CPU is measured: the CUDA backend's ceilings are not (its stages get none, never a made-up one).
// Call from a worker or inference thread, never from a GUI thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "llava/status.h"

namespace llava {

inline constexpr int kCeilingsFormatVersion = 1;

struct MachineCeilings {
    double copyGBs = 0;      // copy bandwidth, (bytes read + bytes written) / s / 1e9
    double gemmGflops = 0;   // matmul peak, 2·M·N·K / s / 1e9
    int threads = 0;         // CPU threads both were measured with
    std::string cpu;         // CPU model ("AMD EPYC 7B13", /proc/cpuinfo), part of the cache key
    std::string measuredAt;  // UTC, ISO 8601 ("2026-12-03T17:30:00Z")
};

// The CPU model name (/proc/cpuinfo "model name"; elsewhere "unknown CPU"), one line, at most 200 bytes.
std::string cpuModelName();
// The threads a CPU backend created with `requested` threads runs (createCpuBackend's clamping).
int cpuBackendThreads(int requested);

// The copy yardstick: `bytes` copied buffer to buffer, split over `threads` threads; one warm-up (page
// faults), then the best of `reps` (<= 0: as many as fit in ~0.25 s, 1..5). OutOfMemory when the two
// buffers cannot be allocated.
Result<double> measureCopyBandwidthGBs(int threads, std::size_t bytes, int reps);
// out (M, N) = x (M, K) · wᵀ through createCpuBackend(threads) with F16 w; the best of `reps` after a warm-up
// (reps <= 0 as above).
Result<double> measureGemmGflops(int threads, int m, int n, int k, int reps);
// Both, at sizes chosen to finish in well under a second (threads as for cpuBackendThreads).
Result<MachineCeilings> measureMachineCeilings(int threads);

// What measures (the real one above, or a fake in tests): called with the effective thread count.
using CeilingsMeasurer = std::function<Result<MachineCeilings>(int threads)>;

struct CachedCeilings {
    MachineCeilings ceilings;
    bool measured = false;   // false: read from the cache file
    std::string cacheNote;   // why the file was not used or not written ("corrupt: ...", "cannot write ..."); may be empty
};

// The file's contents; ParseError (naming the problem) for anything but a plausible file of this format.
std::string ceilingsToJson(const MachineCeilings& ceilings);
Result<MachineCeilings> ceilingsFromJson(std::string_view json);

// The ceilings for (cpu, threads): from `cacheFile` when it holds exactly that key in this format version,
// else measured with `measure` (its cpu and threads are set to the key) and written there (atomically; a
// failed write is reported in cacheNote, the measured values are still returned). An error only when
// measuring itself fails.
Result<CachedCeilings> cachedMachineCeilings(const std::filesystem::path& cacheFile, const std::string& cpu, int threads,
                                             const CeilingsMeasurer& measure);
// The same with cpuModelName(), cpuBackendThreads(requestedThreads) and measureMachineCeilings.
Result<CachedCeilings> cachedMachineCeilings(const std::filesystem::path& cacheFile, int requestedThreads);

}  // namespace llava
