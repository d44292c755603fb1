// BackendCuda: construction, buffers, transfers, weight upload (with conversion/quantisation on the
// device), the memory report, the factory and the helpers of cuda_backend.h. The ops are in
// backend_cuda_ops.cpp.
#include "backend_cuda.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "llava_cuda/cuda_backend.h"
#include "llava_cuda/device_info.h"

namespace llava::cuda {
namespace {

constexpr std::size_t kStagingBytes = std::size_t{32} << 20;  // per pinned upload buffer (two of them)

std::string gib(std::uint64_t bytes) { return formatBytes(static_cast<std::size_t>(bytes)); }

}  // namespace

BackendCuda::BackendCuda(int device) : m_device(device) {
    LLAVA_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    LLAVA_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    m_deviceName = prop.name;
    m_sm = prop.major * 10 + prop.minor;
    const char* sync = std::getenv("LLAVA_CUDA_SYNC");
    m_syncEachOp = sync && std::strcmp(sync, "1") == 0;
    const char* graphs = std::getenv("LLAVA_CUDA_GRAPHS");
    m_graphsEnabled = !(graphs && std::strcmp(graphs, "0") == 0);
    m_stream = Stream::create();
    m_cublas = CublasHandle::create(m_stream.get());
    for (auto& e : m_stagingFree) e = Event::create();
    m_hostIdsFree = Event::create();
    m_hostResult = PinnedBuffer::allocate(64);
}

BackendCuda::~BackendCuda() {
    cudaSetDevice(m_device);
    cudaStreamSynchronize(m_stream.get());  // members are then freed with nothing in flight
}

std::uint64_t BackendCuda::scratchGeneration() const {
    std::uint64_t sum = 0;
    for (const ScratchBuffer* s : {&m_gemmActivations, &m_gemmWeights, &m_im2col, &m_attention, &m_ids, &m_result,
                                   &m_attentionOperands, &m_attentionScores, &m_copyStaging})
        sum += s->generation();
    return sum;
}

void BackendCuda::afterOp(const char* op) {
    if (!m_syncEachOp || m_capturing) return;  // a sync would invalidate a stream capture
    const cudaError_t err = cudaStreamSynchronize(m_stream.get());
    if (err != cudaSuccess)
        throw BackendError::device(std::string(op) + " (LLAVA_CUDA_SYNC=1): " + cudaGetErrorName(err) + ": " +
                                   cudaGetErrorString(err));
}

BackendInfo BackendCuda::info() const {
    BackendInfo info;
    info.name = "cuda";
    info.device = m_deviceName + " (sm_" + std::to_string(m_sm) + ")";
    if (!m_graphsEnabled) info.device += ", CUDA graphs off";
    else if (!m_graphNote.empty()) info.device += ", CUDA graphs off: " + m_graphNote;
    info.threads = 1;
    info.prefillRows = 1024;
    info.f16KvCache = true;  // 7B: ~200 MiB of activations; GEMMs of M = 1024 keep the tensor cores busy
    m_buffers.forEachLive([&](const CudaBuffer& b) {
        if (b.role == BufferRole::Weights) info.memory.weightBytes += b.size();
        else if (b.role == BufferRole::KvCache) info.memory.kvCacheBytes += b.size();
        else info.memory.scratchBytes += b.size();
    });
    for (const ScratchBuffer* s : {&m_gemmActivations, &m_gemmWeights, &m_im2col, &m_attention, &m_ids, &m_result,
                                   &m_attentionOperands, &m_attentionScores, &m_copyStaging})
        info.memory.scratchBytes += s->bytes();
    std::size_t freeBytes = 0, totalBytes = 0;
    if (cudaSetDevice(m_device) == cudaSuccess && cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
        info.memory.deviceFreeBytes = freeBytes;
        info.memory.deviceTotalBytes = totalBytes;
    }
    return info;
}

void* BackendCuda::devicePointer(const Tensor& t, std::size_t bytes, const char* op) const {
    const CudaBuffer* b = require(m_buffers.resolve(t, bytes, op));
    return static_cast<std::byte*>(b->memory.data()) + t.offset;
}

Result<Tensor> BackendCuda::allocate(const Shape& shape, StorageFormat format, BufferRole role, std::string_view name) {
    Tensor t;
    t.shape = shape;
    t.format = format;
    const Status status = guarded("allocate", [&] {
        const std::size_t bytes = require(checkAllocate(shape, format, name, "cuda"));
        CudaBuffer buffer{DeviceBuffer::allocate(bytes, std::string(name)), role};
        // Zeroed like the CPU backend's buffers (callers may rely on untouched rows being 0).
        LLAVA_CUDA_CHECK(cudaMemsetAsync(buffer.memory.data(), 0, std::max<std::size_t>(bytes, 1), m_stream.get()));
        t.buffer = m_buffers.add(std::move(buffer));
    });
    if (!status.isOk()) return status;
    return t;
}

void BackendCuda::release(const Tensor& tensor) {
    if (!m_buffers.find(tensor.buffer)) return;
    cudaSetDevice(m_device);
    cudaStreamSynchronize(m_stream.get());  // queued ops may still use it
    m_recordings.clear();                   // recorded graphs may point into it (backend.h: release forgets)
    m_buffers.release(tensor.buffer);
}

Status BackendCuda::upload(const Tensor& dst, const void* host, std::size_t bytes) {
    return guarded("upload", [&] {
        void* d = devicePointer(dst, bytes, "upload");
        // Pageable source: the call returns once the bytes are staged, so the caller may reuse `host`.
        LLAVA_CUDA_CHECK(cudaMemcpyAsync(d, host, bytes, cudaMemcpyHostToDevice, m_stream.get()));
    });
}

Status BackendCuda::download(const Tensor& src, void* host, std::size_t bytes) {
    return guarded("download", [&] {
        const void* s = devicePointer(src, bytes, "download");
        LLAVA_CUDA_CHECK(cudaMemcpyAsync(host, s, bytes, cudaMemcpyDeviceToHost, m_stream.get()));
        LLAVA_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
    });
}

Status BackendCuda::synchronize() {
    return guarded("synchronize", [&] { LLAVA_CUDA_CHECK(cudaStreamSynchronize(m_stream.get())); });
}

void BackendCuda::stagedUpload(void* dst, const void* host, std::size_t bytes) {
    if (!m_staging[0].data()) {
        m_staging[0] = PinnedBuffer::allocate(kStagingBytes);
        m_staging[1] = PinnedBuffer::allocate(kStagingBytes);
    }
    // Chunk i is memcpy'd into pinned buffer i % 2 while chunk i - 1 is still being copied to the device.
    for (std::size_t done = 0, i = 0; done < bytes; ++i) {
        const std::size_t n = std::min(kStagingBytes, bytes - done), slot = i % 2;
        LLAVA_CUDA_CHECK(cudaEventSynchronize(m_stagingFree[slot].get()));
        std::memcpy(m_staging[slot].data(), static_cast<const std::byte*>(host) + done, n);
        LLAVA_CUDA_CHECK(cudaMemcpyAsync(static_cast<std::byte*>(dst) + done, m_staging[slot].data(), n,
                                         cudaMemcpyHostToDevice, m_stream.get()));
        LLAVA_CUDA_CHECK(cudaEventRecord(m_stagingFree[slot].get(), m_stream.get()));
        done += n;
    }
}

Result<Tensor> BackendCuda::uploadWeight(const TensorView& view, WeightPrecision precision) {
    // The same format choice as the CPU backend (planWeightUpload in core).
    LLAVA_ASSIGN_OR_RETURN(const WeightUploadPlan plan, planWeightUpload(view, precision, "cuda"));
    const Shape& shape = plan.shape;
    const StorageFormat stored = plan.stored;
    const StorageFormat target = plan.target;
    LLAVA_ASSIGN_OR_RETURN(Tensor out, allocate(shape, target, BufferRole::Weights, view.name));
    const Status status = guarded("uploadWeight", [&] {
        void* dst = devicePointer(out, storageBytes(target, out.rows(), out.cols()), "uploadWeight");
        if (target == stored) {
            stagedUpload(dst, view.data, view.byteSize);
            return;
        }
        DeviceBuffer raw = DeviceBuffer::allocate(view.byteSize, view.name + " (as stored, before conversion)");
        stagedUpload(raw.data(), view.data, view.byteSize);
        if (target == StorageFormat::Q8PerChannel || target == StorageFormat::Q4Group128)
            quantise(dst, target, raw.data(), stored, out.rows(), out.cols(), m_stream.get());
        else
            convert(dst, target, raw.data(), stored, out.elementCount(), m_stream.get());
        LLAVA_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));  // before `raw` is freed
    });
    if (!status.isOk()) {
        release(out);
        return status.withContext("uploading " + view.name);
    }
    return out;
}

