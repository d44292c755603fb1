// Reading untrusted files with a bound: every file core (and app/imageio) reads whole goes through
// readCheckedFile, so a FIFO, a device (/dev/zero), a directory or a huge/sparse file fails at once with
// an error naming the file, what it is and the cap, instead of blocking or filling memory.
// Caps are documented in docs/limits.md; keep the two in step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "llava/status.h"

namespace llava {

inline constexpr std::uint64_t kMiB = 1ull << 20;
// config.json, preprocessor_config.json: real ones are 1-3 KB.
inline constexpr std::uint64_t kMaxConfigFileBytes = 4 * kMiB;
// model.safetensors.index.json (~100 KB for 34B) and tokenizer_config.json (~1 MB with many added tokens).
inline constexpr std::uint64_t kMaxIndexFileBytes = 64 * kMiB;
inline constexpr std::uint64_t kMaxTokenizerConfigBytes = 16 * kMiB;
// tokenizer.model (sentencepiece protobuf): 0.5 MB (Llama, Mistral) to 1 MB (Yi).
inline constexpr std::uint64_t kMaxTokenizerModelBytes = 32 * kMiB;
// An encoded image file (JPEG/PNG/...): a 100 MP photo as an 8-bit PNG is below 300 MB.
inline constexpr std::uint64_t kMaxImageFileBytes = 512 * kMiB;

// "a FIFO (named pipe)", "a character device", ... for messages; "a regular file" for S_IFREG.
std::string_view fileTypeName(unsigned int statMode);

// Opens `path` without blocking (O_NONBLOCK, so a FIFO without writer cannot hang the caller),
// requires a regular file of at most `maxBytes`, reads it whole. `what` names the kind of file in
// messages ("tokenizer model"). Errors: NotFound (absent), InvalidArgument (not a regular file),
// OutOfRange (above the cap, also when the file grows past it while being read), IoError.
Result<std::string> readCheckedFile(const std::filesystem::path& path, std::string_view what, std::uint64_t maxBytes);

// The same checks without reading: the size of a regular file of at most `maxBytes`.
Result<std::uint64_t> checkRegularFile(const std::filesystem::path& path, std::string_view what,
                                       std::uint64_t maxBytes);

}  // namespace llava
