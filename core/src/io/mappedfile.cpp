// POSIX implementation of MappedFile. The descriptor is closed right after mmap: the mapping keeps
// the file alive on its own.
#include "io/mappedfile.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llava::io {

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ErrorCode code = errno == ENOENT ? ErrorCode::NotFound : ErrorCode::IoError;
        return makeError(code, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(ErrorCode::IoError, path.string() + " is not a regular file");
    }
    MappedFile file;
    file.m_size = static_cast<std::size_t>(st.st_size);
    if (file.m_size > 0) {
        void* p = ::mmap(nullptr, file.m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            return makeError(ErrorCode::IoError, "cannot map " + path.string() + ": " + std::strerror(err));
        }
        file.m_data = p;
    }
    ::close(fd);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        unmap(m_data, m_size);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { unmap(m_data, m_size); }

void* MappedFile::release() {
    return std::exchange(m_data, nullptr);
}

void MappedFile::unmap(void* data, std::size_t size) {
    if (data && size) ::munmap(data, size);
}

}  // namespace llava::io
