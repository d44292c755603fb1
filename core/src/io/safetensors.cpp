// safetensors header validation and the mapped file. Every rule of style.md "Model files and parsers"
// is checked here, each with its own message, so the malformed-file suite can tell them apart.
#include "llava/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "io/json.h"
#include "io/mappedfile.h"

#include <sys/stat.h>
#include <unistd.h>

namespace llava {
namespace {

using io::Json;

bool parseDType(std::string_view text, DType* out) {
    static constexpr std::pair<std::string_view, DType> kTable[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F64", DType::F64},
        {"I8", DType::I8},   {"U8", DType::U8},   {"I16", DType::I16},   {"I32", DType::I32},
        {"I64", DType::I64}, {"BOOL", DType::Bool}};
    for (const auto& [name, dtype] : kTable) {
        if (name == text) {
            *out = dtype;
            return true;
        }
    }
    return false;
}

Status headerError(std::string_view file, const std::string& tensor, const std::string& what) {
    return makeError(ErrorCode::ParseError, std::string(file) + ": tensor \"" + tensor + "\": " + what);
}

Result<std::uint64_t> readU64(const Json& value, std::string_view file, const std::string& tensor,
                              const char* field) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_number_integer())  // signed and therefore negative (non-negative ints parse unsigned)
        return headerError(file, tensor, std::string("negative value ") + value.dump() + " in " + field);
    return headerError(file, tensor, std::string(field) + " must hold integers, got " + value.type_name());
}

Result<SafetensorsEntry> parseEntry(const std::string& name, const Json& value, std::uint64_t dataSize,
                                    std::string_view file) {
    if (!value.is_object()) return headerError(file, name, "entry must be an object");
    SafetensorsEntry entry;
    entry.name = name;

    auto dtypeIt = value.find("dtype");
    if (dtypeIt == value.end() || !dtypeIt->is_string()) return headerError(file, name, "missing string \"dtype\"");
    const std::string& dtypeText = dtypeIt->get_ref<const std::string&>();
    if (!parseDType(dtypeText, &entry.dtype))
        return makeError(ErrorCode::Unsupported, std::string(file) + ": tensor \"" + name + "\": unknown dtype \"" +
                                                     dtypeText + "\" (supported: F32 F16 BF16 F64 I8 U8 I16 I32 I64 BOOL)");

    auto shapeIt = value.find("shape");
    if (shapeIt == value.end() || !shapeIt->is_array()) return headerError(file, name, "missing array \"shape\"");
    // Element count with overflow checks: the product of dims and the byte size must fit in 63 bits.
    constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t elements = 1;
    for (const Json& dim : *shapeIt) {
        LLAVA_ASSIGN_OR_RETURN(std::uint64_t d, readU64(dim, file, name, "shape"));
        if (d > kLimit) return headerError(file, name, "dimension " + std::to_string(d) + " too large");
        if (d != 0 && elements > kLimit / d) return headerError(file, name, "element count overflows 64 bits");
        elements *= d;
        entry.shape.push_back(static_cast<std::int64_t>(d));
    }
    std::uint64_t elementSize = dtypeSize(entry.dtype);
    if (elements > kLimit / elementSize) return headerError(file, name, "byte size overflows 64 bits");

    auto offsetsIt = value.find("data_offsets");
    if (offsetsIt == value.end() || !offsetsIt->is_array() || offsetsIt->size() != 2)
        return headerError(file, name, "\"data_offsets\" must be an array of 2 integers");
    LLAVA_ASSIGN_OR_RETURN(entry.begin, readU64((*offsetsIt)[0], file, name, "data_offsets"));
    LLAVA_ASSIGN_OR_RETURN(entry.end, readU64((*offsetsIt)[1], file, name, "data_offsets"));
    if (entry.begin > entry.end)
        return headerError(file, name, "data_offsets begin " + std::to_string(entry.begin) + " > end " +
                                           std::to_string(entry.end));
    if (entry.end > dataSize)
        return headerError(file, name, "data_offsets end " + std::to_string(entry.end) +
                                           " is beyond the data region of " + std::to_string(dataSize) + " bytes");
    std::uint64_t expectedBytes = elements * elementSize;
    if (entry.end - entry.begin != expectedBytes)
        return headerError(file, name, "byte size " + std::to_string(entry.end - entry.begin) + " != " +
                                           std::to_string(expectedBytes) + " expected for " +
                                           std::string(dtypeName(entry.dtype)) + " " + shapeToString(entry.shape));
    return entry;
}

Status parseMetadata(const Json& value, std::string_view file, SafetensorsHeader* header) {
    if (!value.is_object())
        return makeError(ErrorCode::ParseError, std::string(file) + ": __metadata__ must be an object");
    for (const auto& [key, v] : value.items()) {
        if (!v.is_string())
            return makeError(ErrorCode::ParseError, std::string(file) + ": __metadata__ value of \"" + key +
                                                        "\" must be a string, got " + v.type_name());
        header->metadata.emplace_back(key, v.get<std::string>());
    }
    return Status::ok();
}

