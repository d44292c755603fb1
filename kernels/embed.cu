// Token embedding gather: out row i = table row ids[i] decoded to fp32; ids[i] < 0 leaves row i as it
// was (image-token slots, filled later by copy). Scheme: one block per output row, threads stride d.
// The table may be quantised (--precision q8/q4 keep the token embedding in the matmul formats, since a
// tied lm_head multiplies by it and a 64k x 7168 table is 0.9 GB as F16): rows are dequantised exactly
// as the matvec kernels and the CPU's decodeRow do.
// Ids are validated (< table rows) on the host before the launch; ids read from a decode-step tensor
// are validated before their upload, and the kernel also skips any id >= tableRows (never reads past).
#include "device_common.cuh"

namespace llava::cuda {
namespace {

// Element `col` of table row `row` (table: (rows, d)) as fp32. Q8: int8 values, then one F32 scale per row
// (its address may be unaligned: read bytewise); Q4: nibbles (low nibble = even column) minus 8, then
// one F16 scale per 128 columns (d % 128 == 0, so the scales are 2-byte aligned).
__device__ __forceinline__ float tableAt(const void* table, Format format, std::int64_t rows, std::int64_t d,
                                         std::int64_t row, std::int64_t col) {
    const auto* b = static_cast<const unsigned char*>(table);
    if (format == Format::Q8PerChannel) {
        const unsigned char* p = b + rows * d + row * 4;
        const float scale = __uint_as_float(p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<unsigned>(p[3]) << 24));
        return static_cast<float>(reinterpret_cast<const signed char*>(b)[row * d + col]) * scale;
    }
    if (format == Format::Q4Group128) {
        const auto* scales = reinterpret_cast<const __half*>(b + rows * (d / 2));
        const int nibble = (b[row * (d / 2) + col / 2] >> ((col & 1) * 4)) & 0xF;
        return static_cast<float>(nibble - 8) * __half2float(scales[row * (d / 128) + col / 128]);
    }
    return loadFloat(table, format, row * d + col);
}

__global__ void embedKernel(float* out, const void* table, Format format, const std::int32_t* ids, std::int64_t d,
                            std::int64_t tableRows) {
    const std::int32_t id = ids[blockIdx.x];
    if (id < 0 || id >= tableRows) return;
    float* o = out + blockIdx.x * d;
    for (std::int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = tableAt(table, format, tableRows, d, id, i);
}

}  // namespace

void embed(float* out, const void* table, Format tableFormat, const std::int32_t* ids, std::int64_t nIds,
           std::int64_t d, std::int64_t tableRows, cudaStream_t stream) {
    if (nIds == 0) return;
    embedKernel<<<static_cast<unsigned>(nIds), 256, 0, stream>>>(out, table, tableFormat, ids, d, tableRows);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
