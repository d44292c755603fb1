// Move-only RAII owners for every CUDA resource the backend holds: device memory, pinned host memory,
// a stream, an event, a cuBLAS handle, a cuBLASLt handle and CUDA graphs. Destructors free and never throw;
// constructors throw BackendError (cuda_check.h). No op code calls a cuda*Free by hand.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda_check.h"

namespace llava::cuda {

// Base for all handles: owns one value of type T, releases it with Deleter, moves leave T{} behind.
template <typename T, void (*Release)(T)>
class UniqueHandle {
public:
    UniqueHandle() = default;
    explicit UniqueHandle(T value) : m_value(value) {}
    UniqueHandle(UniqueHandle&& other) noexcept : m_value(std::exchange(other.m_value, T{})) {}
    UniqueHandle& operator=(UniqueHandle&& other) noexcept {
        if (this != &other) {
            reset();
            m_value = std::exchange(other.m_value, T{});
        }
        return *this;
    }
    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;
    ~UniqueHandle() { reset(); }

    T get() const { return m_value; }
    explicit operator bool() const { return m_value != T{}; }
    void reset() {
        if (m_value != T{}) Release(std::exchange(m_value, T{}));
    }

private:
    T m_value{};
};

namespace detail {
inline void freeDevice(void* p) { cudaFree(p); }
inline void freePinned(void* p) { cudaFreeHost(p); }
inline void destroyStream(cudaStream_t s) { cudaStreamDestroy(s); }
inline void destroyEvent(cudaEvent_t e) { cudaEventDestroy(e); }
inline void destroyCublas(cublasHandle_t h) { cublasDestroy(h); }
inline void destroyCublasLt(cublasLtHandle_t h) { cublasLtDestroy(h); }
inline void destroyGraph(cudaGraph_t g) { cudaGraphDestroy(g); }
inline void destroyGraphExec(cudaGraphExec_t g) { cudaGraphExecDestroy(g); }
}  // namespace detail

// A captured graph and its instantiation (decode steps replayed by BackendCuda::runRecorded).
using Graph = UniqueHandle<cudaGraph_t, detail::destroyGraph>;
using GraphExec = UniqueHandle<cudaGraphExec_t, detail::destroyGraphExec>;

// Device memory. allocate() throws BackendError(OutOfMemory) naming the bytes requested and free.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    static DeviceBuffer allocate(std::size_t bytes, const std::string& what);

    void* data() const { return m_ptr.get(); }
    std::size_t bytes() const { return m_bytes; }
    explicit operator bool() const { return static_cast<bool>(m_ptr); }

private:
    UniqueHandle<void*, detail::freeDevice> m_ptr;
    std::size_t m_bytes = 0;
};

// Page-locked host memory for asynchronous uploads/downloads.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    static PinnedBuffer allocate(std::size_t bytes);

    void* data() const { return m_ptr.get(); }
    std::size_t bytes() const { return m_bytes; }

private:
    UniqueHandle<void*, detail::freePinned> m_ptr;
    std::size_t m_bytes = 0;
};

class Stream {
public:
    Stream() = default;
    static Stream create();  // non-blocking with respect to the legacy default stream
    cudaStream_t get() const { return m_stream.get(); }

private:
    explicit Stream(cudaStream_t stream) : m_stream(stream) {}
    UniqueHandle<cudaStream_t, detail::destroyStream> m_stream;
};

class Event {
public:
    Event() = default;
    static Event create();  // with timing enabled (benchmarks use the same type)
    cudaEvent_t get() const { return m_event.get(); }

private:
    explicit Event(cudaEvent_t event) : m_event(event) {}
    UniqueHandle<cudaEvent_t, detail::destroyEvent> m_event;
};

class CublasHandle {
public:
    CublasHandle() = default;
    static CublasHandle create(cudaStream_t stream);  // bound to the stream, pure fp32 math (no TF32)
    cublasHandle_t get() const { return m_handle.get(); }

private:
    explicit CublasHandle(cublasHandle_t handle) : m_handle(handle) {}
    UniqueHandle<cublasHandle_t, detail::destroyCublas> m_handle;
};

class CublasLtHandle {
public:
    CublasLtHandle() = default;
    static CublasLtHandle create();
    cublasLtHandle_t get() const { return m_handle.get(); }

private:
    explicit CublasLtHandle(cublasLtHandle_t handle) : m_handle(handle) {}
    UniqueHandle<cublasLtHandle_t, detail::destroyCublasLt> m_handle;
};

// One growable device scratch region. ensure() only allocates when the request exceeds the current
// size (so a steady-state decode loop never allocates); growing waits for in-flight work first.
class ScratchBuffer {
public:
    void* ensure(std::size_t bytes, cudaStream_t stream, const char* what);
    std::size_t bytes() const { return m_buffer.bytes(); }
    // Incremented by every reallocation: recorded CUDA graphs that captured the old address are stale.
    std::uint64_t generation() const { return m_generation; }

private:
    DeviceBuffer m_buffer;
    std::uint64_t m_generation = 0;
};

// "1.50 GiB"
std::string formatBytes(std::size_t bytes);

}  // namespace llava::cuda
