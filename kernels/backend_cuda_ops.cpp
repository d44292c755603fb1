// BackendCuda ops: the middle layer of kernel -> launcher -> op. Each method runs the op's shared check
// (backendchecks.h, the one the CPU reference runs too), resolves device pointers with a range check, then
// picks a launcher. Only what is CUDA's own (kernel size limits) is checked here. All work goes on the
// backend's stream.
#include <cstring>

#include "attention_gemm.h"
#include "backend_cuda.h"

namespace llava::cuda {

float* BackendCuda::activation(const Tensor& t, const char* op) const {
    require(checkActivation(t, op));
    return static_cast<float*>(devicePointer(t, tensorBytes(t), op));
}

const void* BackendCuda::floatVector(const Tensor& t, const char* op) const {
    require(checkFloatTensor(t, op));
    return devicePointer(t, tensorBytes(t), op);
}

// out (m, N) = x (m, K) · wᵀ + bias: matrix-vector kernels for decode-sized m, cuBLAS otherwise.
void BackendCuda::linear(float* out, const float* x, const Tensor& w, const void* bias, StorageFormat biasFormat,
                         std::int64_t m, bool accumulate, const char* op) {
    const std::int64_t n = w.shape[0], k = w.shape[1];
    const void* wp = devicePointer(w, storageBytes(w.format, n, k), op);
    if (m <= kMatvecMaxRows) {
        matvec(out, x, wp, w.format, bias, biasFormat, m, n, k, accumulate, m_stream.get());
        return;
    }
    gemm(gemmContext(), out, x, wp, w.format, m, n, k, accumulate);
    if (bias) cuda::add(out, out, bias, biasFormat, m, n, true, m_stream.get());
}

Status BackendCuda::matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, MatmulMode mode) {
    return guarded("matmul", [&] {
        require(checkMatmul(out, x, w, bias));
        float* o = activation(out, "matmul out");
        const float* in = activation(x, "matmul x");
        const void* b = bias.isNull() ? nullptr : floatVector(bias, "matmul bias");
        linear(o, in, w, b, bias.format, x.rows(), mode == MatmulMode::Accumulate, "matmul w");
    });
}

Status BackendCuda::rmsNorm(const Tensor& out, const Tensor& x, const Tensor& w, float eps) {
    return guarded("rmsNorm", [&] {
        require(checkRmsNorm(out, x, w));
        float* o = activation(out, "rmsNorm out");
        const float* in = activation(x, "rmsNorm x");
        cuda::rmsNorm(o, in, floatVector(w, "rmsNorm w"), w.format, x.rows(), x.cols(), eps, m_stream.get());
    });
}

Status BackendCuda::layerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
    return guarded("layerNorm", [&] {
        require(checkLayerNorm(out, x, w, b));
        float* o = activation(out, "layerNorm out");
        const float* in = activation(x, "layerNorm x");
        cuda::layerNorm(o, in, floatVector(w, "layerNorm w"), w.format, floatVector(b, "layerNorm b"), b.format,
                        x.rows(), x.cols(), eps, m_stream.get());
    });
}

Status BackendCuda::rope(const Tensor& x, int nHeads, int headDim, int positionStart, double theta) {
    return guarded("rope", [&] {
        require(checkRope(x, nHeads, headDim));
        cuda::rope(activation(x, "rope x"), x.rows(), nHeads, headDim, positionStart, static_cast<float>(theta),
                   m_stream.get());
    });
}

Status BackendCuda::attention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                              const AttentionParams& p) {
    return guarded("attention", [&] {
        const AttentionShape d = require(checkAttention(out, q, k, v, p));
        float* o = activation(out, "attention out");
        const float* qp = activation(q, "attention q");
        const void* kp = devicePointer(k, tensorBytes(k), "attention k");
        const void* vp = devicePointer(v, tensorBytes(v), "attention v");
        const bool useGemm = d.nQueries >= kAttentionGemmMinQueries;
        if (!useGemm && p.headDim > kAttentionMaxHeadDim)  // the GEMM path takes any headDim
            throw BackendError(ErrorCode::Unsupported, "attention: headDim " + std::to_string(p.headDim) + " > " +
                                                           std::to_string(kAttentionMaxHeadDim) + " with fewer than " +
                                                           std::to_string(kAttentionGemmMinQueries) + " query rows");
        if (useGemm) {
            attentionByGemm(gemmContext(), {&m_attentionOperands, &m_attentionScores}, o, qp, kp, vp, k.format, d,
                            p.reducedPrecision, m_stream.get());
        } else if (d.nQueries == 1 && d.nKeys > 0) {
            const auto floats = static_cast<std::size_t>(attentionDecodeScratchFloats(d));
            auto* partial = static_cast<float*>(m_attention.ensure(floats * 4, m_stream.get(), "attention splits"));
            attentionDecode(o, qp, kp, vp, k.format, d, partial, m_stream.get());
        } else {
            attentionPrefill(o, qp, kp, vp, k.format, d, m_stream.get());
        }
    });
}

Status BackendCuda::quickGelu(const Tensor& x) {
    return guarded("quickGelu", [&] {
        cuda::activation(activation(x, "quickGelu"), x.elementCount(), Activation::QuickGelu, m_stream.get());
    });
}

Status BackendCuda::gelu(const Tensor& x) {
    return guarded("gelu", [&] { cuda::activation(activation(x, "gelu"), x.elementCount(), Activation::Gelu, m_stream.get()); });
}

