// DType tables and small formatting helpers for core's shared vocabulary.
#include "llava/types.h"

namespace llava {

std::size_t dtypeSize(DType dtype) {
    switch (dtype) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
    }
    return 0;
}

std::string_view dtypeName(DType dtype) {
    switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::Bool: return "BOOL";
    }
    return "?";
}

std::string shapeToString(const Shape& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

std::string_view referenceName(Reference reference) {
    return reference == Reference::Original ? "original" : "transformers";
}

bool parseReference(std::string_view text, Reference* out) {
    if (text == "original" || text == "orig") { *out = Reference::Original; return true; }
    if (text == "transformers" || text == "hf") { *out = Reference::Transformers; return true; }
    return false;
}

}  // namespace llava
