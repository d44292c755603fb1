// The Backend ops' argument checks (backendchecks.h), shared by the CPU and CUDA backends.
#include "llava/backendchecks.h"

#include <string>

namespace llava {
namespace {

std::string formatName(StorageFormat f) { return std::string(storageFormatName(f)); }

Status checkHeads(const char* op, const AttentionParams& p) {
    if (p.nHeads <= 0 || p.nKvHeads <= 0 || p.nHeads % p.nKvHeads != 0 || p.headDim <= 0)
        return makeError(ErrorCode::InvalidArgument,
                         std::string(op) + ": heads " + std::to_string(p.nHeads) + "/" + std::to_string(p.nKvHeads));
    return Status::ok();
}

// Keys and values: the same shape, nKvHeads * headDim wide, both F32 or both F16 (a 16-bit KV cache).
Status checkKeysValues(const char* what, const char* op, const Tensor& k, const Tensor& v, const AttentionParams& p) {
    if (k.shape != v.shape || k.cols() != static_cast<std::int64_t>(p.nKvHeads) * p.headDim)
        return shapeMismatch(what, k, v);
    if (k.format != v.format || (k.format != StorageFormat::F32 && k.format != StorageFormat::F16))
        return makeError(ErrorCode::ShapeMismatch, std::string(op) + ": k/v must both be F32 or both F16, got " +
                                                       formatName(k.format) + "/" + formatName(v.format));
    return Status::ok();
}

AttentionShape attentionShape(const AttentionParams& p, std::int64_t nQueries, std::int64_t nKeys, int nPast, bool causal) {
    AttentionShape s;
    s.nQueries = nQueries;
    s.nKeys = nKeys;
    s.nHeads = p.nHeads;
    s.nKvHeads = p.nKvHeads;
    s.headDim = p.headDim;
    s.nPast = nPast;
    s.scale = p.scale;
    s.causal = causal;
    return s;
}

// oneRow: the decode-step form (exactly one row).
Status checkRopeWidth(const char* op, const Tensor& x, int nHeads, int headDim, bool oneRow) {
    if (x.cols() != static_cast<std::int64_t>(nHeads) * headDim || headDim % 2 != 0 || (oneRow && x.rows() != 1))
        return makeError(ErrorCode::ShapeMismatch, std::string(op) + ": x " + shapeToString(x.shape) + " vs " +
                                                       (oneRow ? "1 row of " : "") + std::to_string(nHeads) +
                                                       " heads x " + std::to_string(headDim));
    return Status::ok();
}

// A quantised cache cannot take a row write (F32/F16/BF16 only).
Status checkCacheRow(const char* op, const Tensor& cache, const Tensor& src) {
    if (src.rows() != 1 || src.cols() != cache.cols()) return shapeMismatch(op, cache, src);
    if (!isFloatFormat(cache.format)) return makeError(ErrorCode::Unsupported, std::string(op) + ": quantised cache");
    return Status::ok();
}

}  // namespace

Status shapeMismatch(const char* op, const Tensor& a, const Tensor& b) {
    return makeError(ErrorCode::ShapeMismatch, std::string(op) + ": " + shapeToString(a.shape) + " vs " +
                                                   shapeToString(b.shape));
}

Status checkActivation(const Tensor& t, const char* op) {
    if (t.format != StorageFormat::F32)
        return makeError(ErrorCode::ShapeMismatch, std::string(op) + ": expected an F32 activation, got " + formatName(t.format));
    return Status::ok();
}

Status checkFloatTensor(const Tensor& t, const char* op) {
    if (!isFloatFormat(t.format))
        return makeError(ErrorCode::Unsupported, std::string(op) + ": quantised tensor where a float vector is needed");
    return Status::ok();
}

Status checkStep(const Tensor& step, const char* op) {
    if (step.format != StorageFormat::I32 || step.elementCount() != 2)
        return makeError(ErrorCode::ShapeMismatch, std::string(op) + ": step must be I32 (2), got " +
                                                       formatName(step.format) + " " + shapeToString(step.shape));
    return Status::ok();
}

Result<std::size_t> checkAllocate(const Shape& shape, StorageFormat format, std::string_view name,
                                  std::string_view backendName) {
    for (auto d : shape)
        if (d < 0) return makeError(ErrorCode::InvalidArgument, "allocate " + std::string(name) + ": negative dim");
    const std::optional<std::size_t> bytes = checkedStorageBytes(format, shape);
    if (!bytes)
        return makeError(ErrorCode::OutOfMemory, std::string(backendName) + ": cannot allocate " + std::string(name) + " " +
                                                     shapeToString(shape) + ": size overflows 64 bits");
    return *bytes;
}

Status checkMatmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias) {
    if (w.shape.size() != 2 || x.cols() != w.shape[1]) return shapeMismatch("matmul x·wᵀ", x, w);
    if (out.rows() != x.rows() || out.cols() != w.shape[0]) return shapeMismatch("matmul out", out, w);
    if (!bias.isNull() && bias.elementCount() != w.shape[0]) return shapeMismatch("matmul bias", bias, w);
    return Status::ok();
}

Status checkRmsNorm(const Tensor& out, const Tensor& x, const Tensor& w) {
    if (out.shape != x.shape || w.elementCount() != x.cols()) return shapeMismatch("rmsNorm", x, w);
    return Status::ok();
}

