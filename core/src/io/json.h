// Strict JSON for untrusted files (config.json, index.json, safetensors headers): parses without
// exceptions, rejects duplicate object keys at any depth (nlohmann silently keeps the last one) and
// nesting deeper than kMaxJsonDepth, and offers typed getters that turn type errors into Status.
// Not a general JSON facade: only what the io stage needs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llava/status.h"

namespace llava::io {

using Json = nlohmann::json;

constexpr int kMaxJsonDepth = 64;

// `what` names the document in messages ("config.json", "safetensors header of x.safetensors").
Status parseJsonStrict(std::string_view text, Json* out, std::string_view what);


// Typed getters for an optional member of `object`: absent or null leaves *out unchanged.
// A present value of the wrong type / out of range -> ParseError naming `what` and `key`.
Status readInt(const Json& object, const char* key, int* out, std::string_view what);
Status readDouble(const Json& object, const char* key, double* out, std::string_view what);
Status readFloat(const Json& object, const char* key, float* out, std::string_view what);
Status readBool(const Json& object, const char* key, bool* out, std::string_view what);
Status readString(const Json& object, const char* key, std::string* out, std::string_view what);

}  // namespace llava::io
