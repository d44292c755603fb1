// Tensor handles of the Backend seam: an opaque reference to bytes that live in a backend's memory
// (host RAM for the CPU backend, VRAM for CUDA). A Tensor is a small value (buffer id + byte offset +
// storage format + shape); copying it never copies data. Backends own the buffers; handles stay valid
// until Backend::release(buffer) or the backend is destroyed.
// Deliberately no arithmetic here: every op is a Backend method (backend.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "llava/types.h"

namespace llava {

// How elements are stored. Activations are always F32; weights may be any of these.
//   Q8PerChannel: int8 values (rows, cols) followed by one F32 scale per row:  w = q * scale[row].
//   Q4Group128:   int4 values, two per byte (low nibble = even column), groups of 128 consecutive columns
//                 of a row share one F16 scale, values are signed (q - 8): w = (q - 8) * scale[row][group].
//                 Requires cols % 128 == 0. Layout: packed nibbles (rows, cols/2), then F16 scales
//                 (rows, cols/128): 4.125 bits per weight.
enum class StorageFormat : std::uint8_t { F32, F16, BF16, Q8PerChannel, Q4Group128, I32 };

std::string_view storageFormatName(StorageFormat format);
// Bytes needed to store a (rows, cols) matrix (or `cols` elements when rows == 1) in this format.
std::size_t storageBytes(StorageFormat format, std::int64_t rows, std::int64_t cols);
// storageBytes for a whole shape (rows = product of all dims but the last), or nullopt when a dim is
// negative or the element count or byte size would not fit in int64 (backends check this before
// Tensor::rows(), whose int64 product would overflow).
std::optional<std::size_t> checkedStorageBytes(StorageFormat format, const Shape& shape);

// What a buffer is used for; only for the memory report (BackendMemory).
enum class BufferRole : std::uint8_t { Weights, KvCache, Scratch };

struct Tensor {
    std::uint32_t buffer = 0;        // backend buffer id; 0 = null handle
    std::size_t offset = 0;          // bytes from the start of the buffer (views)
    StorageFormat format = StorageFormat::F32;
    Shape shape;                     // outer -> inner; matrices are (rows, cols), row-major

    bool isNull() const { return buffer == 0; }
    std::int64_t elementCount() const;
    std::int64_t rows() const;       // product of all dims but the last (1 for a vector)
    std::int64_t cols() const;       // last dim (0 for a null handle)
};

}  // namespace llava
