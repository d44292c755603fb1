// Scaled dot-product attention over fp32 q and fp32 or fp16 k/v (the KV cache may be 16-bit), GQA (q
// head h reads kv head h / (nHeads/nKvHeads)), causal (row i sees keys [0, nPast + i]) or unmasked
// (CLIP, 577 tokens per crop). All arithmetic in fp32. Two launchers:
//
// attentionPrefill — flash-style, any number of queries. Block = 4 warps = 16 query rows of one head
//   (4 rows per warp). Per step the block stages a tile of 32 keys and values in shared memory (K rows
//   padded by one float so lane j reading key j is conflict-free); for each of its rows a warp computes
//   the 32 scores (lane = key), updates the running max / sum (online softmax, fp32) and accumulates
//   p·V with lane owning output dims lane, lane+32, ... Tiles past the block's last visible key are
//   skipped. SIMT fp32: exact enough for the 1e-7 parity target; tensor cores are a later step.
//
// attentionDecode — one query row (decode), split-K. Grid = (head, split); a split owns up to
//   kDecodeChunk keys: warps compute scores (lane-strided dot, coalesced 512-byte key rows), the block
//   takes a local softmax and thread d accumulates Σ p·V[:, d]; each split writes (o, max, sum) to
//   `partial`, and attentionCombineKernel merges the splits with the usual rescaling. With lastKeyFrom
//   (a decode step replayed as a graph) the grid covers the whole cache and the key count is read on
//   the device; splits past it write an empty partial (max -inf, sum 0) that the combine weighs by 0.
#include "device_common.cuh"

namespace llava::cuda {
namespace {

constexpr int kRowsPerWarp = 4, kPrefillWarps = 4, kBlockQ = kRowsPerWarp * kPrefillWarps, kBlockK = 32;
constexpr int kDimsPerLane = kAttentionMaxHeadDim / kWarp;
constexpr int kDecodeThreads = 128, kDecodeChunk = 256;

__device__ __forceinline__ float toFloat(float x) { return x; }
__device__ __forceinline__ float toFloat(__half x) { return __half2float(x); }

template <typename KV>
__global__ void attentionPrefillKernel(float* out, const float* q, const KV* k, const KV* v, AttentionShape d) {
    __shared__ float qs[kBlockQ][kAttentionMaxHeadDim];
    __shared__ float ks[kBlockK][kAttentionMaxHeadDim + 1];
    __shared__ float vs[kBlockK][kAttentionMaxHeadDim];
    const int head = blockIdx.y, kvHead = head / (d.nHeads / d.nKvHeads), hd = d.headDim;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const std::int64_t qWidth = static_cast<std::int64_t>(d.nHeads) * hd, kvWidth = static_cast<std::int64_t>(d.nKvHeads) * hd;
    const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kBlockQ;
    for (int i = threadIdx.x; i < kBlockQ * hd; i += blockDim.x) {
        const std::int64_t r = row0 + i / hd;
        qs[i / hd][i % hd] = r < d.nQueries ? q[r * qWidth + head * hd + i % hd] : 0.0f;
    }
    const std::int64_t lastRow = min(row0 + kBlockQ, d.nQueries) - 1;
    const std::int64_t keyEnd = d.causal ? min(d.nKeys, d.nPast + lastRow + 1) : d.nKeys;
    float m[kRowsPerWarp], l[kRowsPerWarp], o[kRowsPerWarp][kDimsPerLane];
#pragma unroll
    for (int j = 0; j < kRowsPerWarp; ++j) {
        m[j] = -INFINITY;
        l[j] = 0.0f;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) o[j][i] = 0.0f;
    }
    for (std::int64_t t0 = 0; t0 < keyEnd; t0 += kBlockK) {
        __syncthreads();  // previous tile fully consumed (and qs written on the first pass)
        for (int i = threadIdx.x; i < kBlockK * hd; i += blockDim.x) {
            const std::int64_t key = t0 + i / hd;
            const std::int64_t at = key * kvWidth + kvHead * hd + i % hd;
            ks[i / hd][i % hd] = key < keyEnd ? toFloat(k[at]) : 0.0f;
            vs[i / hd][i % hd] = key < keyEnd ? toFloat(v[at]) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int j = 0; j < kRowsPerWarp; ++j) {
            const int local = warp * kRowsPerWarp + j;
            const std::int64_t row = row0 + local, key = t0 + lane;
            if (row >= d.nQueries) break;  // uniform across the warp
            float s = 0.0f;
            for (int e = 0; e < hd; ++e) s += qs[local][e] * ks[lane][e];
            s *= d.scale;
            const std::int64_t visible = d.causal ? min(d.nKeys, d.nPast + row + 1) : d.nKeys;
            if (key >= visible) s = -INFINITY;
            const float mNew = fmaxf(m[j], warpMax(s));
            if (mNew == -INFINITY) continue;  // nothing visible yet in this row
            const float p = expf(s - mNew), corr = expf(m[j] - mNew);
            l[j] = l[j] * corr + warpSum(p);
            m[j] = mNew;
#pragma unroll
            for (int i = 0; i < kDimsPerLane; ++i) o[j][i] *= corr;
            for (int key2 = 0; key2 < kBlockK; ++key2) {
                const float pk = __shfl_sync(0xffffffffu, p, key2);
#pragma unroll
                for (int i = 0; i < kDimsPerLane; ++i)
                    if (lane + i * kWarp < hd) o[j][i] += pk * vs[key2][lane + i * kWarp];
            }
        }
    }
#pragma unroll
    for (int j = 0; j < kRowsPerWarp; ++j) {
        const std::int64_t row = row0 + warp * kRowsPerWarp + j;
        if (row >= d.nQueries) break;
        const float inv = l[j] > 0.0f ? 1.0f / l[j] : 0.0f;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i)
            if (lane + i * kWarp < hd) out[row * qWidth + head * hd + lane + i * kWarp] = o[j][i] * inv;
    }
}