Status checkLayerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b) {
    if (out.shape != x.shape || w.elementCount() != x.cols() || b.elementCount() != x.cols())
        return shapeMismatch("layerNorm", x, w);
    return Status::ok();
}

Status checkRope(const Tensor& x, int nHeads, int headDim) { return checkRopeWidth("rope", x, nHeads, headDim, false); }

Result<AttentionShape> checkAttention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                                      const AttentionParams& p) {
    LLAVA_TRY(checkHeads("attention", p));
    if (q.cols() != static_cast<std::int64_t>(p.nHeads) * p.headDim || out.shape != q.shape)
        return shapeMismatch("attention q", q, out);
    LLAVA_TRY(checkKeysValues("attention k/v", "attention", k, v, p));
    const bool causal = p.mask == AttentionMask::Causal;
    if (causal && p.nPast + q.rows() > k.rows()) return shapeMismatch("attention causal keys", q, k);
    return attentionShape(p, q.rows(), causal ? p.nPast + q.rows() : k.rows(), p.nPast, causal);
}

Status checkSiluMul(const Tensor& out, const Tensor& gate, const Tensor& up) {
    if (out.shape != gate.shape || gate.shape != up.shape) return shapeMismatch("siluMul", gate, up);
    return Status::ok();
}

Result<bool> checkAdd(const Tensor& out, const Tensor& a, const Tensor& b) {
    if (out.shape != a.shape) return shapeMismatch("add out", out, a);
    const bool broadcast = b.elementCount() == a.cols() && a.rows() != 1;
    if (!broadcast && b.elementCount() != a.elementCount()) return shapeMismatch("add", a, b);
    return broadcast;
}

Status checkEmbed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids) {
    if (out.rows() != static_cast<std::int64_t>(ids.size()) || out.cols() != table.cols())
        return shapeMismatch("embed", out, table);
    for (const std::int32_t id : ids)
        if (id >= table.rows())
            return makeError(ErrorCode::OutOfRange, "embed: token id " + std::to_string(id) + " >= vocabulary rows " +
                                                        std::to_string(table.rows()));
    return Status::ok();
}

Result<PatchEmbedShape> checkPatchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight) {
    if (pixels.shape.size() != 4 || weight.shape.size() != 4 || pixels.shape[1] != 3 || weight.shape[1] != 3 ||
        weight.shape[2] != weight.shape[3] || pixels.shape[2] != pixels.shape[3] || weight.shape[2] <= 0 ||
        pixels.shape[2] % weight.shape[2] != 0)
        return shapeMismatch("patchEmbed", pixels, weight);
    PatchEmbedShape s;
    s.crops = pixels.shape[0];
    s.side = pixels.shape[2];
    s.patch = weight.shape[2];
    s.width = weight.shape[0];
    s.grid = s.side / s.patch;
    s.patches = s.crops * s.grid * s.grid;
    s.k = 3 * s.patch * s.patch;
    if (out.rows() != s.patches || out.cols() != s.width) return shapeMismatch("patchEmbed out", out, weight);
    return s;
}

Status checkCopy(const Tensor& dst, const Tensor& src) {
    if (dst.elementCount() != src.elementCount()) return shapeMismatch("copy", dst, src);
    if (!isFloatFormat(dst.format) || !isFloatFormat(src.format))
        return makeError(ErrorCode::Unsupported, "copy: quantised tensors cannot be copied");
    return Status::ok();
}

Status checkArgmax(const Tensor& x, std::int64_t nValid) {
    LLAVA_TRY(checkActivation(x, "argmax"));
    if (nValid <= 0 || nValid > x.elementCount())
        return makeError(ErrorCode::OutOfRange, "argmax: nValid " + std::to_string(nValid) + " of " + shapeToString(x.shape));
    return Status::ok();
}

Status checkEmbedAt(const Tensor& out, const Tensor& table) {
    if (out.rows() != 1 || out.cols() != table.cols()) return shapeMismatch("embedAt", out, table);
    return Status::ok();
}

Status checkRopeAt(const Tensor& x, int nHeads, int headDim) {
    return checkRopeWidth("ropeAt", x, nHeads, headDim, true);
}

Status checkWriteRowAt(const Tensor& cache, const Tensor& src) { return checkCacheRow("writeRowAt", cache, src); }

Status checkRopeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim) {
    if (src.cols() != static_cast<std::int64_t>(nHeads) * headDim || headDim % 2 != 0)
        return shapeMismatch("ropeWriteRowAt", cache, src);
    return checkCacheRow("ropeWriteRowAt", cache, src);
}

Result<AttentionShape> checkAttentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache,
                                        const Tensor& vCache, const AttentionParams& p) {
    LLAVA_TRY(checkHeads("attentionAt", p));
    if (q.rows() != 1 || q.cols() != static_cast<std::int64_t>(p.nHeads) * p.headDim || out.shape != q.shape)
        return shapeMismatch("attentionAt q (one row)", q, out);
    LLAVA_TRY(checkKeysValues("attentionAt k/v caches", "attentionAt", kCache, vCache, p));
    return attentionShape(p, 1, kCache.rows(), 0, true);
}

}  // namespace llava
