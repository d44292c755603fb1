// BackendRegistry: CPU always available; CUDA only when the app registered a factory. Auto tries CUDA
// first, checks it op by op against the CPU (selfcheck.h, unless the request says Skip) and falls back to
// the CPU with the factory's error or the failing op as the human-readable reason.
#include "llava/backend.h"
#include "llava/selfcheck.h"

namespace llava {

BackendRegistry::BackendRegistry() {
    m_cpu = [](const BackendRequest& request) -> Result<std::unique_ptr<Backend>> {
        return createCpuBackend(request.threads);
    };
}

void BackendRegistry::registerFactory(BackendKind kind, BackendFactory factory) {
    if (kind == BackendKind::Cpu) m_cpu = std::move(factory);
    if (kind == BackendKind::Cuda) m_cuda = std::move(factory);
}

bool BackendRegistry::has(BackendKind kind) const {
    if (kind == BackendKind::Cuda) return static_cast<bool>(m_cuda);
    return static_cast<bool>(m_cpu);
}

Result<BackendChoice> BackendRegistry::create(BackendKind kind, const BackendRequest& request) const {
    BackendChoice choice;
    if (kind == BackendKind::Cuda || kind == BackendKind::Auto) {
        std::string reason;
        if (!m_cuda) {
            reason = "this build has no CUDA backend";
        } else {
            auto cuda = m_cuda(request);
            if (cuda.isOk() && request.selfCheck == SelfCheck::Skip) {
                choice.backend = std::move(cuda).value();
                return choice;
            }
            if (cuda.isOk()) {
                // Compared op by op with the fp32 reference CPU backend (no int8 activations in decode,
                // createCpuReferenceBackend); the registered CPU backend is the fallback when the check fails.
                if (!m_cpu) return makeError(ErrorCode::Internal, "no CPU backend registered");
                auto reference = createCpuReferenceBackend(request.threads);
                const SelfCheckResult check = runBackendSelfCheck(**cuda, *reference);
                choice.selfCheckReport = check.report;
                if (check.passed) {
                    choice.backend = std::move(cuda).value();
                    return choice;
                }
                const std::string why = "CUDA self-check failed: " + check.firstFailure;
                if (kind == BackendKind::Cuda)
                    return makeError(ErrorCode::Internal, why + " (--no-selfcheck uses it anyway)\n" + check.report);
                choice.fallbackReason = why + " (the CPU is used; the self-check report can be attached to a bug report)";
                reference.reset();  // its thread pool, before the fallback starts its own
                auto fallback = m_cpu(request);
                if (!fallback.isOk()) return fallback.status();
                choice.backend = std::move(fallback).value();
                return choice;
            }
            reason = cuda.status().message();
        }
        if (kind == BackendKind::Cuda) return makeError(ErrorCode::Unsupported, "CUDA backend unavailable: " + reason);
        choice.fallbackReason = reason;
    }
    if (!m_cpu) return makeError(ErrorCode::Internal, "no CPU backend registered");
    auto cpu = m_cpu(request);
    if (!cpu.isOk()) return cpu.status();
    choice.backend = std::move(cpu).value();
    return choice;
}

}  // namespace llava
