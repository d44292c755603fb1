// CpuBackend: the reference Backend (host memory, fp32 compute, one ThreadPool owned by the backend).
// Keys and values may be F16 (info().f16KvCache: the model keeps a 16-bit KV cache when its weights are
// 16-bit or quantised); the attention kernels widen them to fp32 as they read them.
// Buffers are host allocations or, for AsStored weights, read-only pointers into the checkpoint mapping
// (zero copies; the mapping must outlive the backend). Each op validates formats and shapes, then calls
// a raw kernel (cpukernels.h). Argument checks are the shared ones of backendchecks.h, buffers live in a
// BufferTable (buffertable.h). Buffer management lives in cpubackend.cpp, the ops in cpuops.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "backend/cpu/cpukernels.h"
#include "llava/backend.h"
#include "llava/backendchecks.h"
#include "llava/buffertable.h"

namespace llava::cpu {


struct CpuBuffer {
    std::unique_ptr<std::byte[]> owned;
    const std::byte* data = nullptr;
    std::size_t bytes = 0;
    BufferRole role = BufferRole::Scratch;
    bool mapped = false;  // points into the checkpoint mapping

    bool live() const { return data != nullptr; }  // BufferTable's interface
    std::size_t size() const { return bytes; }
};

class CpuBackend final : public Backend {
public:
    // reference (createCpuReferenceBackend): every product in fp32 activations (the fast backend's Q8/Q4
    // matrix-vector products round activations to int8, cpuint8.h) and F32 KV caches (f16KvCache false), so
    // the comparisons made against it (CUDA self-check, GPU parity tests) see exact fp32 values.
    explicit CpuBackend(int threads, bool reference = false)
        : m_requestedThreads(threads), m_pool(std::min(threads, usableCpuCount())), m_isa(detectCpuIsa()),
          m_int8Decode(!reference), m_f16KvCache(!reference) {}

    BackendInfo info() const override {
        BackendInfo info;
        info.name = "cpu";
        info.threads = m_pool.size();
        info.device = std::to_string(m_pool.size()) + " threads, " + cpuIsaName(m_isa);
        info.f16KvCache = m_f16KvCache;
        if (m_requestedThreads > m_pool.size())
            info.notice = "threads " + std::to_string(m_requestedThreads) + " clamped to " + std::to_string(m_pool.size()) +
                          ": this process may use " + std::to_string(usableCpuCount()) + " CPUs";
        m_buffers.forEachLive([&](const CpuBuffer& b) {
            if (b.mapped) info.memory.mappedWeightBytes += b.bytes;
            else if (b.role == BufferRole::Weights) info.memory.weightBytes += b.bytes;
            else if (b.role == BufferRole::KvCache) info.memory.kvCacheBytes += b.bytes;
            else info.memory.scratchBytes += b.bytes;
        });
        return info;
    }

    Result<Tensor> allocate(const Shape& shape, StorageFormat format, BufferRole role, std::string_view name) override {
        Tensor t;
        t.shape = shape;
        t.format = format;
        LLAVA_ASSIGN_OR_RETURN(const std::size_t bytes, checkAllocate(shape, format, name, "cpu"));
        CpuBuffer buffer;
        buffer.owned.reset(new (std::nothrow) std::byte[std::max<std::size_t>(bytes, 1)]);
        if (!buffer.owned)
            return makeError(ErrorCode::OutOfMemory, "cpu: cannot allocate " + std::to_string(bytes) + " bytes for " +
                                                         std::string(name));
        std::memset(buffer.owned.get(), 0, std::max<std::size_t>(bytes, 1));
        buffer.data = buffer.owned.get();
        buffer.bytes = bytes;
        buffer.role = role;
        t.buffer = m_buffers.add(std::move(buffer));
        return t;
    }

    void release(const Tensor& tensor) override { m_buffers.release(tensor.buffer); }

    Status upload(const Tensor& dst, const void* host, std::size_t bytes) override {
        LLAVA_ASSIGN_OR_RETURN(std::byte* p, writable(dst, bytes, "upload"));
        std::memcpy(p, host, bytes);
        return Status::ok();
    }

