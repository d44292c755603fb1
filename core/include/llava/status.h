// Errors as values for everything in core that reads untrusted input (files, JSON, images, prompts).
// A Status is a code plus a human message that names the file/tensor/value and what was expected.
// Deliberately no exceptions across the core API: callers (GUI, CLI, CUDA backend) branch on ok().
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace llava {

enum class ErrorCode {
    Ok = 0,
    InvalidArgument,  // caller passed a bad value (empty prompt, 0x0 image, unknown preset)
    NotFound,         // file, tensor, preset or token missing
    IoError,          // open/mmap/read/write failed
    ParseError,       // malformed JSON, safetensors header, image bytes
    Unsupported,      // well-formed but not something we run (architecture, dtype, projector type)
    ShapeMismatch,    // tensor present but with the wrong shape or dtype
    OutOfRange,       // context overflow, size limits
    OutOfMemory,      // host or device allocation failed
    Cancelled,        // the user stopped it
    FileChanged,      // a loaded (mapped) model file was truncated or rewritten: unload the model
    Internal,         // a bug: an invariant broke
};

const char* errorCodeName(ErrorCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status ok() { return {}; }

    bool isOk() const { return m_code == ErrorCode::Ok; }
    explicit operator bool() const { return isOk(); }
    ErrorCode code() const { return m_code; }
    const std::string& message() const { return m_message; }
    // "ParseError: model.safetensors: header length 99999 exceeds file size 1024"
    std::string toString() const;

    // Prefix context while an error travels up: status.withContext("loading shard 2 of 3").
    Status withContext(const std::string& context) const;

private:
    ErrorCode m_code = ErrorCode::Ok;
    std::string m_message;
};

inline Status makeError(ErrorCode code, std::string message) { return Status(code, std::move(message)); }

// Result<T>: either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_data(std::move(value)) {}
    Result(Status status) : m_data(std::move(status)) { assert(!std::get<Status>(m_data).isOk()); }

    bool isOk() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return isOk(); }

    T& value() & { assert(isOk()); return std::get<T>(m_data); }
    const T& value() const& { assert(isOk()); return std::get<T>(m_data); }
    T&& value() && { assert(isOk()); return std::get<T>(std::move(m_data)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    // The error; an ok Status when a value is held.
    Status status() const { return isOk() ? Status() : std::get<Status>(m_data); }

private:
    std::variant<T, Status> m_data;
};

}  // namespace llava

// Early return of a non-ok Status / Result from a function returning Status or Result<U>.
#define LLAVA_TRY(expr)                                 \
    do {                                                \
        ::llava::Status llavaTryStatus_ = (expr);       \
        if (!llavaTryStatus_.isOk()) return llavaTryStatus_; \
    } while (0)

#define LLAVA_CONCAT_INNER(a, b) a##b
#define LLAVA_CONCAT(a, b) LLAVA_CONCAT_INNER(a, b)
// LLAVA_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(path));
#define LLAVA_ASSIGN_OR_RETURN(decl, expr) LLAVA_ASSIGN_OR_RETURN_IMPL(LLAVA_CONCAT(llavaResult_, __LINE__), decl, expr)
#define LLAVA_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
    auto tmp = (expr);                               \
    if (!tmp.isOk()) return tmp.status();            \
    decl = std::move(tmp).value()
