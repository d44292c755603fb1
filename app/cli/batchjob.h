// `batch`: one prompt over many images, one JSON line per image in a results file, resumable.
// This header holds what the local runner (batch.cpp) and the endpoint runner (batchendpoint.cpp) share:
// the work list, the results file (ResultsFile: resume keys, one atomic write + fsync per line), the
// progress line, and the stop flag of the SIGINT handler.
//
// A result line: {"file", "sha256", "settings", "answer", "finish_reason", "tokens": {prompt, image, text,
// completion}, "timings": {...}, "error"}. The resume key is (file, sha256, settings): a rerun skips an image
// whose line exists with the same content hash and the same settings id (prompt, model, sampling).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "llava/sampler.h"
#include "llava/status.h"

namespace cli {

// 0: run; 1: finish what is running, start nothing new; 2: stop now.
extern std::atomic<int> g_batchStop;
void installBatchSignalHandler();

struct BatchItem {
    std::string file;  // as listed (DIR/name, or the list file's line resolved against its folder)
};

// DIR: its image files (png, jpg, jpeg, webp, bmp, gif), sorted by name, not recursive.
// LIST: a text file with one path per line ('#' comments and empty lines skipped).
llava::Result<std::vector<BatchItem>> listBatchImages(const std::string& imagesArg);

// Hex sha256 of a file's bytes, and the bytes.
llava::Result<std::pair<std::string, std::string>> readAndHash(const std::string& path);

// The settings that change an answer, and their id (16 hex digits of the sha256 of their canonical JSON).
nlohmann::json batchSettingsJson(const std::string& prompt, const std::string& modelId, const llava::SamplingParams& s);
std::string batchSettingsId(const nlohmann::json& settings);

class ResultsFile {
public:
    // Opens (creates) `path` for appending; reads the keys of complete lines. A torn last line (no final
    // newline: the machine stopped mid-write) is cut off; unreadable lines are counted and ignored.
    static llava::Result<ResultsFile> open(const std::string& path);
    ResultsFile(ResultsFile&& other) noexcept;
    ResultsFile& operator=(ResultsFile&&) = delete;
    ~ResultsFile();

    bool done(const std::string& file, const std::string& sha256, const std::string& settings) const;
    // One write() of the whole line + "\n", then fsync: after a crash the line is there or not at all.
    llava::Status append(const nlohmann::json& line);
    int unreadableLines() const { return m_unreadable; }
    bool cutTornLine() const { return m_cutTorn; }

private:
    ResultsFile() = default;
    int m_fd = -1;
    std::string m_path;
    std::set<std::tuple<std::string, std::string, std::string>> m_done;
    int m_unreadable = 0;
    bool m_cutTorn = false;
};

// "[=====>      ] 12/100  ok 11  err 1  3.4 s/img  ETA 5m02s" on stderr (\r-updated on a terminal,
// one line per item otherwise).
class BatchProgress {
public:
    explicit BatchProgress(int total);
    void itemSkipped() { ++m_skipped; }
    void itemFinished(const std::string& file, bool ok);
    void finish();
    int processed() const { return m_ok + m_errors; }
    int skipped() const { return m_skipped; }
    int errors() const { return m_errors; }

private:
    void draw(const std::string& file);
    int m_total;
    int m_skipped = 0;
    int m_ok = 0, m_errors = 0;
    bool m_tty;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

struct BatchJob {
    std::string prompt;
    std::string settingsId;
    llava::SamplingParams sampling;
    std::vector<BatchItem> items;  // all listed images (skipping happens while running)
};

// The endpoint runner (batchendpoint.cpp): POSTs each image to URL/v1/chat/completions, `concurrency` at a time.
struct EndpointOptions {
    std::string url;  // "http://127.0.0.1:8080" (with or without /v1)
    std::string apiKey;
    std::string modelId;  // empty: the first model of GET /v1/models
    int concurrency = 1;
    int timeoutSeconds = 600;
};
// The model id the endpoint serves (GET /v1/models) when none was given.
llava::Result<std::string> resolveEndpointModel(const EndpointOptions& options);
llava::Status runBatchOnEndpoint(const EndpointOptions& options, const BatchJob& job, ResultsFile& results);

}  // namespace cli
