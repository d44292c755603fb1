// Backend self-check: every op class of the Backend interface run on small random tensors on a candidate
// backend (CUDA) and on a reference (the CPU backend), outputs compared by NMSE with the bounds the GPU
// parity tests use (tests/gpu/tst_backend_parity.cpp): 1e-7 for fp32 math and the decode matvec path,
// 1e-5 where a GEMM rounds activations to 16 bits, 2e-5 for GEMMs on quantised weights. The registry runs
// it before Auto hands out a CUDA backend (BackendRequest::selfCheck), so a device whose kernels compute
// wrongly falls back to the CPU with the failing op named instead of answering garbage. A few hundred
// milliseconds: shapes are small but not multiples of any block size, every weight format is covered.
// Deliberately not here: speed, memory limits, very long sequences (tests/gpu and bench/gpu do those).
#pragma once

#include <span>
#include <string>

#include "llava/backend.h"

namespace llava {

struct SelfCheckResult {
    bool passed = false;
    int checks = 0;             // comparisons made
    double elapsedMs = 0;
    std::string firstFailure;   // "gelu [67, 96]: NMSE 1.2e-03 > 1e-07" or "matmul Q4 ...: <backend error>"
    // Header (both backends' name and device, check count, time) and one line per comparison:
    // "PASS matmul F16 m67 n37 k256         NMSE 2.1e-08 <= 1e-05". Meant to be attached to a bug report.
    std::string report;
};

// Runs every check even after a failure (the report lists them all). Tensors it allocates on either
// backend are released before it returns. Both backends must be usable from the calling thread.
SelfCheckResult runBackendSelfCheck(Backend& candidate, Backend& reference);

// Normalised squared error sum (got - ref)^2 / sum ref^2 (the plain sum when ref is all zeros), in double.
// NaN anywhere makes it NaN, which fails every `<=` bound; sizes that differ, or nothing to compare, give
// infinity. The one definition the self-check, the GPU parity tests and the quantisation tests share.
double nmse(std::span<const float> got, std::span<const float> ref);

}  // namespace llava
