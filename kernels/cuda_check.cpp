// BackendError construction for LLAVA_CUDA_CHECK / LLAVA_CUBLAS_CHECK (cuda_check.h).
#include "cuda_check.h"

namespace llava::cuda {

const char* cublasStatusName(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_(unknown)";
    }
}

void throwCudaError(cudaError_t err, const char* expr, const char* file, int line, const char* function) {
    int device = -1;
    cudaGetDevice(&device);
    const std::string what = std::string(expr) + " failed at " + file + ":" + std::to_string(line) + " (" + function +
                             ", device " + std::to_string(device) + "): " + cudaGetErrorName(err) + ": " +
                             cudaGetErrorString(err);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // not sticky: clear it so the backend stays usable
        throw BackendError(ErrorCode::OutOfMemory, what);
    }
    throw BackendError::device(what);
}

void throwCublasError(cublasStatus_t status, const char* expr, const char* file, int line, const char* function) {
    const std::string what = std::string(expr) + " failed at " + file + ":" + std::to_string(line) + " (" + function +
                             "): " + cublasStatusName(status);
    if (status == CUBLAS_STATUS_ALLOC_FAILED) throw BackendError(ErrorCode::OutOfMemory, what);
    throw BackendError::device(what);
}

}  // namespace llava::cuda
