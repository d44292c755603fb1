// readCheckedFile / openRegularFile: the one place where core opens a file to read it whole.
// Why O_NONBLOCK: open() of a FIFO for reading blocks until a writer appears; with O_NONBLOCK it returns
// at once and fstat then tells us it is no regular file. For regular files the flag changes nothing.
// Why fstat on the descriptor and not stat on the path: the checks then apply to the file we read.
#include "io/checkedfile.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace llava {

std::string_view fileTypeName(unsigned int statMode) {
    switch (statMode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a folder";
    case S_IFIFO: return "a FIFO (named pipe)";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    default: return "an unknown kind of file";
    }
}

namespace {

std::string mib(std::uint64_t bytes) {
    if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
    return std::to_string(bytes) + " bytes";
}

Status tooLarge(const std::filesystem::path& path, std::string_view what, std::uint64_t size, std::uint64_t cap) {
    return makeError(ErrorCode::OutOfRange, path.string() + ": " + std::string(what) + " is " + std::to_string(size) +
                                                " bytes, above the cap of " + mib(cap) + " for a " + std::string(what));
}

}  // namespace

namespace io {

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

FileDescriptor::~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
}

Result<OpenedFile> openRegularFile(const std::filesystem::path& path, std::string_view what, std::uint64_t maxBytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        return makeError(err == ENOENT ? ErrorCode::NotFound : ErrorCode::IoError,
                         "cannot open " + std::string(what) + " " + path.string() + ": " + std::strerror(err));
    }
    OpenedFile file{FileDescriptor(fd), {}};
    if (::fstat(fd, &file.info) != 0)
        return makeError(ErrorCode::IoError, path.string() + ": fstat failed: " + std::strerror(errno));
    if (!S_ISREG(file.info.st_mode))
        return makeError(ErrorCode::InvalidArgument, path.string() + " is not a regular file (" +
                                                         std::string(fileTypeName(file.info.st_mode)) +
                                                         "): expected a " + std::string(what));
    const auto size = static_cast<std::uint64_t>(file.info.st_size);
    if (size > maxBytes) return tooLarge(path, what, size, maxBytes);
    return file;
}

}  // namespace io

Result<std::uint64_t> checkRegularFile(const std::filesystem::path& path, std::string_view what,
                                       std::uint64_t maxBytes) {
    LLAVA_ASSIGN_OR_RETURN(io::OpenedFile file, io::openRegularFile(path, what, maxBytes));
    return static_cast<std::uint64_t>(file.info.st_size);
}

Result<std::string> readCheckedFile(const std::filesystem::path& path, std::string_view what, std::uint64_t maxBytes) {
    LLAVA_ASSIGN_OR_RETURN(io::OpenedFile file, io::openRegularFile(path, what, maxBytes));
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(file.info.st_size));
    std::size_t done = 0;
    for (;;) {
        if (done == bytes.size()) {  // the stat size is reached: grow only if the file did (read past it)
            if (bytes.size() > maxBytes) return tooLarge(path, what, bytes.size(), maxBytes);
            bytes.resize(std::min<std::uint64_t>(bytes.size() + 64 * 1024, maxBytes + 1));
        }
        const ssize_t n = ::read(file.fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return makeError(ErrorCode::IoError, path.string() + ": read failed: " + std::strerror(errno));
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    if (done > maxBytes) return tooLarge(path, what, done, maxBytes);
    bytes.resize(done);
    return bytes;
}

}  // namespace llava
