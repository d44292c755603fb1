// Quantised-weight cache: the Q8/Q4 form of a checkpoint's matrices, written once (all threads, streaming
// from the mapped shards) and read back at later starts instead of quantising again (issue 14 item 4).
//
// File "<model>/llava-insight-<q8|q4>.qcache" (or, when the model folder is not writable, the same name
// under QuantCacheOptions::fallbackDir/<hash of the model path>/). Layout, little-endian:
//   "LLVQCACH" | u32 format version | u32 entry count | u64 key length | key bytes      (key: see cacheKey)
//   per entry: u32 name length | name | u8 StorageFormat | u8 ndim | i64 dims[ndim] | u64 offset | u64 bytes
//              | u64 checksum of the bytes
//   u64 checksum of everything above | padding to 4096 | data (each entry 4096-aligned)
// Every field is bounds-checked on read; a wrong key (shards changed: size or mtime), version, precision,
// entry table or checksum makes the cache "invalid" with a reason, and the loader rebuilds it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/mappedfile.h"
#include "llava/backend.h"
#include "llava/checkpoint.h"
#include "llava/status.h"

namespace llava {

inline constexpr std::uint32_t kQuantCacheVersion = 2;  // 2: four-lane checksum

struct QuantCacheOptions {
    bool enabled = false;              // off: quantise at every load, as before (tests, read-only setups)
    std::filesystem::path fallbackDir; // used when the model folder is not writable; empty: no fallback
    int threads = 0;                   // quantisation threads, 0 = hardware concurrency
};

struct QuantCacheEntry {
    std::string name;                  // canonical tensor name
    StorageFormat format = StorageFormat::Q8PerChannel;
    Shape shape;                       // (rows, cols)
    std::uint64_t offset = 0, bytes = 0, checksum = 0;
};

// What the last openOrBuild did, for the load report and the benchmark.
struct QuantCacheReport {
    std::filesystem::path path;
    bool hit = false;                  // read from an existing valid cache
    bool built = false;                // written now
    std::string invalidReason;         // why an existing cache was not used (empty if none was there)
    std::string writeError;            // why none could be written (then weights are quantised in memory)
    double buildSeconds = 0, sourceBytes = 0;  // quantisation time and fp16/bf16/f32 bytes read
};

class QuantCache {
public:
    // Opens `path` and checks it against `key`: Result error (ParseError / FileChanged) naming the file and
    // what is wrong when it cannot be used. Checksums of the data are verified here (one pass).
    static Result<std::unique_ptr<QuantCache>> open(const std::filesystem::path& path, const std::string& key);

    const QuantCacheEntry* find(const std::string& name) const;
    const std::vector<QuantCacheEntry>& entries() const { return m_entries; }
    const std::byte* data(const QuantCacheEntry& e) const { return m_file.bytes().data() + e.offset; }
    // Returns the entry's pages to the kernel once uploaded, so peak RSS stays ~ the backend's copy.
    void dropPages(const QuantCacheEntry& e) const;

private:
    explicit QuantCache(io::MappedFile file) : m_file(std::move(file)) {}
    io::MappedFile m_file;
    std::vector<QuantCacheEntry> m_entries;
};

// Key of a checkpoint at a precision: version, precision, and every *.safetensors file of the model
// folder with its size and mtime (ns). Any change of a shard changes the key.
std::string quantCacheKey(const Checkpoint& checkpoint, WeightPrecision precision);

// Where the cache for (checkpoint, precision) may live, in order of preference: beside the model when that
// folder is writable, then under options.fallbackDir/<hash of the model path>/ (when set).
std::vector<std::filesystem::path> quantCachePaths(const Checkpoint& checkpoint, WeightPrecision precision,
                                                   const QuantCacheOptions& options);

// Quantises every matrix planWeightUpload turns into Q8/Q4 at `precision` and writes the cache file
// atomically (temporary file + rename). Tensors go to `threads` workers; each reads its source tensor
// from the mapping, quantises it and writes it at its offset, then drops the source pages.
Status writeQuantCache(const std::filesystem::path& path, const Checkpoint& checkpoint, WeightPrecision precision,
                       int threads, QuantCacheReport* report);

// Valid cache for (checkpoint, precision): per candidate path, opens the existing one, or (missing /
// invalid) builds it there; a path that cannot be written falls through to the next one.
// nullptr (no error) when cache use is off, the precision is not Q8/Q4, or no file could be written;
// the report says which. Never fails the load because of the cache.
std::unique_ptr<QuantCache> openOrBuildQuantCache(const Checkpoint& checkpoint, WeightPrecision precision,
                                                  const QuantCacheOptions& options, QuantCacheReport* report);

// One line for the load report: "read from <path> (verified)", "quantised 1.8 GB in 1.2 s (1.5 GB/s),
// cached at <path>", each with why an old cache was not used; empty when no cache was involved.
std::string describeQuantCache(const QuantCacheReport& report);

// The CPU kernels' quantised form of one source tensor (what CpuBackend::uploadWeight produces).
Status quantiseTensor(const TensorView& view, StorageFormat target, std::byte* dst);

}  // namespace llava