// Sorted by offset; two non-empty tensors may not share a byte. Empty tensors own no bytes.
Status checkOverlaps(std::vector<SafetensorsEntry>& tensors, std::string_view file) {
    std::sort(tensors.begin(), tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    const SafetensorsEntry* previous = nullptr;
    for (const SafetensorsEntry& t : tensors) {
        if (t.begin == t.end) continue;
        if (previous && t.begin < previous->end)
            return makeError(ErrorCode::ParseError, std::string(file) + ": tensors \"" + previous->name + "\" and \"" +
                                                        t.name + "\" overlap in the data region");
        previous = &t;
    }
    return Status::ok();
}

}  // namespace

Result<SafetensorsHeader> parseSafetensorsHeader(std::string_view headerJson, std::uint64_t dataSize,
                                                 std::string_view fileName) {
    Json root;
    LLAVA_TRY(io::parseJsonStrict(headerJson, &root, std::string(fileName) + " header"));
    if (!root.is_object())
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": header must be a JSON object, got " +
                                                    root.type_name());
    SafetensorsHeader header;
    for (const auto& [key, value] : root.items()) {
        if (key == "__metadata__") {
            LLAVA_TRY(parseMetadata(value, fileName, &header));
            continue;
        }
        LLAVA_ASSIGN_OR_RETURN(SafetensorsEntry entry, parseEntry(key, value, dataSize, fileName));
        header.tensors.push_back(std::move(entry));
    }
    LLAVA_TRY(checkOverlaps(header.tensors, fileName));
    return header;
}

Result<SafetensorsHeader> parseSafetensorsBytes(std::span<const std::byte> bytes, std::string_view fileName) {
    if (bytes.size() < 8)
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": file of " + std::to_string(bytes.size()) +
                                                    " bytes is too small for the 8-byte header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>(bytes[static_cast<std::size_t>(i)]);
    if (n > kMaxSafetensorsHeaderBytes)
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": header length " + std::to_string(n) +
                                                    " exceeds the cap of " + std::to_string(kMaxSafetensorsHeaderBytes) +
                                                    " bytes");
    if (n > bytes.size() - 8)
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": header length " + std::to_string(n) +
                                                    " exceeds file size " + std::to_string(bytes.size()));
    std::string_view json(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<std::size_t>(n));
    LLAVA_ASSIGN_OR_RETURN(SafetensorsHeader header, parseSafetensorsHeader(json, bytes.size() - 8 - n, fileName));
    header.dataOffset = 8 + n;
    return header;
}

// ---- SafetensorsFile ------------------------------------------------------------------------------

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
    LLAVA_ASSIGN_OR_RETURN(io::MappedFile mapped, io::MappedFile::open(path));
    std::string fileName = path.filename().string();
    LLAVA_ASSIGN_OR_RETURN(SafetensorsHeader header, parseSafetensorsBytes(mapped.bytes(), fileName));

    SafetensorsFile file;
    file.m_path = path;
    file.m_size = mapped.size();
    const std::byte* data = mapped.bytes().data() + header.dataOffset;
    file.m_tensors.reserve(header.tensors.size());
    for (SafetensorsEntry& e : header.tensors) {
        TensorView view;
        view.name = std::move(e.name);
        view.dtype = e.dtype;
        view.shape = std::move(e.shape);
        view.data = data + e.begin;
        view.byteSize = static_cast<std::size_t>(e.end - e.begin);
        file.m_byName.emplace(view.name, file.m_tensors.size());
        file.m_tensors.push_back(std::move(view));
    }
    file.m_metadata = std::move(header.metadata);
    file.m_mtimeNs = mapped.mtimeNs();
    file.m_fd = mapped.releaseDescriptor();
    file.m_mapping = mapped.release();
    return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept { *this = std::move(other); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
    if (this != &other) {
        release();
        m_path = std::move(other.m_path);
        m_mapping = std::exchange(other.m_mapping, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_fd = std::exchange(other.m_fd, -1);
        m_mtimeNs = other.m_mtimeNs;
        m_tensors = std::move(other.m_tensors);
        m_byName = std::move(other.m_byName);
        m_metadata = std::move(other.m_metadata);
    }
    return *this;
}

SafetensorsFile::~SafetensorsFile() { release(); }

void SafetensorsFile::release() {
    io::MappedFile::unmap(m_mapping, m_size);
    m_mapping = nullptr;
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
}

Status SafetensorsFile::checkUnchanged() const {
    if (m_fd < 0) return Status::ok();  // moved-from
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return makeError(ErrorCode::FileChanged, "model file changed on disk: " + m_path.string() +
                                                     " (cannot stat it: " + std::strerror(errno) + ")");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtimeNs = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (size != m_size)
        return makeError(ErrorCode::FileChanged, "model file changed on disk: " + m_path.string() + " (was " +
                                                     std::to_string(m_size) + " bytes when loaded, now " +
                                                     std::to_string(size) + "); load the model again");
    if (mtimeNs != m_mtimeNs)
        return makeError(ErrorCode::FileChanged, "model file changed on disk: " + m_path.string() +
                                                     " (rewritten after it was loaded); load the model again");
    return Status::ok();
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    auto it = m_byName.find(std::string(name));
    return it == m_byName.end() ? nullptr : &m_tensors[it->second];
}

}  // namespace llava
