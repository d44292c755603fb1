// What CUDA devices this process sees, as plain values (no CUDA headers leak to callers).
#pragma once
#include <cstdint>
#include <string>

namespace llava::cuda {

struct DeviceInfo {
    bool available = false;
    std::string name;          // "NVIDIA H100 80GB HBM3"
    int computeMajor = 0, computeMinor = 0;
    std::uint64_t totalBytes = 0, freeBytes = 0;
    std::string whyNot;        // "no CUDA driver", "no device", ... when !available
};

DeviceInfo queryDevice(int ordinal = 0);

}  // namespace llava::cuda
