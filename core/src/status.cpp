// Status formatting. Kept tiny: messages are built where the error is found.
#include "llava/status.h"

namespace llava {

const char* errorCodeName(ErrorCode code) {
    switch (code) {
    case ErrorCode::Ok: return "Ok";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::IoError: return "IoError";
    case ErrorCode::ParseError: return "ParseError";
    case ErrorCode::Unsupported: return "Unsupported";
    case ErrorCode::ShapeMismatch: return "ShapeMismatch";
    case ErrorCode::OutOfRange: return "OutOfRange";
    case ErrorCode::OutOfMemory: return "OutOfMemory";
    case ErrorCode::Cancelled: return "Cancelled";
    case ErrorCode::FileChanged: return "FileChanged";
    case ErrorCode::Internal: return "Internal";
    }
    return "Unknown";
}

std::string Status::toString() const {
    if (isOk()) return "Ok";
    return std::string(errorCodeName(m_code)) + ": " + m_message;
}

Status Status::withContext(const std::string& context) const {
    if (isOk()) return *this;
    return Status(m_code, context + ": " + m_message);
}

}  // namespace llava
