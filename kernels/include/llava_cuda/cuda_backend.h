// Public entry points of the CUDA backend (kernels/ implements core's Backend seam). The app calls
// registerCudaBackend(registry) once when it is built with CUDA; core never includes this header.
// No CUDA headers here: callers compile with the host compiler only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "llava/backend.h"

namespace llava::cuda {

// Registers the BackendKind::Cuda factory. Its errors say why CUDA cannot be used, so Auto falls back
// to the CPU with that reason: "no NVIDIA driver ...", "no CUDA device found", "not enough GPU memory:
// requires 15.20 GiB, 7.90 GiB free on NVIDIA GeForce RTX 4070 (sm_89)".
void registerCudaBackend(BackendRegistry& registry);

// The factory itself (device request.deviceIndex, memory check against request.requiredBytes).
Result<std::unique_ptr<Backend>> createCudaBackend(const BackendRequest& request);

// ---- benchmark and test helpers (only valid on a backend created by createCudaBackend) -----------
// Fills `tensor` on the device with deterministic pseudo-random values in [-amplitude, amplitude]
// (Q8/Q4: random codes, scales amplitude/127 or /7). No host traffic, so 14 GB models load in seconds.
Status fillRandom(Backend& backend, const Tensor& tensor, float amplitude, std::uint64_t seed);
// Runs `work` warmup + reps times on the backend's stream and returns device milliseconds per rep
// measured with CUDA events. Fails with the first error `work` returns.
Result<std::vector<double>> timeOnDevice(Backend& backend, int warmup, int reps, const std::function<Status()>& work);
// Turns CUDA-graph replay of Backend::runRecorded on or off (default on unless LLAVA_CUDA_GRAPHS=0).
Status setGraphsEnabled(Backend& backend, bool enabled);
// Device-to-device copy bandwidth (bytes read + bytes written per second, GB/s), median of `reps`
// copies of a `bytes`-sized buffer: the ceiling decode throughput is judged against.
Result<double> copyBandwidthGBs(Backend& backend, std::size_t bytes, int reps);

}  // namespace llava::cuda