    Status download(const Tensor& src, void* host, std::size_t bytes) override {
        LLAVA_ASSIGN_OR_RETURN(const std::byte* p, readable(src, bytes, "download"));
        std::memcpy(host, p, bytes);
        return Status::ok();
    }

    Result<Tensor> uploadWeight(const TensorView& view, WeightPrecision precision) override;
    bool adoptsHostWeights() const override { return true; }
    Result<Tensor> adoptWeight(const Shape& shape, StorageFormat format, const std::byte* data, std::size_t bytes,
                               std::string_view name) override;
    Status synchronize() override { return Status::ok(); }

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

    Status embedAt(const Tensor& out, const Tensor& table, const Tensor& step) override;
    Status ropeAt(const Tensor& x, int nHeads, int headDim, const Tensor& step, double theta) override;
    Status writeRowAt(const Tensor& cache, const Tensor& src, const Tensor& step) override;
    Status ropeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim, const Tensor& step,
                          double theta) override;
    Status attentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache, const Tensor& vCache,
                       const AttentionParams& params, const Tensor& step) override;
    Status runRecorded(std::string_view, const std::function<Status()>& body) override { return body(); }

private:
    // step[0] (position) and step[1] (token id) of a decode step tensor (backend.h).
    Result<std::array<std::int32_t, 2>> readStep(const Tensor& step, const char* op) const {
        LLAVA_TRY(checkStep(step, op));
        LLAVA_ASSIGN_OR_RETURN(const std::byte* p, readable(step, 8, op));
        std::array<std::int32_t, 2> v{};
        std::memcpy(v.data(), p, 8);
        return v;
    }

    Result<const std::byte*> readable(const Tensor& t, std::size_t bytes, const char* op) const {
        LLAVA_ASSIGN_OR_RETURN(const CpuBuffer* b, m_buffers.resolve(t, bytes, op));
        return b->data + t.offset;
    }
    Result<std::byte*> writable(const Tensor& t, std::size_t bytes, const char* op) {
        LLAVA_ASSIGN_OR_RETURN(const CpuBuffer* b, m_buffers.resolve(t, bytes, op));
        if (b->mapped) return makeError(ErrorCode::InvalidArgument, std::string(op) + ": tensor is a read-only mapped weight");
        return b->owned.get() + t.offset;
    }
    // fp32 activation pointer with a full-size check.
    Result<float*> f32(const Tensor& t, const char* op) {
        LLAVA_TRY(checkActivation(t, op));
        LLAVA_ASSIGN_OR_RETURN(std::byte* p, writable(t, tensorBytes(t), op));
        return reinterpret_cast<float*>(p);
    }
    // Any float vector/matrix decoded to fp32 (norm weights, biases, embeddings rows).
    Result<const float*> asF32(const Tensor& t, std::vector<float>& tmp, const char* op) {
        LLAVA_TRY(checkFloatTensor(t, op));
        LLAVA_ASSIGN_OR_RETURN(const std::byte* p, readable(t, tensorBytes(t), op));
        if (t.format == StorageFormat::F32) return reinterpret_cast<const float*>(p);
        tmp.resize(static_cast<std::size_t>(t.elementCount()));
        decodeElements(t.format, p, 0, t.elementCount(), tmp.data());
        return static_cast<const float*>(tmp.data());
    }
    // out = softmax(q kᵀ) v over the rows `shape` describes (checked by checkAttention / checkAttentionAt).
    Status runAttention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape);

    int m_requestedThreads = 0;  // as asked for (0 = all); m_pool.size() is what runs
    ThreadPool m_pool;
    CpuIsa m_isa;
    bool m_int8Decode = true;
    bool m_f16KvCache = true;
    Scratch m_scratch;
    BufferTable<CpuBuffer> m_buffers;
    std::vector<float> m_tmpA, m_tmpB;  // decoded weight vectors
};

}  // namespace llava::cpu