Status BackendCuda::siluMul(const Tensor& out, const Tensor& gate, const Tensor& up) {
    return guarded("siluMul", [&] {
        require(checkSiluMul(out, gate, up));
        cuda::siluMul(activation(out, "siluMul out"), activation(gate, "siluMul gate"), activation(up, "siluMul up"),
                      out.elementCount(), m_stream.get());
    });
}

Status BackendCuda::add(const Tensor& out, const Tensor& a, const Tensor& b) {
    return guarded("add", [&] {
        const bool broadcast = require(checkAdd(out, a, b));
        cuda::add(activation(out, "add out"), activation(a, "add a"), floatVector(b, "add b"), b.format, a.rows(),
                  a.cols(), broadcast, m_stream.get());
    });
}

Status BackendCuda::embed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids) {
    return guarded("embed", [&] {
        require(checkEmbed(out, table, ids));
        float* o = activation(out, "embed out");
        const void* t = devicePointer(table, tensorBytes(table), "embed");
        if (ids.empty()) return;
        const std::size_t bytes = ids.size_bytes();
        // The previous embed's copy out of the pinned buffer must be done before it is overwritten.
        LLAVA_CUDA_CHECK(cudaEventSynchronize(m_hostIdsFree.get()));
        if (m_hostIds.bytes() < bytes) m_hostIds = PinnedBuffer::allocate(std::max<std::size_t>(bytes, 64 * 1024));
        std::memcpy(m_hostIds.data(), ids.data(), bytes);
        auto* deviceIds = static_cast<std::int32_t*>(m_ids.ensure(bytes, m_stream.get(), "embed ids"));
        LLAVA_CUDA_CHECK(cudaMemcpyAsync(deviceIds, m_hostIds.data(), bytes, cudaMemcpyHostToDevice, m_stream.get()));
        LLAVA_CUDA_CHECK(cudaEventRecord(m_hostIdsFree.get(), m_stream.get()));
        cuda::embed(o, t, table.format, deviceIds, static_cast<std::int64_t>(ids.size()), table.cols(), table.rows(),
                    m_stream.get());
    });
}

Status BackendCuda::patchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight) {
    return guarded("patchEmbed", [&] {
        const PatchEmbedShape shape = require(checkPatchEmbed(out, pixels, weight));
        const std::int64_t crops = shape.crops, side = shape.side, p = shape.patch, d = shape.width;
        const std::int64_t patches = shape.patches, k = shape.k;
        float* o = activation(out, "patchEmbed out");
        const float* px = activation(pixels, "patchEmbed pixels");
        auto* cols = static_cast<float*>(m_im2col.ensure(static_cast<std::size_t>(patches * k) * 4, m_stream.get(), "im2col"));
        im2col(cols, px, crops, side, p, m_stream.get());
        Tensor w2 = weight;  // the conv weight seen as the (D, 3*p*p) matrix it is in memory
        w2.shape = {d, k};
        linear(o, cols, w2, nullptr, StorageFormat::F32, patches, false, "patchEmbed w");
    });
}

Status BackendCuda::copy(const Tensor& dst, const Tensor& src) {
    return guarded("copy", [&] {
        require(checkCopy(dst, src));
        const std::int64_t n = src.elementCount();
        const std::size_t dBytes = storageBytes(dst.format, 1, n), sBytes = storageBytes(src.format, 1, n);
        void* d = devicePointer(dst, dBytes, "copy dst");
        const void* s = devicePointer(src, sBytes, "copy src");
        const auto* dc = static_cast<const char*>(d);
        const auto* sc = static_cast<const char*>(s);
        if (dc == sc && dst.format == src.format) return;  // the same bytes
        if (dc < sc + sBytes && sc < dc + dBytes) {
            // Overlapping views (the CPU reference memmoves): cudaMemcpy* and convert() need disjoint ranges.
            void* staged = m_copyStaging.ensure(sBytes, m_stream.get(), "overlapping copy");
            LLAVA_CUDA_CHECK(cudaMemcpyAsync(staged, s, sBytes, cudaMemcpyDeviceToDevice, m_stream.get()));
            s = staged;
        }
        if (dst.format == src.format)
            LLAVA_CUDA_CHECK(cudaMemcpyAsync(d, s, storageBytes(src.format, 1, n), cudaMemcpyDeviceToDevice, m_stream.get()));
        else
            convert(d, dst.format, s, src.format, n, m_stream.get());
    });
}

Result<std::int32_t> BackendCuda::argmax(const Tensor& x, std::int64_t nValid) {
    std::int32_t index = 0;
    const Status status = guarded("argmax", [&] {
        require(checkArgmax(x, nValid));
        const float* p = activation(x, "argmax");
        auto* result = static_cast<std::int32_t*>(m_result.ensure(sizeof(std::int32_t), m_stream.get(), "argmax"));
        cuda::argmax(result, p, nValid, m_stream.get());
        LLAVA_CUDA_CHECK(cudaMemcpyAsync(m_hostResult.data(), result, sizeof index, cudaMemcpyDeviceToHost, m_stream.get()));
        LLAVA_CUDA_CHECK(cudaStreamSynchronize(m_stream.get()));
        std::memcpy(&index, m_hostResult.data(), sizeof index);
    });
    if (!status.isOk()) return status;
    return index;
}

}  // namespace llava::cuda
