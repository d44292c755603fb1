// The shard index (model.safetensors.index.json) and the set of mapped shards of one model folder.
// Cross-shard rules live here: one owner per tensor, every listed shard present, index == contents.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "io/json.h"
#include "llava/checkedfile.h"
#include "llava/safetensors.h"

namespace llava {
namespace {

constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kSingleFile = "model.safetensors";

}  // namespace


Result<ShardIndex> parseShardIndex(std::string_view json, std::string_view fileName) {
    io::Json root;
    LLAVA_TRY(io::parseJsonStrict(json, &root, fileName));
    if (!root.is_object())
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": must be a JSON object");
    auto it = root.find("weight_map");
    if (it == root.end())
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": missing \"weight_map\"");
    if (!it->is_object())
        return makeError(ErrorCode::ParseError, std::string(fileName) + ": \"weight_map\" must be an object");
    ShardIndex index;
    std::set<std::string> shards;
    for (const auto& [tensor, shard] : it->items()) {
        if (!shard.is_string())
            return makeError(ErrorCode::ParseError, std::string(fileName) + ": weight_map entry \"" + tensor +
                                                        "\" must name a shard file");
        const std::string& shardName = shard.get_ref<const std::string&>();
        // Shards live next to the index; a path component would let an index reach outside the folder.
        if (shardName.empty() || shardName.find('/') != std::string::npos ||
            shardName.find('\\') != std::string::npos || shardName == "." || shardName == "..")
            return makeError(ErrorCode::ParseError, std::string(fileName) + ": shard name \"" + shardName +
                                                        "\" of \"" + tensor + "\" is not a plain file name");
        index.weightMap.emplace(tensor, shardName);
        shards.insert(shardName);
    }
    index.shardFiles.assign(shards.begin(), shards.end());
    return index;
}

Result<ShardSet> ShardSet::open(const std::filesystem::path& modelDir) {
    ShardSet set;
    std::filesystem::path indexPath = modelDir / kIndexFile;
    std::error_code ec;
    if (!std::filesystem::exists(indexPath, ec)) {
        std::filesystem::path single = modelDir / kSingleFile;
        if (!std::filesystem::exists(single, ec))
            return makeError(ErrorCode::NotFound, modelDir.string() + ": neither " + kIndexFile + " nor " +
                                                      kSingleFile + " found");
        LLAVA_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(single));
        set.m_shards.push_back(std::move(file));
        for (const TensorView& t : set.m_shards.back().tensors()) set.m_byName.emplace(t.name, &t);
        return set;
    }

    LLAVA_ASSIGN_OR_RETURN(std::string text, readCheckedFile(indexPath, "shard index", kMaxIndexFileBytes));
    LLAVA_ASSIGN_OR_RETURN(ShardIndex index, parseShardIndex(text, kIndexFile));
    for (const std::string& shardName : index.shardFiles) {
        std::filesystem::path shardPath = modelDir / shardName;
        if (!std::filesystem::exists(shardPath, ec))
            return makeError(ErrorCode::NotFound, std::string(kIndexFile) + " lists shard \"" + shardName +
                                                      "\" but " + shardPath.string() + " does not exist");
        LLAVA_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(shardPath));
        set.m_shards.push_back(std::move(file));
    }
    // Shard vectors are final now, so TensorView addresses are stable.
    std::unordered_map<std::string, std::string> owner;  // tensor -> first shard seen holding it
    for (const SafetensorsFile& shard : set.m_shards) {
        std::string shardName = shard.path().filename().string();
        for (const TensorView& t : shard.tensors()) {
            auto [it, inserted] = owner.emplace(t.name, shardName);
            if (!inserted)
                return makeError(ErrorCode::ParseError, "tensor \"" + t.name + "\" is stored in two shards (" +
                                                            it->second + " and " + shardName + ")");
            set.m_byName.emplace(t.name, &t);
            auto listed = index.weightMap.find(t.name);
            if (listed == index.weightMap.end())
                return makeError(ErrorCode::ParseError, "tensor \"" + t.name + "\" in " + shardName +
                                                            " is not listed in " + kIndexFile);
            if (listed->second != shardName)
                return makeError(ErrorCode::ParseError, "tensor \"" + t.name + "\" is in " + shardName + " but " +
                                                            kIndexFile + " says " + listed->second);
        }
    }
    for (const auto& [tensor, shardName] : index.weightMap) {
        if (!set.m_byName.count(tensor))
            return makeError(ErrorCode::NotFound, std::string(kIndexFile) + " maps \"" + tensor + "\" to " + shardName +
                                                      " but that shard does not contain it");
    }
    return set;
}

const TensorView* ShardSet::find(std::string_view name) const {
    auto it = m_byName.find(std::string(name));
    return it == m_byName.end() ? nullptr : it->second;
}

std::vector<const TensorView*> ShardSet::allTensors() const {
    std::vector<const TensorView*> out;
    for (const SafetensorsFile& shard : m_shards)
        for (const TensorView& t : shard.tensors()) out.push_back(&t);
    return out;
}

Status ShardSet::checkUnchanged() const {
    for (const SafetensorsFile& shard : m_shards) LLAVA_TRY(shard.checkUnchanged());
    return Status::ok();
}

std::uint64_t ShardSet::totalTensorBytes() const {
    std::uint64_t total = 0;
    for (const SafetensorsFile& shard : m_shards)
        for (const TensorView& t : shard.tensors()) total += t.byteSize;
    return total;
}

}  // namespace llava