template <typename KV>
__global__ void attentionDecodeKernel(float* partial, const float* q, const KV* k, const KV* v, AttentionShape d,
                                      const std::int32_t* lastKeyFrom) {
    if (lastKeyFrom) d.nKeys = min(d.nKeys, static_cast<std::int64_t>(*lastKeyFrom) + 1);
    __shared__ float qs[kAttentionMaxHeadDim];
    __shared__ float scores[kDecodeChunk];
    __shared__ float reduce[kWarp];
    const int head = blockIdx.x, split = blockIdx.y, nSplits = gridDim.y, hd = d.headDim;
    const int kvHead = head / (d.nHeads / d.nKvHeads), lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const std::int64_t kvWidth = static_cast<std::int64_t>(d.nKvHeads) * hd;
    const std::int64_t key0 = static_cast<std::int64_t>(split) * kDecodeChunk;
    const int count = static_cast<int>(min(static_cast<std::int64_t>(kDecodeChunk), d.nKeys - key0));
    for (int e = threadIdx.x; e < hd; e += blockDim.x) qs[e] = q[head * hd + e];
    __syncthreads();
    for (int j = warp; j < count; j += kDecodeThreads / kWarp) {
        const KV* kr = k + (key0 + j) * kvWidth + kvHead * hd;
        float s = 0.0f;
        for (int e = lane; e < hd; e += kWarp) s += qs[e] * toFloat(kr[e]);
        s = warpSum(s);
        if (lane == 0) scores[j] = s * d.scale;
    }
    __syncthreads();
    float localMax = -INFINITY;
    for (int j = threadIdx.x; j < count; j += blockDim.x) localMax = fmaxf(localMax, scores[j]);
    const float mx = blockMax(localMax, reduce);
    float localSum = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        scores[j] = expf(scores[j] - mx);
        localSum += scores[j];
    }
    const float sum = blockSum(localSum, reduce);  // also orders the scores writes before the reads below
    float* slot = partial + (static_cast<std::int64_t>(head) * nSplits + split) * (hd + 2);
    for (int e = threadIdx.x; e < hd; e += blockDim.x) {
        const KV* vc = v + key0 * kvWidth + kvHead * hd + e;
        float acc = 0.0f;
        for (int j = 0; j < count; ++j) acc += scores[j] * toFloat(vc[j * kvWidth]);
        slot[e] = acc;
    }
    if (threadIdx.x == 0) {
        slot[hd] = mx;
        slot[hd + 1] = sum;
    }
}

