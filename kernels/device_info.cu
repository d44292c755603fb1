// Device discovery: turns cudaGetDeviceCount/cudaMemGetInfo into a DeviceInfo with a readable reason.
#include "llava_cuda/device_info.h"

#include <cuda_runtime.h>

namespace llava::cuda {

DeviceInfo queryDevice(int ordinal) {
    DeviceInfo info;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        int runtime = 0;
        cudaRuntimeGetVersion(&runtime);
        const std::string version = std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10);
        if (err == cudaErrorInsufficientDriver)
            info.whyNot = "no NVIDIA driver, or one older than this build's CUDA " + version + " runtime";
        else if (err == cudaErrorNoDevice)
            info.whyNot = "no CUDA device found";
        else
            info.whyNot = std::string("CUDA unavailable: ") + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
        cudaGetLastError();
        return info;
    }
    if (count <= ordinal) {
        info.whyNot = "no CUDA device found";
        return info;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) {
        info.whyNot = "cudaGetDeviceProperties failed";
        return info;
    }
    info.name = prop.name;
    info.computeMajor = prop.major;
    info.computeMinor = prop.minor;
    size_t freeB = 0, totalB = 0;
    if (cudaSetDevice(ordinal) == cudaSuccess && cudaMemGetInfo(&freeB, &totalB) == cudaSuccess) {
        info.freeBytes = freeB;
        info.totalBytes = totalB;
    }
    info.available = true;
    return info;
}

}  // namespace llava::cuda
