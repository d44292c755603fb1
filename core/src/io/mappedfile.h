// RAII read-only memory mapping of a whole file (POSIX mmap). Move-only. An empty file maps to an
// empty span without calling mmap (mmap of length 0 fails).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "llava/status.h"

namespace llava::io {

class MappedFile {
public:
    static Result<MappedFile> open(const std::filesystem::path& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(m_data), m_size}; }
    std::size_t size() const { return m_size; }
    // Gives up ownership; the caller must call unmap(pointer, size()) later.
    void* release();
    static void unmap(void* data, std::size_t size);

private:
    MappedFile() = default;
    void* m_data = nullptr;
    std::size_t m_size = 0;
};

}  // namespace llava::io
