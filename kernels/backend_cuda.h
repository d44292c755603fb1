// BackendCuda: core's Backend on one CUDA device and ONE stream. Owns the stream, the cuBLAS handle,
// every device buffer (id = index + 1, like the CPU backend), pinned staging for uploads and growable
// scratch regions (sized at first use, so the decode loop allocates nothing once warm).
// Layering: each op method runs the op's shared argument check (backendchecks.h, the same as the CPU
// reference), resolves device pointers through the BufferTable, then calls a launcher (ops.h) or gemm
// (gemm.h). Errors inside are BackendError exceptions; guarded() turns them into Status so nothing throws
// across the Backend API.
// LLAVA_CUDA_SYNC=1 synchronises after every op so an asynchronous fault names its op.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "device_buffer.h"
#include "gemm.h"
#include "llava/backend.h"
#include "llava/backendchecks.h"
#include "llava/buffertable.h"
#include "ops.h"

namespace llava::cuda {

class BackendCuda final : public Backend {
public:
    explicit BackendCuda(int device);  // throws BackendError
    ~BackendCuda() override;

    BackendInfo info() const override;
    Result<Tensor> allocate(const Shape& shape, StorageFormat format, BufferRole role, std::string_view name) override;
    void release(const Tensor& tensor) override;
    Status upload(const Tensor& dst, const void* host, std::size_t bytes) override;
    Status download(const Tensor& src, void* host, std::size_t bytes) override;
    Result<Tensor> uploadWeight(const TensorView& view, WeightPrecision precision) override;
    Status synchronize() override;

    Status matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, MatmulMode mode) override;
    Status rmsNorm(const Tensor& out, const Tensor& x, const Tensor& w, float eps) override;
    Status layerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b, float eps) override;
    Status rope(const Tensor& x, int nHeads, int headDim, int positionStart, double theta) override;
    Status attention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                     const AttentionParams& params) override;
    Status quickGelu(const Tensor& x) override;
    Status gelu(const Tensor& x) override;
    Status siluMul(const Tensor& out, const Tensor& gate, const Tensor& up) override;
    Status add(const Tensor& out, const Tensor& a, const Tensor& b) override;
    Status embed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids) override;
    Status patchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight) override;
    Status copy(const Tensor& dst, const Tensor& src) override;
    Result<std::int32_t> argmax(const Tensor& x, std::int64_t nValid) override;

    // Decode steps (backend_cuda_replay.cpp): the step-tensor ops and CUDA graph record / replay.
    Status embedAt(const Tensor& out, const Tensor& table, const Tensor& step) override;
    Status ropeAt(const Tensor& x, int nHeads, int headDim, const Tensor& step, double theta) override;
    Status writeRowAt(const Tensor& cache, const Tensor& src, const Tensor& step) override;
    Status ropeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim, const Tensor& step,
                          double theta) override;
    Status attentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache, const Tensor& vCache,
                       const AttentionParams& params, const Tensor& step) override;
    Status runRecorded(std::string_view key, const std::function<Status()>& body) override;
    void setGraphsEnabled(bool enabled) { m_graphsEnabled = enabled; }

    // For the helpers of cuda_backend.h (benchmarks, tests).
    cudaStream_t stream() const { return m_stream.get(); }
    void* devicePointer(const Tensor& t, std::size_t bytes, const char* op) const;  // throws BackendError
    template <typename F>
    Status guarded(const char* op, F&& body);

private:
    struct CudaBuffer {
        DeviceBuffer memory;
        BufferRole role = BufferRole::Scratch;

        bool live() const { return static_cast<bool>(memory); }  // BufferTable's interface
        std::size_t size() const { return memory.bytes(); }
    };
    // One runRecorded key: run eagerly once (scratch reaches its final size), then captured and replayed.
    struct Recording {
        int eagerRuns = 0;
        bool disabled = false;  // capture failed once (reason in m_graphNote): always eager from then on
        GraphExec exec;
        std::uint64_t scratchGeneration = 0;  // scratchGeneration() when recorded
    };
    std::uint64_t scratchGeneration() const;  // changes whenever any scratch buffer is reallocated
    Status record(Recording& recording, const std::function<Status()>& body);
    const std::int32_t* stepPointer(const Tensor& step, const char* op) const;

    float* activation(const Tensor& t, const char* op) const;               // F32, whole tensor in range
    const void* floatVector(const Tensor& t, const char* op) const;         // F32/F16/BF16, whole tensor
    void stagedUpload(void* dst, const void* host, std::size_t bytes);      // pinned double buffer
    void linear(float* out, const float* x, const Tensor& w, const void* bias, StorageFormat biasFormat,
                std::int64_t m, bool accumulate, const char* op);
    GemmContext gemmContext() { return {m_cublas.get(), m_stream.get(), &m_gemmActivations, &m_gemmWeights}; }
    void afterOp(const char* op);

    int m_device = 0;
    std::string m_deviceName;
    int m_sm = 0;
    bool m_syncEachOp = false;
    Stream m_stream;
    CublasHandle m_cublas;
    BufferTable<CudaBuffer> m_buffers;
    PinnedBuffer m_staging[2];          // weight upload chunks
    Event m_stagingFree[2];             // recorded after the copy out of m_staging[i]
    PinnedBuffer m_hostIds;             // embed ids on their way to the device
    Event m_hostIdsFree;
    PinnedBuffer m_hostResult;          // argmax result
    ScratchBuffer m_gemmActivations, m_gemmWeights, m_im2col, m_attention, m_ids, m_result;
    ScratchBuffer m_attentionOperands, m_attentionScores;  // the tensor-core attention path
    ScratchBuffer m_copyStaging;                          // copy() between overlapping views
    bool m_graphsEnabled = true;        // LLAVA_CUDA_GRAPHS=0: runRecorded always runs eagerly
    bool m_capturing = false;           // inside a stream capture: no syncs, no device switches
    std::string m_graphNote;            // why a recording fell back to eager runs (shown in info())
    std::map<std::string, Recording, std::less<>> m_recordings;  // declared last: destroyed first
};

// Inside guarded(): a failed check (backendchecks.h) becomes a BackendError with its code and message.
inline void require(const Status& status) {
    if (!status.isOk()) throw BackendError(status);
}
template <typename T>
T require(Result<T> result) {
    if (!result.isOk()) throw BackendError(result.status());
    return std::move(result).value();
}

template <typename F>
Status BackendCuda::guarded(const char* op, F&& body) {
    try {
        if (!m_capturing) LLAVA_CUDA_CHECK(cudaSetDevice(m_device));  // the inference thread may differ from the loader's
        body();
        afterOp(op);
        return Status::ok();
    } catch (const BackendError& error) {
        return error.status();
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, std::string(op) + ": host allocation failed");
    } catch (const std::exception& error) {  // std::length_error etc.: still never across the Backend API
        return makeError(ErrorCode::Internal, std::string("cuda: ") + op + ": " + error.what());
    }
}

}  // namespace llava::cuda