// ---- factory -------------------------------------------------------------------------------------

Result<std::unique_ptr<Backend>> createCudaBackend(const BackendRequest& request) {
    const DeviceInfo device = queryDevice(request.deviceIndex);
    if (!device.available) return makeError(ErrorCode::Unsupported, device.whyNot);
    const std::string label = device.name + " (sm_" + std::to_string(device.computeMajor * 10 + device.computeMinor) + ")";
    if (device.computeMajor * 10 + device.computeMinor < 75)
        return makeError(ErrorCode::Unsupported, label + " is older than sm_75, the oldest GPU this build supports");
    if (request.requiredBytes > 0 && request.requiredBytes > device.freeBytes)
        return makeError(ErrorCode::OutOfMemory, "not enough GPU memory: requires " + gib(request.requiredBytes) + ", " +
                                                     gib(device.freeBytes) + " free on " + label);
    try {
        return std::unique_ptr<Backend>(std::make_unique<BackendCuda>(request.deviceIndex));
    } catch (const BackendError& error) {
        return error.status().withContext("starting the CUDA backend on " + label);
    } catch (const std::exception& error) {  // bad_alloc etc.: no exception leaves the factory
        return makeError(ErrorCode::Internal, "starting the CUDA backend on " + label + ": " + error.what());
    }
}

