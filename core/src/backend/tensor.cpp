// Backend-independent parts of the seam: storage format sizes, Tensor shape helpers, views, names.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "llava/backend.h"
#include "llava/tensor.h"

namespace llava {

std::string_view storageFormatName(StorageFormat format) {
    switch (format) {
    case StorageFormat::F32: return "F32";
    case StorageFormat::F16: return "F16";
    case StorageFormat::BF16: return "BF16";
    case StorageFormat::Q8PerChannel: return "Q8";
    case StorageFormat::Q4Group128: return "Q4";
    case StorageFormat::I32: return "I32";
    }
    return "?";
}

std::size_t storageBytes(StorageFormat format, std::int64_t rows, std::int64_t cols) {
    const auto r = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
    switch (format) {
    case StorageFormat::F32:
    case StorageFormat::I32: return r * c * 4;
    case StorageFormat::F16:
    case StorageFormat::BF16: return r * c * 2;
    case StorageFormat::Q8PerChannel: return r * c + r * 4;
    case StorageFormat::Q4Group128: return r * (c / 2) + r * (c / 128) * 2;  // nibbles + F16 scales
    }
    return 0;
}

std::optional<std::size_t> checkedStorageBytes(StorageFormat format, const Shape& shape) {
    // elements <= max/4 and rows <= max/8 keep every format's byte count (at most 4 bytes per element
    // plus a 4-byte scale per row) within int64.
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    std::int64_t rows = 1, cols = 0;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const std::int64_t d = shape[i];
        if (d < 0) return std::nullopt;
        if (i + 1 == shape.size()) {
            cols = d;
        } else {
            if (d != 0 && rows > kMax / d) return std::nullopt;
            rows *= d;
        }
    }
    if (rows > kMax / 8 || (cols != 0 && rows > (kMax / 4) / cols)) return std::nullopt;
    return storageBytes(format, rows, cols);
}

