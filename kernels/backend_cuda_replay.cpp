// BackendCuda decode steps: the step-tensor ops (position and token id read on the device, so a step's
// launches have the same arguments every time) and runRecorded, which runs a decode step eagerly once,
// then captures it into a CUDA graph and replays that: one launch per token instead of ~15 per layer,
// with no gaps between kernels. A capture that fails (an op that must sync, a scratch that would grow)
// falls back to eager runs for that key, with the reason in info().device; LLAVA_CUDA_GRAPHS=0 turns
// replay off altogether (A/B timing, debugging).
#include "backend_cuda.h"

namespace llava::cuda {

const std::int32_t* BackendCuda::stepPointer(const Tensor& step, const char* op) const {
    require(checkStep(step, op));
    return static_cast<const std::int32_t*>(devicePointer(step, 8, op));
}

Status BackendCuda::embedAt(const Tensor& out, const Tensor& table, const Tensor& step) {
    return guarded("embedAt", [&] {
        require(checkEmbedAt(out, table));
        float* o = activation(out, "embedAt out");
        const void* t = devicePointer(table, tensorBytes(table), "embedAt");
        cuda::embed(o, t, table.format, stepPointer(step, "embedAt") + 1, 1, table.cols(), table.rows(), m_stream.get());
    });
}

Status BackendCuda::ropeAt(const Tensor& x, int nHeads, int headDim, const Tensor& step, double theta) {
    return guarded("ropeAt", [&] {
        require(checkRopeAt(x, nHeads, headDim));
        cuda::rope(activation(x, "ropeAt x"), 1, nHeads, headDim, 0, static_cast<float>(theta), m_stream.get(),
                   stepPointer(step, "ropeAt"));
    });
}

Status BackendCuda::writeRowAt(const Tensor& cache, const Tensor& src, const Tensor& step) {
    return guarded("writeRowAt", [&] {
        require(checkWriteRowAt(cache, src));
        void* c = devicePointer(cache, tensorBytes(cache), "writeRowAt cache");
        convertRowAt(c, cache.format, activation(src, "writeRowAt src"), cache.cols(), cache.rows(),
                     stepPointer(step, "writeRowAt"), m_stream.get());
    });
}

Status BackendCuda::ropeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim,
                                   const Tensor& step, double theta) {
    return guarded("ropeWriteRowAt", [&] {
        require(checkRopeWriteRowAt(cache, src, nHeads, headDim));
        void* c = devicePointer(cache, tensorBytes(cache), "ropeWriteRowAt cache");
        cuda::ropeWriteRowAt(c, cache.format, activation(src, "ropeWriteRowAt src"), cache.rows(), nHeads, headDim,
                             static_cast<float>(theta), stepPointer(step, "ropeWriteRowAt"), m_stream.get());
    });
}

Status BackendCuda::attentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache, const Tensor& vCache,
                                const AttentionParams& p, const Tensor& step) {
    return guarded("attentionAt", [&] {
        const AttentionShape d = require(checkAttentionAt(out, q, kCache, vCache, p));  // nKeys: the cache's rows
        if (p.headDim > kAttentionMaxHeadDim)
            throw BackendError(ErrorCode::Unsupported, "attentionAt: headDim " + std::to_string(p.headDim) + " > " +
                                                           std::to_string(kAttentionMaxHeadDim));
        float* o = activation(out, "attentionAt out");
        const float* qp = activation(q, "attentionAt q");
        const void* kp = devicePointer(kCache, tensorBytes(kCache), "attentionAt k");
        const void* vp = devicePointer(vCache, tensorBytes(vCache), "attentionAt v");
        const auto floats = static_cast<std::size_t>(attentionDecodeScratchFloats(d));
        auto* partial = static_cast<float*>(m_attention.ensure(floats * 4, m_stream.get(), "attention splits"));
        attentionDecode(o, qp, kp, vp, kCache.format, d, partial, m_stream.get(), stepPointer(step, "attentionAt"));
    });
}

Status BackendCuda::runRecorded(std::string_view key, const std::function<Status()>& body) {
    if (!m_graphsEnabled || m_capturing) return body();
    auto it = m_recordings.find(key);
    if (it == m_recordings.end()) it = m_recordings.emplace(std::string(key), Recording{}).first;
    Recording& r = it->second;
    if (r.disabled) return body();
    // A graph holds raw scratch addresses: after any scratch buffer moved (grew), record it again.
    if (r.exec && r.scratchGeneration != scratchGeneration()) r.exec.reset();
    if (!r.exec) {
        if (r.eagerRuns == 0) {  // first run: every scratch buffer grows to its steady-state size
            ++r.eagerRuns;
            return body();
        }
        const Status recorded = record(r, body);
        if (!recorded.isOk()) {
            r.disabled = true;
            m_graphNote = recorded.message();
            return body();  // the captured ops did not run: run them for real
        }
    }
    return guarded("graph launch", [&] { LLAVA_CUDA_CHECK(cudaGraphLaunch(r.exec.get(), m_stream.get())); });
}

Status BackendCuda::record(Recording& r, const std::function<Status()>& body) {
    const std::uint64_t generation = scratchGeneration();
    if (const cudaError_t set = cudaSetDevice(m_device); set != cudaSuccess) {
        cudaGetLastError();
        return makeError(ErrorCode::Internal, std::string("cudaSetDevice: ") + cudaGetErrorName(set));
    }
    // m_capturing before the capture begins: guarded()/afterOp() must not sync (LLAVA_CUDA_SYNC=1) once
    // the stream is capturing, or the capture is invalidated.
    m_capturing = true;
    const cudaError_t begun = cudaStreamBeginCapture(m_stream.get(), cudaStreamCaptureModeThreadLocal);
    if (begun != cudaSuccess) {
        m_capturing = false;
        cudaGetLastError();
        return makeError(ErrorCode::Internal, std::string("beginning a graph capture: ") + cudaGetErrorName(begun));
    }
    const Status captured = body();
    m_capturing = false;
    cudaGraph_t raw = nullptr;
    // Always ends the capture, also after a failed op, so the stream is usable for the eager fallback.
    const cudaError_t ended = cudaStreamEndCapture(m_stream.get(), &raw);
    const Graph graph(raw);
    if (!captured.isOk()) {
        cudaGetLastError();
        return captured.withContext("capturing a decode step");
    }
    if (ended != cudaSuccess || !graph) {
        cudaGetLastError();
        return makeError(ErrorCode::Internal, std::string("capturing a decode step: ") + cudaGetErrorName(ended));
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph.get(), 0);
    if (instantiated != cudaSuccess) {
        cudaGetLastError();
        return makeError(ErrorCode::Internal, std::string("instantiating the decode graph: ") + cudaGetErrorName(instantiated));
    }
    r.exec = GraphExec(exec);
    r.scratchGeneration = generation;
    if (generation != scratchGeneration())  // a scratch grew during the capture: the graph is stale already
        r.exec.reset();
    return Status::ok();
}

}  // namespace llava::cuda