void registerCudaBackend(BackendRegistry& registry) { registry.registerFactory(BackendKind::Cuda, createCudaBackend); }

// ---- helpers for benchmarks and tests ------------------------------------------------------------

namespace {
BackendCuda* asCuda(Backend& backend) { return dynamic_cast<BackendCuda*>(&backend); }
Status notCuda() { return makeError(ErrorCode::InvalidArgument, "not a CUDA backend"); }
}  // namespace

Status fillRandom(Backend& backend, const Tensor& tensor, float amplitude, std::uint64_t seed) {
    BackendCuda* cuda = asCuda(backend);
    if (!cuda) return notCuda();
    return cuda->guarded("fillRandom", [&] {
        void* p = cuda->devicePointer(tensor, storageBytes(tensor.format, tensor.rows(), tensor.cols()), "fillRandom");
        fillRandom(p, tensor.format, tensor.rows(), tensor.cols(), amplitude, seed, cuda->stream());
    });
}

Status setGraphsEnabled(Backend& backend, bool enabled) {
    BackendCuda* cuda = asCuda(backend);
    if (!cuda) return notCuda();
    cuda->setGraphsEnabled(enabled);
    return Status::ok();
}

Result<std::vector<double>> timeOnDevice(Backend& backend, int warmup, int reps, const std::function<Status()>& work) {
    BackendCuda* cuda = asCuda(backend);
    if (!cuda) return notCuda();
    std::vector<double> times;
    Status inner;
    const Status status = cuda->guarded("timeOnDevice", [&] {
        Event start = Event::create(), stop = Event::create();
        for (int i = 0; i < warmup + reps && inner.isOk(); ++i) {
            LLAVA_CUDA_CHECK(cudaEventRecord(start.get(), cuda->stream()));
            inner = work();
            LLAVA_CUDA_CHECK(cudaEventRecord(stop.get(), cuda->stream()));
            LLAVA_CUDA_CHECK(cudaEventSynchronize(stop.get()));
            float ms = 0;
            LLAVA_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
            if (i >= warmup) times.push_back(ms);
        }
    });
    if (!status.isOk()) return status;
    if (!inner.isOk()) return inner;
    return times;
}

Result<double> copyBandwidthGBs(Backend& backend, std::size_t bytes, int reps) {
    BackendCuda* cuda = asCuda(backend);
    if (!cuda) return notCuda();
    std::vector<double> gbs;
    const Status status = cuda->guarded("copyBandwidth", [&] {
        DeviceBuffer a = DeviceBuffer::allocate(bytes, "bandwidth probe"), b = DeviceBuffer::allocate(bytes, "bandwidth probe");
        LLAVA_CUDA_CHECK(cudaMemsetAsync(a.data(), 1, bytes, cuda->stream()));
        Event start = Event::create(), stop = Event::create();
        for (int i = 0; i < reps + 2; ++i) {
            LLAVA_CUDA_CHECK(cudaEventRecord(start.get(), cuda->stream()));
            LLAVA_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, cuda->stream()));
            LLAVA_CUDA_CHECK(cudaEventRecord(stop.get(), cuda->stream()));
            LLAVA_CUDA_CHECK(cudaEventSynchronize(stop.get()));
            float ms = 0;
            LLAVA_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
            if (i >= 2) gbs.push_back(2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9);  // read + write
        }
    });
    if (!status.isOk()) return status;
    std::sort(gbs.begin(), gbs.end());
    return gbs[gbs.size() / 2];
}

}  // namespace llava::cuda
