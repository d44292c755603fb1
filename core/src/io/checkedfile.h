// Internal part of checkedfile: an owned file descriptor opened the checked way, for MappedFile,
// which maps the file instead of reading it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include <sys/stat.h>

#include "llava/checkedfile.h"

namespace llava::io {

// Move-only owner of a POSIX descriptor.
class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept;
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor();

    int get() const { return m_fd; }
    bool isOpen() const { return m_fd >= 0; }
    int release() { int fd = m_fd; m_fd = -1; return fd; }  // the caller closes it

private:
    int m_fd = -1;
};

struct OpenedFile {
    FileDescriptor fd;
    struct stat info {};   // fstat of the opened descriptor (the file actually opened, not the path)
};

// open(O_RDONLY | O_NONBLOCK | O_CLOEXEC) + fstat; a regular file of at most maxBytes or an error.
Result<OpenedFile> openRegularFile(const std::filesystem::path& path, std::string_view what, std::uint64_t maxBytes);

}  // namespace llava::io
