// Token embedding gather: out row i = table row ids[i] decoded to fp32; ids[i] < 0 leaves row i as it
// was (image-token slots, filled later by copy). Scheme: one block per output row, threads stride d.
// Ids are validated (< table rows) on the host before the launch; ids read from a decode-step tensor
// are validated before their upload, and the kernel also skips any id >= tableRows (never reads past).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

__global__ void embedKernel(float* out, const void* table, Format format, const std::int32_t* ids, std::int64_t d,
                            std::int64_t tableRows) {
    const std::int32_t id = ids[blockIdx.x];
    if (id < 0 || id >= tableRows) return;
    float* o = out + blockIdx.x * d;
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = loadFloat(table, format, id * d + i);
}

}  // namespace

void embed(float* out, const void* table, Format tableFormat, const std::int32_t* ids, std::int64_t nIds,
           std::int64_t d, std::int64_t tableRows, cudaStream_t stream) {
    if (nIds == 0) return;
    embedKernel<<<static_cast<unsigned>(nIds), 256, 0, stream>>>(out, table, tableFormat, ids, d, tableRows);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
