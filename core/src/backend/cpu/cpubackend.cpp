// CpuBackend buffers and weight upload (AsStored weights are used in place from the mapping; F16/Q8/Q4
// are converted once here), and the factory createCpuBackend.
#include "backend/cpu/cpubackend.h"

#include <algorithm>

namespace llava {
namespace cpu {

Result<Tensor> CpuBackend::uploadWeight(const TensorView& view, WeightPrecision precision) {
    LLAVA_ASSIGN_OR_RETURN(const WeightUploadPlan plan, planWeightUpload(view, precision, "cpu"));
    const StorageFormat stored = plan.stored;
    const StorageFormat target = plan.target;
    Tensor t;
    t.shape = plan.shape;
    t.format = stored;
    if (target == stored) {
        CpuBuffer buffer;
        buffer.data = view.data;
        buffer.bytes = view.byteSize;
        buffer.role = BufferRole::Weights;
        buffer.mapped = true;
        t.buffer = m_buffers.add(std::move(buffer));
        return t;
    }
    std::vector<float> f(static_cast<std::size_t>(t.elementCount()));
    decodeElements(stored, view.data, 0, t.elementCount(), f.data());
    const Shape shape = t.shape;
    LLAVA_ASSIGN_OR_RETURN(Tensor out, allocate(shape, target, BufferRole::Weights, view.name));
    std::byte* dst = m_buffers.find(out.buffer)->owned.get();
    if (target == StorageFormat::Q8PerChannel) quantiseQ8(f.data(), t.rows(), t.cols(), dst);
    else if (target == StorageFormat::Q4Group128) quantiseQ4(f.data(), t.rows(), t.cols(), dst);
    else encodeElements(target, dst, 0, t.elementCount(), f.data());
    return out;
}

Result<Tensor> CpuBackend::adoptWeight(const Shape& shape, StorageFormat format, const std::byte* data, std::size_t bytes,
                                       std::string_view name) {
    const auto expected = checkedStorageBytes(format, shape);
    if (!expected || *expected != bytes)
        return makeError(ErrorCode::InvalidArgument, "cpu: weight " + std::string(name) + " has " + std::to_string(bytes) +
                                                         " bytes, not the size of its shape " + shapeToString(shape));
    CpuBuffer buffer;
    buffer.data = data;
    buffer.bytes = bytes;
    buffer.role = BufferRole::Weights;
    buffer.mapped = true;
    Tensor t;
    t.shape = shape;
    t.format = format;
    t.buffer = m_buffers.add(std::move(buffer));
    return t;
}

}  // namespace cpu

std::unique_ptr<Backend> createCpuBackend(int threads) { return std::make_unique<cpu::CpuBackend>(threads); }

std::unique_ptr<Backend> createCpuReferenceBackend(int threads) {
    return std::make_unique<cpu::CpuBackend>(threads, /*reference=*/true);
}

}  // namespace llava
