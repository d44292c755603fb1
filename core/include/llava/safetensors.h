// safetensors files and shard sets, with no model knowledge: every check of the format happens here
// (header length, strict JSON, dtypes, dims, offsets, overlaps, duplicates, __metadata__), so code
// above only ever sees validated TensorViews into a read-only mapping.
//
// File layout: u64 little-endian N | N bytes of JSON header | data region. Offsets in the header are
// relative to the start of the data region.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "llava/checkpoint.h"
#include "llava/status.h"
#include "llava/types.h"

namespace llava {

constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;  // 100 MB; real headers are < 1 MB

struct SafetensorsEntry {
    std::string name;
    DType dtype = DType::F32;
    Shape shape;
    std::uint64_t begin = 0;  // byte offsets relative to the data region, [begin, end)
    std::uint64_t end = 0;
};

struct SafetensorsHeader {
    std::vector<SafetensorsEntry> tensors;                       // in data-offset order
    std::vector<std::pair<std::string, std::string>> metadata;  // __metadata__, string values only
    std::uint64_t dataOffset = 0;                                // 8 + header length
};

// Validates the JSON header against a data region of `dataSize` bytes. `fileName` is for messages.
Result<SafetensorsHeader> parseSafetensorsHeader(std::string_view headerJson, std::uint64_t dataSize,
                                                 std::string_view fileName);
// Validates a whole file image (length prefix + header + data).
Result<SafetensorsHeader> parseSafetensorsBytes(std::span<const std::byte> bytes, std::string_view fileName);

// One mapped .safetensors file. Move-only; views stay valid while the object (or its moved-to
// successor) lives, because the mapping itself never moves.
// Alignment: TensorView::data is only as aligned as the file makes it (writers that pad the header
// to 8 bytes, like ours and HF's, give 8-byte alignment); consumers must not assume more.
class SafetensorsFile {
public:
    static Result<SafetensorsFile> open(const std::filesystem::path& path);

    SafetensorsFile(SafetensorsFile&& other) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;
    ~SafetensorsFile();

    const std::filesystem::path& path() const { return m_path; }
    const std::vector<TensorView>& tensors() const { return m_tensors; }  // names as stored in the file
    const TensorView* find(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& metadata() const { return m_metadata; }
    // Whether the mapped file still has the size and modification time it had when mapped (one fstat of
    // the descriptor kept open since then). A file truncated in place would make any read of a tensor
    // past the new end fault with SIGBUS; callers check before they use the views again.
    // Error: ErrorCode::FileChanged, "model file changed on disk: <file> (...)".
    Status checkUnchanged() const;

private:
    SafetensorsFile() = default;
    void release();

    std::filesystem::path m_path;
    void* m_mapping = nullptr;   // read-only, MAP_PRIVATE; nullptr for an empty mapping
    std::uint64_t m_size = 0;
    int m_fd = -1;               // the mapped file, kept open for checkUnchanged()
    std::int64_t m_mtimeNs = 0;  // its st_mtim when mapped
    std::vector<TensorView> m_tensors;
    std::unordered_map<std::string, std::size_t> m_byName;
    std::vector<std::pair<std::string, std::string>> m_metadata;
};

// model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}.
struct ShardIndex {
    std::map<std::string, std::string> weightMap;  // tensor name -> shard file name
    std::vector<std::string> shardFiles;           // distinct, sorted
};
Result<ShardIndex> parseShardIndex(std::string_view json, std::string_view fileName);

// Every shard of a model folder, opened and cross-checked: via the index when present, else the single
// model.safetensors. A tensor in two shards, a shard missing, a tensor missing from the shard the
// index names, or a tensor not listed in the index -> error naming the tensor and files.
class ShardSet {
public:
    static Result<ShardSet> open(const std::filesystem::path& modelDir);

    const std::vector<SafetensorsFile>& shards() const { return m_shards; }
    const TensorView* find(std::string_view name) const;
    std::vector<const TensorView*> allTensors() const;  // every tensor, shard by shard
    std::uint64_t totalTensorBytes() const;
    // checkUnchanged() of every shard; the first changed one is named.
    Status checkUnchanged() const;

private:
    std::vector<SafetensorsFile> m_shards;
    std::unordered_map<std::string, const TensorView*> m_byName;
};

}  // namespace llava