__global__ void attentionCombineKernel(float* out, const float* partial, int nSplits, int hd) {
    const int head = blockIdx.x;
    const float* base = partial + static_cast<std::int64_t>(head) * nSplits * (hd + 2);
    float mx = -INFINITY;
    for (int s = 0; s < nSplits; ++s) mx = fmaxf(mx, base[s * (hd + 2) + hd]);
    float total = 0.0f;
    for (int s = 0; s < nSplits; ++s) total += base[s * (hd + 2) + hd + 1] * expf(base[s * (hd + 2) + hd] - mx);
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;  // 0 only when no split saw a key
    for (int e = threadIdx.x; e < hd; e += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < nSplits; ++s) {
            const float m = base[s * (hd + 2) + hd];
            if (m != -INFINITY) acc += base[s * (hd + 2) + e] * expf(m - mx);  // empty splits add nothing
        }
        out[head * hd + e] = acc * inv;
    }
}

int decodeSplits(const AttentionShape& d) { return static_cast<int>((d.nKeys + kDecodeChunk - 1) / kDecodeChunk); }

}  // namespace

void attentionPrefill(float* out, const float* q, const void* k, const void* v, Format kvFormat,
                      const AttentionShape& dims, cudaStream_t stream) {
    if (dims.nQueries == 0) return;
    const dim3 grid(static_cast<unsigned>((dims.nQueries + kBlockQ - 1) / kBlockQ), static_cast<unsigned>(dims.nHeads));
    if (kvFormat == Format::F16)
        attentionPrefillKernel<<<grid, kPrefillWarps * kWarp, 0, stream>>>(out, q, static_cast<const __half*>(k),
                                                                          static_cast<const __half*>(v), dims);
    else
        attentionPrefillKernel<<<grid, kPrefillWarps * kWarp, 0, stream>>>(out, q, static_cast<const float*>(k),
                                                                          static_cast<const float*>(v), dims);
    LLAVA_LAUNCH_CHECK();
}

std::int64_t attentionDecodeScratchFloats(const AttentionShape& dims) {
    return static_cast<std::int64_t>(dims.nHeads) * decodeSplits(dims) * (dims.headDim + 2);
}

void attentionDecode(float* out, const float* q, const void* k, const void* v, Format kvFormat,
                     const AttentionShape& dims, float* partial, cudaStream_t stream, const std::int32_t* lastKeyFrom) {
    const int splits = decodeSplits(dims);
    if (splits == 0) return;
    const dim3 grid(static_cast<unsigned>(dims.nHeads), static_cast<unsigned>(splits));
    if (kvFormat == Format::F16)
        attentionDecodeKernel<<<grid, kDecodeThreads, 0, stream>>>(partial, q, static_cast<const __half*>(k),
                                                                   static_cast<const __half*>(v), dims, lastKeyFrom);
    else
        attentionDecodeKernel<<<grid, kDecodeThreads, 0, stream>>>(partial, q, static_cast<const float*>(k),
                                                                   static_cast<const float*>(v), dims, lastKeyFrom);
    LLAVA_LAUNCH_CHECK();
    attentionCombineKernel<<<static_cast<unsigned>(dims.nHeads), kDecodeThreads, 0, stream>>>(out, partial, splits,
                                                                                             dims.headDim);
    LLAVA_LAUNCH_CHECK();
}

}  // namespace llava::cuda
