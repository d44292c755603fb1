// RAII resource owners (device_buffer.h).
#include "device_buffer.h"

#include <cstdio>

namespace llava::cuda {

std::string formatBytes(std::size_t bytes) {
    char text[64];
    const double b = static_cast<double>(bytes);
    if (b >= 1024.0 * 1024 * 1024) std::snprintf(text, sizeof text, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024) std::snprintf(text, sizeof text, "%.1f MiB", b / (1024.0 * 1024));
    else std::snprintf(text, sizeof text, "%zu bytes", bytes);
    return text;
}

DeviceBuffer DeviceBuffer::allocate(std::size_t bytes, const std::string& what) {
    DeviceBuffer buffer;
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
    if (err != cudaSuccess) {
        cudaGetLastError();
        std::size_t freeBytes = 0, totalBytes = 0;
        cudaMemGetInfo(&freeBytes, &totalBytes);
        const std::string message = "cuda: cannot allocate " + formatBytes(bytes) + " (" + std::to_string(bytes) +
                                    " bytes) for " + what + ": " + formatBytes(freeBytes) + " free of " +
                                    formatBytes(totalBytes) + " (" + cudaGetErrorName(err) + ")";
        if (err == cudaErrorMemoryAllocation) throw BackendError(ErrorCode::OutOfMemory, message);
        throw BackendError(ErrorCode::Internal, message);  // already "cuda: ..."
    }
    buffer.m_ptr = UniqueHandle<void*, detail::freeDevice>(p);
    buffer.m_bytes = bytes;
    return buffer;
}

PinnedBuffer PinnedBuffer::allocate(std::size_t bytes) {
    PinnedBuffer buffer;
    void* p = nullptr;
    const cudaError_t err = cudaMallocHost(&p, bytes == 0 ? 1 : bytes);
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw BackendError(ErrorCode::OutOfMemory,
                           "cuda: cannot allocate " + formatBytes(bytes) + " of pinned host memory (" +
                               cudaGetErrorName(err) + ")");
    }
    buffer.m_ptr = UniqueHandle<void*, detail::freePinned>(p);
    buffer.m_bytes = bytes;
    return buffer;
}

Stream Stream::create() {
    cudaStream_t s = nullptr;
    LLAVA_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return Stream(s);
}

Event Event::create() {
    cudaEvent_t e = nullptr;
    LLAVA_CUDA_CHECK(cudaEventCreate(&e));
    return Event(e);
}

CublasHandle CublasHandle::create(cudaStream_t stream) {
    cublasHandle_t h = nullptr;
    LLAVA_CUBLAS_CHECK(cublasCreate(&h));
    CublasHandle handle(h);  // owns h from here, also when a setting below throws
    LLAVA_CUBLAS_CHECK(cublasSetStream(h, stream));
    // CUBLAS_DEFAULT_MATH keeps fp32 GEMMs in true fp32 (no TF32), which the fp32 parity target needs.
    LLAVA_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    return handle;
}

CublasLtHandle CublasLtHandle::create() {
    cublasLtHandle_t h = nullptr;
    LLAVA_CUBLAS_CHECK(cublasLtCreate(&h));
    return CublasLtHandle(h);
}

void* ScratchBuffer::ensure(std::size_t bytes, cudaStream_t stream, const char* what) {
    if (bytes <= m_buffer.bytes() && m_buffer) return m_buffer.data();
    LLAVA_CUDA_CHECK(cudaStreamSynchronize(stream));  // in-flight ops may still read the old region
    m_buffer = DeviceBuffer();
    // Round up so that slowly growing requests (KV length during decode) do not reallocate each step.
    const std::size_t rounded = ((bytes + (1u << 20) - 1) >> 20 << 20) + (bytes >> 3);
    m_buffer = DeviceBuffer::allocate(rounded, std::string("scratch (") + what + ")");
    ++m_generation;
    return m_buffer.data();
}

}  // namespace llava::cuda
