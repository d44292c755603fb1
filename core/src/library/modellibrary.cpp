// One model folder -> LibraryEntry (modellibrary.h): config, tokenizer, shard headers (declared vs actual
// size), stored dtype, size on disk, and the tensors for the memory plan. Reads headers only.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "io/json.h"
#include "llava/checkedfile.h"
#include "llava/memoryplan.h"
#include "llava/modellibrary.h"
#include "llava/safetensors.h"
#include "llava/weights.h"

namespace llava {
namespace {

namespace fs = std::filesystem;

struct ShardHeader {
    std::vector<SafetensorsEntry> tensors;
    std::uint64_t declaredSize = 0;  // 8 + header length + end of the last tensor
};

// Reads the length prefix and the JSON header of a .safetensors file; never the data.
Result<ShardHeader> readShardHeader(const fs::path& path) {
    const std::string name = path.filename().string();
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(ErrorCode::IoError, "cannot open " + name);
    unsigned char prefix[8] = {};
    if (!in.read(reinterpret_cast<char*>(prefix), 8)) return makeError(ErrorCode::ParseError, name + " is shorter than 8 bytes");
    std::uint64_t headerLength = 0;
    for (int i = 7; i >= 0; --i) headerLength = (headerLength << 8) | prefix[i];  // little-endian u64
    if (headerLength > kMaxSafetensorsHeaderBytes)
        return makeError(ErrorCode::ParseError, name + ": header length " + std::to_string(headerLength) + " is implausible");
    std::string json(static_cast<std::size_t>(headerLength), '\0');
    if (!in.read(json.data(), static_cast<std::streamsize>(headerLength)))
        return makeError(ErrorCode::ParseError, name + " ends inside its " + std::to_string(headerLength) + "-byte header");
    // The data region is not read: accept any offsets and take the declared size from the largest end.
    LLAVA_ASSIGN_OR_RETURN(SafetensorsHeader header, parseSafetensorsHeader(json, UINT64_MAX, name));
    ShardHeader shard;
    std::uint64_t end = 0;
    for (const SafetensorsEntry& e : header.tensors) end = std::max(end, e.end);
    shard.declaredSize = 8 + headerLength + end;  // parseSafetensorsHeader leaves dataOffset to the caller
    shard.tensors = std::move(header.tensors);
    return shard;
}

// Shard file names: the index's, else model.safetensors. Problems are appended.
std::vector<std::string> shardNames(const fs::path& dir, std::vector<std::string>* problems) {
    std::error_code ec;
    if (fs::exists(dir / "model.safetensors.index.json", ec)) {
        auto text = readCheckedFile(dir / "model.safetensors.index.json", "a shard index", kMaxIndexFileBytes);
        if (!text) {
            problems->push_back(text.status().message());
            return {};
        }
        auto index = parseShardIndex(*text, "model.safetensors.index.json");
        if (!index) {
            problems->push_back(index.status().message());
            return {};
        }
        return index->shardFiles;
    }
    if (fs::exists(dir / "model.safetensors", ec)) return {"model.safetensors"};
    problems->push_back("no model.safetensors.index.json or model.safetensors");
    return {};
}

// Bytes of the folder's files, symlinks followed and each target counted once.
std::uint64_t folderBytes(const fs::path& dir) {
    std::error_code ec;
    std::set<fs::path> seen;
    std::uint64_t total = 0;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code sec;
        if (!it->is_regular_file(sec)) continue;  // follows symlinks
        const fs::path target = fs::canonical(it->path(), sec);
        if (sec || !seen.insert(target).second) continue;
        total += fs::file_size(target, sec);
    }
    return total;
}

std::string dtypeSummary(const std::map<std::string, std::uint64_t>& bytesByDtype) {
    // The dtype that holds most bytes first; small F32 vectors in a BF16 checkpoint are common, so a
    // second dtype is listed only when it holds at least 1% of the bytes.
    std::vector<std::pair<std::uint64_t, std::string>> order;
    std::uint64_t total = 0;
    for (const auto& [name, bytes] : bytesByDtype) {
        order.push_back({bytes, name});
        total += bytes;
    }
    std::sort(order.rbegin(), order.rend());
    std::string text;
    for (const auto& [bytes, name] : order) {
        if (!text.empty() && bytes * 100 < total) continue;
        text += (text.empty() ? "" : "+") + name;
    }
    return text;
}

}  // namespace

std::string_view librarySourceName(LibrarySource source) {
    switch (source) {
    case LibrarySource::HubCache: return "hf-cache";
    case LibrarySource::AppFolder: return "app";
    case LibrarySource::Recent: return "recent";
    }
    return "?";
}

