// The Hugging Face hub cache on disk, read the way huggingface_hub writes it (constants.py for the
// location, file_download.py for the layout): models--ORG--NAME/{blobs,refs,snapshots/<commit>}.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "llava/modellibrary.h"

namespace llava {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> nonEmpty(const EnvLookup& env, const char* name) {
    auto value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
}

// "~/x" -> "$HOME/x" (constants.py applies os.path.expanduser to HF_HOME).
fs::path expandUser(const std::string& path, const EnvLookup& env) {
    if (path == "~" || path.rfind("~/", 0) == 0) return fs::path(nonEmpty(env, "HOME").value_or("")) / path.substr(std::min<std::size_t>(2, path.size()));
    return path;
}

std::string readSmallFile(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

EnvLookup processEnvironment() {
    return [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

fs::path hfHomeDir(const EnvLookup& env) {
    if (auto home = nonEmpty(env, "HF_HOME")) return expandUser(*home, env);
    if (auto xdg = nonEmpty(env, "XDG_CACHE_HOME")) return fs::path(*xdg) / "huggingface";
    return fs::path(nonEmpty(env, "HOME").value_or("")) / ".cache" / "huggingface";
}

fs::path hubCacheDir(const EnvLookup& env) {
    if (auto cache = nonEmpty(env, "HF_HUB_CACHE")) return expandUser(*cache, env);
    if (auto legacy = nonEmpty(env, "HUGGINGFACE_HUB_CACHE")) return expandUser(*legacy, env);
    return hfHomeDir(env) / "hub";
}

std::string hubRepoFolderName(const std::string& repoId) {
    std::string name = "models";
    std::size_t start = 0;
    while (start <= repoId.size()) {
        const std::size_t slash = repoId.find('/', start);
        name += "--" + repoId.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return name;
}

std::vector<LibraryEntry> scanHubCache(const fs::path& cacheDir) {
    std::vector<LibraryEntry> entries;
    std::error_code ec;
    std::vector<fs::path> repos;
    for (fs::directory_iterator it(cacheDir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string folder = it->path().filename().string();
        std::error_code sec;
        if (folder.rfind("models--", 0) == 0 && it->is_directory(sec)) repos.push_back(it->path());
    }
    std::sort(repos.begin(), repos.end());
    for (const fs::path& repo : repos) {
        // models--ORG--NAME -> ORG/NAME (repo ids never contain "--" in a name part's place of "/")
        std::string repoId = repo.filename().string().substr(8);
        for (std::size_t pos = repoId.find("--"); pos != std::string::npos; pos = repoId.find("--", pos + 1))
            repoId.replace(pos, 2, "/");
        std::vector<std::pair<std::string, std::string>> refs;  // (ref name, commit)
        for (fs::recursive_directory_iterator it(repo / "refs", ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code sec;
            if (it->is_regular_file(sec))
                refs.push_back({fs::relative(it->path(), repo / "refs", sec).generic_string(), readSmallFile(it->path())});
        }
        ec.clear();
        std::vector<fs::path> snapshots;
        for (fs::directory_iterator it(repo / "snapshots", ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code sec;
            if (it->is_directory(sec) && fs::exists(it->path() / "config.json", sec)) snapshots.push_back(it->path());
        }
        ec.clear();
        std::sort(snapshots.begin(), snapshots.end());
        for (const fs::path& snapshot : snapshots) {
            LibraryEntry entry = inspectModelFolder(snapshot, LibrarySource::HubCache);
            entry.repoId = repoId;
            entry.name = repoId;
            entry.commit = snapshot.filename().string();
            for (const auto& [ref, commit] : refs)
                if (commit == entry.commit) entry.refs.push_back(ref);
            entries.push_back(std::move(entry));
        }
    }
    return entries;
}

}  // namespace llava
