// The model library: checkpoints already on disk, found without any network access.
//   * the Hugging Face hub cache ($HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
//     else ~/.cache/huggingface/hub, as huggingface_hub's constants.py resolves it):
//     models--ORG--NAME/snapshots/<commit>/<file> symlinks into ../../blobs/<etag>, refs/<branch> = commit;
//   * the app's own models folder (every sub-folder with a config.json);
//   * recent folders (any model folder the user opened).
// Each entry says what the folder is (name, layout, template, stored dtype, size on disk) and whether it
// is complete: config.json, tokenizer.model, and every shard the index names present and of the size its
// safetensors header declares (a truncated download is caught here, not at load). Only file headers are
// read; nothing is mapped or validated in full (Checkpoint::open does that at load).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "llava/checkpoint.h"
#include "llava/modelconfig.h"

namespace llava {

enum class LibrarySource : std::uint8_t { HubCache, AppFolder, Recent };
std::string_view librarySourceName(LibrarySource source);  // "hf-cache" | "app" | "recent"

struct LibraryEntry {
    std::string name;                 // "llava-hf/llava-v1.6-mistral-7b-hf" (hub cache) or the folder name
    std::filesystem::path dir;        // the folder to open (a snapshot folder in the hub cache)
    LibrarySource source = LibrarySource::AppFolder;
    std::string repoId;               // hub cache only: "llava-hf/llava-v1.6-mistral-7b-hf"
    std::string commit;               // hub cache only: the snapshot's commit hash
    std::vector<std::string> refs;    // hub cache only: branches/tags whose refs/ file names this commit
    std::optional<ModelConfig> config;          // nullopt when config.json is missing or unreadable
    std::optional<CheckpointLayout> layout;     // from the tensor names (falls back to config.json's guess)
    std::string templateName;         // the chat template the app would use
    std::string storedDtype;          // "BF16", "F16", "F32", or "F16+F32" when mixed; "" when unknown
    std::uint64_t sizeOnDisk = 0;     // bytes of the files (symlinks followed; each blob counted once)
    bool complete = false;
    std::vector<std::string> problems;  // why not complete: "missing tokenizer.model", "model-00002-of-00004.safetensors
                                        // is 1048576 bytes, its header declares 4943162240"
    // Every tensor the shards declare (dtype, shape, byteSize; data == nullptr), for the memory plan; from
    // the config (plannedTensorsFromConfig) when shards are missing.
    std::vector<TensorView> tensors;
};

// Environment lookup (std::getenv in the product; a map in tests). nullopt or "" = unset.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup processEnvironment();

// huggingface_hub's constants.py order: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub,
// XDG_CACHE_HOME/huggingface/hub, HOME/.cache/huggingface/hub.
std::filesystem::path hubCacheDir(const EnvLookup& env);
// HF_HOME, else XDG_CACHE_HOME/huggingface, else HOME/.cache/huggingface (where huggingface_hub keeps "token").
std::filesystem::path hfHomeDir(const EnvLookup& env);
// "llava-hf/llava-v1.6-mistral-7b-hf" -> "models--llava-hf--llava-v1.6-mistral-7b-hf".
std::string hubRepoFolderName(const std::string& repoId);

// One model folder (any layout), read-only. Never fails: problems are listed in the entry.
LibraryEntry inspectModelFolder(const std::filesystem::path& dir, LibrarySource source);
// Every snapshot of every models--* repository in a hub cache (datasets/spaces are skipped). Snapshots
// without a config.json are skipped too (another library's files, e.g. a tokenizer-only repo).
std::vector<LibraryEntry> scanHubCache(const std::filesystem::path& cacheDir);

struct LibraryLocations {
    std::vector<std::filesystem::path> hubCaches;   // usually one: hubCacheDir(processEnvironment())
    std::vector<std::filesystem::path> appFolders;  // folders whose sub-folders are models
    std::vector<std::filesystem::path> recent;      // model folders themselves
};
// All of them, each folder listed once (the first source that finds it wins), hub cache entries first.
std::vector<LibraryEntry> scanLibrary(const LibraryLocations& locations);

// The entry's tensors as pointers, for planMemory.
std::vector<const TensorView*> tensorPointers(const LibraryEntry& entry);

}  // namespace llava
