// CpuBackend buffers and weight upload (AsStored weights are used in place from the mapping; F16/Q8/Q4
// are converted once here), and the factory createCpuBackend.
#include "backend/cpu/cpubackend.h"

#include <algorithm>

namespace llava {
namespace cpu {

Result<Tensor> CpuBackend::uploadWeight(const TensorView& view, WeightPrecision precision) {
    StorageFormat stored;
    switch (view.dtype) {
    case DType::F32: stored = StorageFormat::F32; break;
    case DType::F16: stored = StorageFormat::F16; break;
    case DType::BF16: stored = StorageFormat::BF16; break;
    default:
        return makeError(ErrorCode::Unsupported, "cpu: weight " + view.name + " has dtype " +
                                                     std::string(dtypeName(view.dtype)) + " (need F32/F16/BF16)");
    }
    Tensor t;
    t.shape = view.shape;
    t.format = stored;
    if (t.shape.empty()) t.shape = {1};
    if (static_cast<std::size_t>(t.elementCount()) * dtypeSize(view.dtype) != view.byteSize)
        return makeError(ErrorCode::ShapeMismatch, "cpu: weight " + view.name + " byte size " +
                                                       std::to_string(view.byteSize) + " does not match its shape " +
                                                       shapeToString(view.shape));
    const bool matrix = t.shape.size() == 2;
    StorageFormat target = stored;
    if (precision == WeightPrecision::F16) target = StorageFormat::F16;
    if (matrix && precision == WeightPrecision::Q8) target = StorageFormat::Q8PerChannel;
    if (matrix && precision == WeightPrecision::Q4)
        target = t.cols() % 128 == 0 ? StorageFormat::Q4Group128 : StorageFormat::Q8PerChannel;
    if (target == stored) {
        CpuBuffer buffer;
        buffer.data = view.data;
        buffer.bytes = view.byteSize;
        buffer.role = BufferRole::Weights;
        buffer.mapped = true;
        t.buffer = addBuffer(std::move(buffer));
        return t;
    }
    std::vector<float> f(static_cast<std::size_t>(t.elementCount()));
    decodeElements(stored, view.data, 0, t.elementCount(), f.data());
    const Shape shape = t.shape;
    LLAVA_ASSIGN_OR_RETURN(Tensor out, allocate(shape, target, BufferRole::Weights, view.name));
    std::byte* dst = m_buffers[out.buffer - 1].owned.get();
    if (target == StorageFormat::Q8PerChannel) quantiseQ8(f.data(), t.rows(), t.cols(), dst);
    else if (target == StorageFormat::Q4Group128) quantiseQ4(f.data(), t.rows(), t.cols(), dst);
    else encodeElements(target, dst, 0, t.elementCount(), f.data());
    return out;
}

}  // namespace cpu

std::unique_ptr<Backend> createCpuBackend(int threads) { return std::make_unique<cpu::CpuBackend>(threads); }

}  // namespace llava
