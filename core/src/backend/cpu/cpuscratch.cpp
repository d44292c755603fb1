// Scratch: per-thread fp32 buffers of the CPU kernels, grown on demand and never shrunk, so a warm
// decode loop allocates nothing.
#include "backend/cpu/cpukernels.h"

namespace llava::cpu {

float* Scratch::get(int thread, std::size_t floats) {
    if (perThread.size() <= static_cast<std::size_t>(thread)) perThread.resize(static_cast<std::size_t>(thread) + 1);
    auto& buffer = perThread[static_cast<std::size_t>(thread)];
    if (buffer.size() < floats) buffer.resize(floats);
    return buffer.data();
}

}  // namespace llava::cpu
