// POSIX implementation of MappedFile. The descriptor stays open after mmap (the mapping would keep the
// file alive without it) so the owner can check the mapped file's size later: see
// SafetensorsFile::checkUnchanged.
#include "io/mappedfile.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/checkedfile.h"

namespace llava::io {

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    // No size cap: a mapping costs address space, not memory (34B shards are ~10 GB).
    LLAVA_ASSIGN_OR_RETURN(OpenedFile opened,
                           openRegularFile(path, "safetensors file", std::numeric_limits<std::uint64_t>::max()));
    MappedFile file;
    file.m_size = static_cast<std::size_t>(opened.info.st_size);
    file.m_mtimeNs = static_cast<std::int64_t>(opened.info.st_mtim.tv_sec) * 1000000000 + opened.info.st_mtim.tv_nsec;
    if (file.m_size > 0) {
        void* p = ::mmap(nullptr, file.m_size, PROT_READ, MAP_PRIVATE, opened.fd.get(), 0);
        if (p == MAP_FAILED)
            return makeError(ErrorCode::IoError, "cannot map " + path.string() + ": " + std::strerror(errno));
        file.m_data = p;
    }
    file.m_fd = opened.fd.release();
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)),
      m_fd(std::exchange(other.m_fd, -1)), m_mtimeNs(other.m_mtimeNs) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        unmap(m_data, m_size);
        if (m_fd >= 0) ::close(m_fd);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_fd = std::exchange(other.m_fd, -1);
        m_mtimeNs = other.m_mtimeNs;
    }
    return *this;
}

MappedFile::~MappedFile() {
    unmap(m_data, m_size);
    if (m_fd >= 0) ::close(m_fd);
}

void* MappedFile::release() {
    return std::exchange(m_data, nullptr);
}

int MappedFile::releaseDescriptor() { return std::exchange(m_fd, -1); }

void MappedFile::unmap(void* data, std::size_t size) {
    if (data && size) ::munmap(data, size);
}

}  // namespace llava::io
