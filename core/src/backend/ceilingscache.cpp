// See llava/machineceilings.h: the cache file of the measured ceilings.
// {"format": 1, "cpu": "...", "threads": 2, "copy_gb_s": 12.3, "gemm_gflop_s": 45.6, "measured_at": "..."}
// The file is untrusted (another version, a crash mid-write, a user's edit): read at most kMaxCacheBytes,
// parsed strictly, every value checked; anything else is "measure again", never an error.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "io/json.h"
#include "llava/machineceilings.h"

namespace llava {
namespace {

constexpr std::size_t kMaxCacheBytes = 64 * 1024;  // a real file is ~200 bytes
// Above any machine of this decade by far: a value past these is a corrupt file, not a fast machine.
constexpr double kMaxPlausibleGBs = 1e5;
constexpr double kMaxPlausibleGflops = 1e7;

Status corrupt(const std::string& why) { return makeError(ErrorCode::ParseError, "machine ceilings cache: " + why); }

bool plausible(double value, double max) { return std::isfinite(value) && value > 0 && value <= max; }

std::string readSmallFile(const std::filesystem::path& file, bool* tooBig) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::string text(kMaxCacheBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    *tooBig = text.size() > kMaxCacheBytes;
    return text;
}

// Temporary file + rename: a reader never sees half a file.
Status writeAtomically(const std::filesystem::path& file, const std::string& text) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    const std::filesystem::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) return makeError(ErrorCode::IoError, "cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return makeError(ErrorCode::IoError, "cannot replace " + file.string());
    }
    return Status::ok();
}
}  // namespace

std::string ceilingsToJson(const MachineCeilings& c) {
    const io::Json j = {{"format", kCeilingsFormatVersion}, {"cpu", c.cpu},           {"threads", c.threads},
                        {"copy_gb_s", c.copyGBs},         {"gemm_gflop_s", c.gemmGflops}, {"measured_at", c.measuredAt}};
    return j.dump(2, ' ', false, io::Json::error_handler_t::replace) + "\n";
}

Result<MachineCeilings> ceilingsFromJson(std::string_view text) {
    if (text.size() > kMaxCacheBytes) return corrupt("larger than " + std::to_string(kMaxCacheBytes) + " bytes");
    io::Json j;
    LLAVA_TRY(io::parseJsonStrict(text, &j, "machine ceilings cache"));
    if (!j.is_object()) return corrupt("not a JSON object");
    int format = 0;
    MachineCeilings c;
    LLAVA_TRY(io::readInt(j, "format", &format, "machine ceilings cache"));
    if (format != kCeilingsFormatVersion) return corrupt("format " + std::to_string(format) + ", expected " +
                                                         std::to_string(kCeilingsFormatVersion));
    for (const char* key : {"cpu", "threads", "copy_gb_s", "gemm_gflop_s", "measured_at"})
        if (!j.contains(key)) return corrupt(std::string("\"") + key + "\" missing");
    LLAVA_TRY(io::readString(j, "cpu", &c.cpu, "machine ceilings cache"));
    LLAVA_TRY(io::readInt(j, "threads", &c.threads, "machine ceilings cache"));
    LLAVA_TRY(io::readDouble(j, "copy_gb_s", &c.copyGBs, "machine ceilings cache"));
    LLAVA_TRY(io::readDouble(j, "gemm_gflop_s", &c.gemmGflops, "machine ceilings cache"));
    LLAVA_TRY(io::readString(j, "measured_at", &c.measuredAt, "machine ceilings cache"));
    if (c.threads <= 0) return corrupt("threads " + std::to_string(c.threads));
    if (!plausible(c.copyGBs, kMaxPlausibleGBs)) return corrupt("copy_gb_s not a plausible rate");
    if (!plausible(c.gemmGflops, kMaxPlausibleGflops)) return corrupt("gemm_gflop_s not a plausible rate");
    if (c.cpu.empty() || c.cpu.size() > 200 || c.measuredAt.size() > 64) return corrupt("cpu or measured_at malformed");
    return c;
}

Result<CachedCeilings> cachedMachineCeilings(const std::filesystem::path& cacheFile, const std::string& cpu, int threads,
                                             const CeilingsMeasurer& measure) {
    CachedCeilings out;
    bool tooBig = false;
    const std::string text = readSmallFile(cacheFile, &tooBig);
    if (!text.empty()) {
        auto cached = tooBig ? Result<MachineCeilings>(corrupt("file too large")) : ceilingsFromJson(text);
        if (!cached.isOk()) {
            out.cacheNote = cached.status().message();
        } else if (cached->cpu != cpu || cached->threads != threads) {
            out.cacheNote = "machine ceilings cache: measured for " + cached->cpu + " with " + std::to_string(cached->threads) +
                            " threads; measuring for " + std::to_string(threads);
        } else {
            out.ceilings = std::move(*cached);
            return out;
        }
    }
    LLAVA_ASSIGN_OR_RETURN(out.ceilings, measure(threads));
    if (!plausible(out.ceilings.copyGBs, kMaxPlausibleGBs) || !plausible(out.ceilings.gemmGflops, kMaxPlausibleGflops))
        return makeError(ErrorCode::Internal, "machine ceilings: the measurement gave no plausible rate");
    out.ceilings.cpu = cpu;
    out.ceilings.threads = threads;
    out.measured = true;
    if (Status written = writeAtomically(cacheFile, ceilingsToJson(out.ceilings)); !written.isOk())
        out.cacheNote += (out.cacheNote.empty() ? "" : "; ") + written.message();
    return out;
}

Result<CachedCeilings> cachedMachineCeilings(const std::filesystem::path& cacheFile, int requestedThreads) {
    return cachedMachineCeilings(cacheFile, cpuModelName(), cpuBackendThreads(requestedThreads), measureMachineCeilings);
}

}  // namespace llava