std::int64_t Tensor::elementCount() const {
    if (shape.empty()) return 0;
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

std::int64_t Tensor::rows() const {
    std::int64_t n = 1;
    for (std::size_t i = 0; i + 1 < shape.size(); ++i) n *= shape[i];
    return n;
}

std::int64_t Tensor::cols() const { return shape.empty() ? 0 : shape.back(); }

Result<Tensor> rowView(const Tensor& tensor, std::int64_t rowBegin, std::int64_t rowCount) {
    if (tensor.format == StorageFormat::Q8PerChannel || tensor.format == StorageFormat::Q4Group128)
        return makeError(ErrorCode::Unsupported, "rowView: quantised tensors have no row views");
    const std::int64_t rows = tensor.rows();
    if (rowBegin < 0 || rowCount < 0 || rowBegin > rows || rowCount > rows - rowBegin)  // no overflow
        return makeError(ErrorCode::OutOfRange, "rowView: " + std::to_string(rowCount) + " rows from row " +
                                                    std::to_string(rowBegin) + " of " + shapeToString(tensor.shape));
    Tensor view = tensor;
    view.offset += storageBytes(tensor.format, rowBegin, tensor.cols());
    view.shape = {rowCount, tensor.cols()};
    return view;
}

Result<Tensor> reshaped(const Tensor& tensor, const Shape& shape) {
    Tensor view = tensor;
    view.shape = shape;
    // Every dim >= 0 and the product within int64 (elementCount() would overflow), else {-4, -4} would
    // pass for 16 elements.
    bool valid = true;
    std::int64_t n = 1;
    for (auto d : shape) {
        if (d < 0 || (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d)) valid = false;
        if (!valid) break;
        n *= d;
    }
    if (!valid || view.elementCount() != tensor.elementCount())
        return makeError(ErrorCode::ShapeMismatch,
                         "reshape " + shapeToString(tensor.shape) + " -> " + shapeToString(shape));
    return view;
}

namespace {

// An owned view failed: the caller's own sizes disagree with each other (backend.h).
[[noreturn]] void ownedViewBroke(const Status& status) {
    std::fprintf(stderr, "llava: internal error: %s (a view of a buffer sized by its owner)\n", status.message().c_str());
    std::abort();
}

}  // namespace

Tensor ownedRowView(const Tensor& tensor, std::int64_t rowBegin, std::int64_t rowCount) {
    Result<Tensor> view = rowView(tensor, rowBegin, rowCount);
    if (!view.isOk()) ownedViewBroke(view.status());
    return std::move(view).value();
}

Tensor ownedReshaped(const Tensor& tensor, const Shape& shape) {
    Result<Tensor> view = reshaped(tensor, shape);
    if (!view.isOk()) ownedViewBroke(view.status());
    return std::move(view).value();
}

std::string_view weightPrecisionName(WeightPrecision precision) {
    switch (precision) {
    case WeightPrecision::AsStored: return "as-stored";
    case WeightPrecision::F16: return "f16";
    case WeightPrecision::F32: return "f32";
    case WeightPrecision::Q8: return "q8";
    case WeightPrecision::Q4: return "q4";
    }
    return "?";
}

bool parseWeightPrecision(std::string_view text, WeightPrecision* out) {
    for (auto p : {WeightPrecision::AsStored, WeightPrecision::F16, WeightPrecision::F32, WeightPrecision::Q8,
                   WeightPrecision::Q4}) {
        if (text == weightPrecisionName(p)) {
            *out = p;
            return true;
        }
    }
    return false;
}

std::string_view kvCacheFormatName(KvCacheFormat format) {
    switch (format) {
    case KvCacheFormat::Auto: return "auto";
    case KvCacheFormat::F32: return "f32";
    case KvCacheFormat::F16: return "f16";
    }
    return "?";
}

bool parseKvCacheFormat(std::string_view text, KvCacheFormat* out) {
    for (auto f : {KvCacheFormat::Auto, KvCacheFormat::F32, KvCacheFormat::F16}) {
        if (text == kvCacheFormatName(f)) {
            *out = f;
            return true;
        }
    }
    return false;
}

StorageFormat resolveKvCacheFormat(KvCacheFormat requested, bool weightsBelowF32, bool backendReadsF16Cache) {
    switch (requested) {
    case KvCacheFormat::F32: return StorageFormat::F32;
    case KvCacheFormat::F16: return StorageFormat::F16;
    case KvCacheFormat::Auto: break;
    }
    return weightsBelowF32 && backendReadsF16Cache ? StorageFormat::F16 : StorageFormat::F32;
}

bool isQuantisableWeight(std::string_view canonicalName) {
    return canonicalName != "vision.embeddings.position_embedding.weight";
}

std::uint64_t plannedWeightBytes(const Checkpoint& checkpoint, WeightPrecision precision) {
    return plannedWeightBytes(checkpoint.tensors(), precision);
}

std::uint64_t plannedWeightBytes(const std::vector<const TensorView*>& tensors, WeightPrecision precision) {
    std::uint64_t bytes = 0;
    for (const TensorView* view : tensors) {
        auto plan = planWeightUpload(*view, precision, "plan");
        if (!plan.isOk()) {  // the upload will report it; count the bytes as stored
            bytes += view->byteSize;
            continue;
        }
        bytes += checkedStorageBytes(plan->target, plan->shape).value_or(view->byteSize);
    }
    return bytes;
}

std::string_view backendKindName(BackendKind kind) {
    switch (kind) {
    case BackendKind::Auto: return "auto";
    case BackendKind::Cpu: return "cpu";
    case BackendKind::Cuda: return "cuda";
    }
    return "?";
}

Result<WeightUploadPlan> planWeightUpload(const TensorView& view, WeightPrecision precision,
                                          std::string_view backendName) {
    const std::string who = std::string(backendName) + ": weight " + view.name;
    WeightUploadPlan plan;
    switch (view.dtype) {
    case DType::F32: plan.stored = StorageFormat::F32; break;
    case DType::F16: plan.stored = StorageFormat::F16; break;
    case DType::BF16: plan.stored = StorageFormat::BF16; break;
    default:
        return makeError(ErrorCode::Unsupported,
                         who + " has dtype " + std::string(dtypeName(view.dtype)) + " (need F32/F16/BF16)");
    }
    Tensor probe;
    probe.shape = view.shape.empty() ? Shape{1} : view.shape;
    if (static_cast<std::size_t>(probe.elementCount()) * dtypeSize(view.dtype) != view.byteSize)
        return makeError(ErrorCode::ShapeMismatch, who + " byte size " + std::to_string(view.byteSize) +
                                                       " does not match its shape " + shapeToString(view.shape));
    const bool matrix = probe.shape.size() == 2 && isQuantisableWeight(view.name);
    plan.target = plan.stored;
    if (precision == WeightPrecision::F16) plan.target = StorageFormat::F16;
    if (precision == WeightPrecision::F32) plan.target = StorageFormat::F32;
    if (matrix && precision == WeightPrecision::Q8) plan.target = StorageFormat::Q8PerChannel;
    if (matrix && precision == WeightPrecision::Q4)
        plan.target = probe.cols() % 128 == 0 ? StorageFormat::Q4Group128 : StorageFormat::Q8PerChannel;
    plan.shape = std::move(probe.shape);
    return plan;
}

}  // namespace llava