LibraryEntry inspectModelFolder(const fs::path& dir, LibrarySource source) {
    LibraryEntry entry;
    entry.dir = dir;
    entry.source = source;
    entry.name = dir.filename().string();
    if (entry.name.empty()) entry.name = dir.parent_path().filename().string();
    std::error_code ec;
    auto config = loadModelConfig(dir);
    if (config) {
        entry.config = *config;
        entry.layout = config->layout;
        entry.templateName = config->templateName;
    } else {
        entry.problems.push_back(fs::exists(dir / "config.json", ec) ? config.status().message() : "missing config.json");
    }
    if (!fs::exists(dir / "tokenizer.model", ec)) entry.problems.push_back("missing tokenizer.model");

    std::map<std::string, std::uint64_t> bytesByDtype;
    std::vector<std::string> tensorNames;
    bool allShards = true;
    for (const std::string& shard : shardNames(dir, &entry.problems)) {
        const fs::path path = dir / shard;
        if (!fs::is_regular_file(path, ec)) {
            entry.problems.push_back("missing " + shard);
            allShards = false;
            continue;
        }
        const std::uint64_t actual = fs::file_size(path, ec);
        auto header = readShardHeader(path);
        if (!header) {
            entry.problems.push_back(header.status().message());
            allShards = false;
            continue;
        }
        if (actual != header->declaredSize) {
            entry.problems.push_back(shard + " is " + std::to_string(actual) + " bytes, its header declares " +
                                     std::to_string(header->declaredSize));
            allShards = false;
        }
        for (const SafetensorsEntry& e : header->tensors) {
            if (isIgnoredTensor(e.name)) continue;
            TensorView view;
            view.name = e.name;
            view.dtype = e.dtype;
            view.shape = e.shape;
            view.byteSize = static_cast<std::size_t>(e.end - e.begin);
            bytesByDtype[std::string(dtypeName(e.dtype))] += view.byteSize;
            tensorNames.push_back(e.name);
            entry.tensors.push_back(std::move(view));
        }
    }
    if (!tensorNames.empty()) {
        if (auto layout = detectLayout(tensorNames)) {
            entry.layout = *layout;
            // Canonical names, as a Checkpoint has them, so the memory plan knows which tensors are uploaded.
            for (TensorView& view : entry.tensors)
                if (auto canonical = canonicalTensorName(view.name, *layout)) view.name = *canonical;
        }
    }
    entry.storedDtype = dtypeSummary(bytesByDtype);
    if (!allShards || entry.tensors.empty()) {
        entry.tensors.clear();
        if (entry.config) {
            const std::string& t = entry.config->torchDtype;
            const DType stored = t == "float32" ? DType::F32 : t == "float16" ? DType::F16 : DType::BF16;
            entry.tensors = plannedTensorsFromConfig(*entry.config, stored);
            if (entry.storedDtype.empty()) entry.storedDtype = std::string(dtypeName(stored)) + " (config)";
        }
    }
    entry.sizeOnDisk = folderBytes(dir);
    entry.complete = entry.problems.empty();
    return entry;
}

std::vector<const TensorView*> tensorPointers(const LibraryEntry& entry) {
    std::vector<const TensorView*> out;
    out.reserve(entry.tensors.size());
    for (const TensorView& view : entry.tensors) out.push_back(&view);
    return out;
}

std::vector<LibraryEntry> scanLibrary(const LibraryLocations& locations) {
    std::vector<LibraryEntry> entries;
    std::set<fs::path> seen;
    auto add = [&](LibraryEntry entry) {
        std::error_code ec;
        fs::path key = fs::weakly_canonical(entry.dir, ec);
        if (ec) key = entry.dir;
        if (seen.insert(key).second) entries.push_back(std::move(entry));
    };
    for (const fs::path& cache : locations.hubCaches)
        for (LibraryEntry& e : scanHubCache(cache)) add(std::move(e));
    std::error_code ec;
    for (const fs::path& folder : locations.appFolders) {
        std::vector<fs::path> dirs;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code sec;
            if (it->is_directory(sec) && fs::exists(it->path() / "config.json", sec)) dirs.push_back(it->path());
        }
        std::sort(dirs.begin(), dirs.end());
        for (const fs::path& d : dirs) add(inspectModelFolder(d, LibrarySource::AppFolder));
    }
    for (const fs::path& dir : locations.recent) {
        std::error_code sec;
        if (fs::is_directory(dir, sec)) add(inspectModelFolder(dir, LibrarySource::Recent));
    }
    return entries;
}

}  // namespace llava
