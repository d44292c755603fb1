// Error plumbing of the CUDA backend. Inside kernels/ a failed CUDA/cuBLAS call throws BackendError
// (expression text, file, line, function, CUDA error name); BackendCuda catches it at the Backend
// boundary and returns a Status, so no exception ever crosses into core or the app.
// Deliberately not here: retries or recovery. A sticky device fault leaves the backend unusable and
// every later op reports it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "llava/status.h"

namespace llava::cuda {

// The Status a failed call inside kernels/ becomes at the Backend boundary (BackendCuda::guarded): the
// code and message travel unchanged. Argument checks (backendchecks.h) throw their own code; a CUDA or
// cuBLAS fault is Internal with a "cuda: " message (device()), a failed allocation OutOfMemory.
class BackendError : public std::runtime_error {
public:
    BackendError(ErrorCode code, const std::string& what) : std::runtime_error(what), m_code(code) {}
    explicit BackendError(const Status& status) : BackendError(status.code(), status.message()) {}
    static BackendError device(const std::string& what) { return BackendError(ErrorCode::Internal, "cuda: " + what); }
    ErrorCode code() const { return m_code; }
    Status status() const { return makeError(m_code, what()); }

private:
    ErrorCode m_code;
};

const char* cublasStatusName(cublasStatus_t status);

// "cudaMemcpyAsync(...) failed at kernels/x.cu:12 (fn): cudaErrorIllegalAddress: an illegal memory access"
[[noreturn]] void throwCudaError(cudaError_t err, const char* expr, const char* file, int line, const char* function);
[[noreturn]] void throwCublasError(cublasStatus_t status, const char* expr, const char* file, int line,
                                   const char* function);

}  // namespace llava::cuda

#define LLAVA_CUDA_CHECK(expr)                                                                        \
    do {                                                                                              \
        const cudaError_t llavaCudaErr_ = (expr);                                                     \
        if (llavaCudaErr_ != cudaSuccess)                                                             \
            ::llava::cuda::throwCudaError(llavaCudaErr_, #expr, __FILE__, __LINE__, __func__);        \
    } while (0)

#define LLAVA_CUBLAS_CHECK(expr)                                                                      \
    do {                                                                                              \
        const cublasStatus_t llavaCublasStatus_ = (expr);                                             \
        if (llavaCublasStatus_ != CUBLAS_STATUS_SUCCESS)                                              \
            ::llava::cuda::throwCublasError(llavaCublasStatus_, #expr, __FILE__, __LINE__, __func__); \
    } while (0)

// After every <<<...>>>: configuration errors (too much shared memory, bad grid) surface here.
#define LLAVA_LAUNCH_CHECK() LLAVA_CUDA_CHECK(cudaGetLastError())
