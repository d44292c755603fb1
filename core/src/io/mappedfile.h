// RAII read-only memory mapping of a whole file (POSIX mmap). Move-only. An empty file maps to an
// empty span without calling mmap (mmap of length 0 fails). The file is opened the checked way
// (io/checkedfile.h: never blocks on a FIFO, regular files only) and its descriptor stays open, so
// the owner can later fstat the very file it mapped (a truncated mapping faults with SIGBUS on access).
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
    // Gives up ownership of the mapping; the caller must call unmap(pointer, size()) later.
    void* release();
    // Gives up the descriptor (-1 if already given); the caller closes it.
    int releaseDescriptor();
    // st_mtim of the file when it was mapped, in nanoseconds since the epoch.
    std::int64_t mtimeNs() const { return m_mtimeNs; }
    static void unmap(void* data, std::size_t size);

private:
    MappedFile() = default;
    void* m_data = nullptr;
    std::size_t m_size = 0;
    int m_fd = -1;
    std::int64_t m_mtimeNs = 0;
};

}  // namespace llava::io
