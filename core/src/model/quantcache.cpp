// Quantised-weight cache (quantcache.h): key, file format, parallel streaming writer, verified reader.
#include "model/quantcache.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/cpu/cpukernels.h"
#include "llava/tensor.h"

namespace llava {
namespace {

constexpr char kMagic[8] = {'L', 'L', 'V', 'Q', 'C', 'A', 'C', 'H'};
constexpr std::uint64_t kAlign = 4096;
constexpr std::uint32_t kMaxEntries = 1u << 20;   // far above any LLaVA checkpoint's tensor count
constexpr std::uint64_t kMaxNameBytes = 1024, kMaxKeyBytes = 1u << 20;

std::uint64_t alignUp(std::uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// 64-bit multiply-xor over 8-byte words (+ tail bytes): detects truncation, torn writes and bit rot; not
// cryptographic (the cache is the user's own file). Four independent lanes (words 4i, 4i+1, ...) so the
// multiply latency overlaps: ~4x the one-chain rate, which made verifying a q8 cache 0.5 s per GB (format v2).
std::uint64_t checksum(const std::byte* p, std::uint64_t n) {
    constexpr std::uint64_t kMul = 0xff51afd7ed558ccdull;
    std::uint64_t h[4] = {0x9e3779b97f4a7c15ull ^ n, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0x27d4eb2f165667c5ull};
    std::uint64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; ++l) {
            std::uint64_t w;
            std::memcpy(&w, p + i + 8 * l, 8);
            h[l] = (h[l] ^ w) * kMul;
            h[l] ^= h[l] >> 29;
        }
    std::uint64_t r = h[0];
    for (int l = 1; l < 4; ++l) {
        r = (r ^ h[l]) * kMul;
        r ^= r >> 29;
    }
    for (; i < n; ++i) r = (r ^ static_cast<std::uint8_t>(p[i])) * 0x100000001b3ull;
    return r ^ (r >> 32);
}

void dropRange(const std::byte* data, std::uint64_t bytes) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) / page * page;
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

class Writer {
public:
    void put(const void* p, std::size_t n) { m_bytes.append(static_cast<const char*>(p), n); }
    template <typename T>
    void value(T v) { put(&v, sizeof v); }
    std::string m_bytes;
};

class Reader {
public:
    Reader(const std::byte* p, std::uint64_t n) : m_p(p), m_n(n) {}
    bool get(void* out, std::uint64_t n) {
        if (n > m_n - m_pos) return false;
        std::memcpy(out, m_p + m_pos, n);
        m_pos += n;
        return true;
    }
    template <typename T>
    bool value(T* v) { return get(v, sizeof *v); }
    std::uint64_t pos() const { return m_pos; }

private:
    const std::byte* m_p;
    std::uint64_t m_n, m_pos = 0;
};

std::string header(const std::string& key, const std::vector<QuantCacheEntry>& entries) {
    Writer w;
    w.put(kMagic, sizeof kMagic);
    w.value<std::uint32_t>(kQuantCacheVersion);
    w.value<std::uint32_t>(static_cast<std::uint32_t>(entries.size()));
    w.value<std::uint64_t>(key.size());
    w.put(key.data(), key.size());
    for (const auto& e : entries) {
        w.value<std::uint32_t>(static_cast<std::uint32_t>(e.name.size()));
        w.put(e.name.data(), e.name.size());
        w.value<std::uint8_t>(static_cast<std::uint8_t>(e.format));
        w.value<std::uint8_t>(static_cast<std::uint8_t>(e.shape.size()));
        for (const auto d : e.shape) w.value<std::int64_t>(d);
        w.value<std::uint64_t>(e.offset);
        w.value<std::uint64_t>(e.bytes);
        w.value<std::uint64_t>(e.checksum);
    }
    const std::uint64_t sum = checksum(reinterpret_cast<const std::byte*>(w.m_bytes.data()), w.m_bytes.size());
    w.value<std::uint64_t>(sum);
    return w.m_bytes;
}

// The entries (names, formats, shapes, offsets) the cache of this checkpoint at this precision must hold.
Result<std::vector<QuantCacheEntry>> planEntries(const Checkpoint& checkpoint, WeightPrecision precision,
                                                 std::uint64_t dataStart, std::vector<const TensorView*>* sources) {
    std::vector<const TensorView*> views = checkpoint.tensors();
    std::sort(views.begin(), views.end(), [](const TensorView* a, const TensorView* b) { return a->name < b->name; });
    std::vector<QuantCacheEntry> entries;
    std::uint64_t offset = dataStart;
    for (const TensorView* v : views) {
        auto plan = planWeightUpload(*v, precision, "quantised-weight cache");
        if (!plan.isOk()) continue;  // the upload reports it
        if (plan->target != StorageFormat::Q8PerChannel && plan->target != StorageFormat::Q4Group128) continue;
        QuantCacheEntry e;
        e.name = v->name;
        e.format = plan->target;
        e.shape = plan->shape;
        e.bytes = storageBytes(e.format, e.shape[0], e.shape[1]);
        e.offset = offset;
        offset = alignUp(offset + e.bytes);
        entries.push_back(std::move(e));
        if (sources) sources->push_back(v);
    }
    return entries;
}

}  // namespace

Status quantiseTensor(const TensorView& view, StorageFormat target, std::byte* dst) {
    LLAVA_ASSIGN_OR_RETURN(const WeightUploadPlan plan, planWeightUpload(view, WeightPrecision::AsStored, "quantise"));
    if (plan.shape.size() != 2)
        return makeError(ErrorCode::InvalidArgument, "quantise: weight " + view.name + " is not a matrix");
    const std::int64_t rows = plan.shape[0], cols = plan.shape[1];
    std::vector<float> f(static_cast<std::size_t>(rows * cols));  // (rows, cols) fp32 staging, one tensor
    cpu::decodeElements(plan.stored, view.data, 0, rows * cols, f.data());
    if (target == StorageFormat::Q8PerChannel) cpu::quantiseQ8(f.data(), rows, cols, dst);
    else if (target == StorageFormat::Q4Group128 && cols % 128 == 0) cpu::quantiseQ4(f.data(), rows, cols, dst);
    else return makeError(ErrorCode::InvalidArgument, "quantise: weight " + view.name + " has no quantised form");
    return Status::ok();
}

std::string quantCacheKey(const Checkpoint& checkpoint, WeightPrecision precision) {
    std::string key = "llava-insight quantised weights v" + std::to_string(kQuantCacheVersion) + " precision " +
                      std::string(weightPrecisionName(precision)) + "\n";
    std::vector<std::filesystem::path> shards;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(checkpoint.directory(), ec))
        if (entry.path().extension() == ".safetensors") shards.push_back(entry.path());
    std::sort(shards.begin(), shards.end());
    for (const auto& p : shards) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) continue;
        const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        key += p.filename().string() + " " + std::to_string(st.st_size) + " " + std::to_string(mtime) + "\n";
    }
    return key;
}

std::vector<std::filesystem::path> quantCachePaths(const Checkpoint& checkpoint, WeightPrecision precision,
                                                   const QuantCacheOptions& options) {
    const std::string file = "llava-insight-" + std::string(weightPrecisionName(precision)) + ".qcache";
    const auto& dir = checkpoint.directory();
    std::vector<std::filesystem::path> paths;
    if (::access(dir.c_str(), W_OK) == 0) paths.push_back(dir / file);
    if (!options.fallbackDir.empty()) {
        std::error_code ec;
        const auto abs = std::filesystem::absolute(dir, ec).lexically_normal().string();
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(
                                                      checksum(reinterpret_cast<const std::byte*>(abs.data()), abs.size())));
        paths.push_back(options.fallbackDir / hex / file);
    }
    return paths;
}

Result<std::unique_ptr<QuantCache>> QuantCache::open(const std::filesystem::path& path, const std::string& key) {
    LLAVA_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::open(path));
    const std::string where = "quantised-weight cache " + path.string();
    auto bad = [&](const std::string& what) { return makeError(ErrorCode::ParseError, where + ": " + what); };
    const std::byte* base = file.bytes().data();
    const std::uint64_t size = file.size();
    Reader r(base, size);
    char magic[8];
    std::uint32_t version = 0, count = 0;
    std::uint64_t keyLen = 0;
    if (!r.get(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return bad("not a cache file (magic)");
    if (!r.value(&version) || version != kQuantCacheVersion)
        return bad("format version " + std::to_string(version) + ", expected " + std::to_string(kQuantCacheVersion));
    if (!r.value(&count) || count > kMaxEntries) return bad("entry count missing or too large");
    if (!r.value(&keyLen) || keyLen > kMaxKeyBytes) return bad("key missing or too long");
    std::string stored(keyLen, '\0');
    if (!r.get(stored.data(), keyLen)) return bad("truncated in the key");
    if (stored != key)
        return makeError(ErrorCode::FileChanged, where + ": made for other model files or another precision (stale)");
    std::unique_ptr<QuantCache> cache(new QuantCache(std::move(file)));
    for (std::uint32_t i = 0; i < count; ++i) {
        QuantCacheEntry e;
        std::uint32_t nameLen = 0;
        std::uint8_t format = 0, ndim = 0;
        if (!r.value(&nameLen) || nameLen > kMaxNameBytes) return bad("entry " + std::to_string(i) + ": bad name");
        e.name.resize(nameLen);
        if (!r.get(e.name.data(), nameLen) || !r.value(&format) || !r.value(&ndim) || ndim != 2)
            return bad("entry " + std::to_string(i) + " truncated or not a matrix");
        e.shape.resize(2);
        if (!r.value(&e.shape[0]) || !r.value(&e.shape[1]) || !r.value(&e.offset) || !r.value(&e.bytes) ||
            !r.value(&e.checksum))
            return bad("entry " + e.name + " truncated");
        e.format = static_cast<StorageFormat>(format);
        if (e.format != StorageFormat::Q8PerChannel && e.format != StorageFormat::Q4Group128)
            return bad("entry " + e.name + ": format " + std::to_string(format) + " is not Q8/Q4");
        const auto expected = checkedStorageBytes(e.format, e.shape);
        if (e.shape[0] <= 0 || e.shape[1] <= 0 || !expected || *expected != e.bytes)
            return bad("entry " + e.name + ": byte size does not match its shape " + shapeToString(e.shape));
        if (e.offset % kAlign != 0 || e.offset > size || e.bytes > size - e.offset)
            return bad("entry " + e.name + " lies outside the file (" + std::to_string(size) + " bytes: truncated?)");
        cache->m_entries.push_back(std::move(e));
    }
    const std::uint64_t headerLen = r.pos();
    std::uint64_t headerSum = 0;
    if (!r.value(&headerSum) || headerSum != checksum(base, headerLen)) return bad("header checksum mismatch");
    for (const auto& e : cache->m_entries) {
        if (e.offset < r.pos()) return bad("entry " + e.name + " overlaps the header");
        if (checksum(base + e.offset, e.bytes) != e.checksum) return bad("data of " + e.name + " is corrupt (checksum)");
    }
    return cache;
}

const QuantCacheEntry* QuantCache::find(const std::string& name) const {
    for (const auto& e : m_entries)
        if (e.name == name) return &e;
    return nullptr;
}

void QuantCache::dropPages(const QuantCacheEntry& e) const { dropRange(data(e), e.bytes); }

Status writeQuantCache(const std::filesystem::path& path, const Checkpoint& checkpoint, WeightPrecision precision,
                       int threads, QuantCacheReport* report) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string key = quantCacheKey(checkpoint, precision);
    // The header's size does not depend on offsets/checksums (fixed-width fields): plan with a dummy start.
    std::vector<const TensorView*> sources;
    LLAVA_ASSIGN_OR_RETURN(std::vector<QuantCacheEntry> entries, planEntries(checkpoint, precision, 0, &sources));
    const std::uint64_t dataStart = alignUp(header(key, entries).size());
    sources.clear();
    LLAVA_ASSIGN_OR_RETURN(entries, planEntries(checkpoint, precision, dataStart, &sources));
    const std::uint64_t total = entries.empty() ? dataStart : alignUp(entries.back().offset + entries.back().bytes);

    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const auto tmp = path.string() + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return makeError(ErrorCode::IoError, "cannot create " + tmp + ": " + std::strerror(errno));
    struct Guard {  // closes the descriptor and removes the temporary file unless committed
        int fd; std::string tmp; bool keep = false;
        ~Guard() { ::close(fd); if (!keep) ::unlink(tmp.c_str()); }
    } guard{fd, tmp};
    if (::ftruncate(fd, static_cast<off_t>(total)) != 0)
        return makeError(ErrorCode::IoError, "cannot size " + tmp + ": " + std::strerror(errno));

    const int n = std::max(1, std::min<int>(threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency()),
                                            static_cast<int>(std::max<std::size_t>(entries.size(), 1))));
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<Status> errors(static_cast<std::size_t>(n), Status::ok());
    auto work = [&](int w) {
        std::vector<std::byte> out;  // one quantised tensor
        for (std::size_t i = next++; i < entries.size() && !failed; i = next++) {
            QuantCacheEntry& e = entries[i];
            out.resize(e.bytes);
            Status s = quantiseTensor(*sources[i], e.format, out.data());
            if (s.isOk()) {
                e.checksum = checksum(out.data(), e.bytes);
                std::uint64_t done = 0;
                while (done < e.bytes) {
                    const ssize_t k = ::pwrite(fd, out.data() + done, e.bytes - done, static_cast<off_t>(e.offset + done));
                    if (k <= 0) { s = makeError(ErrorCode::IoError, "cannot write " + tmp + ": " + std::strerror(errno)); break; }
                    done += static_cast<std::uint64_t>(k);
                }
            }
            dropRange(sources[i]->data, sources[i]->byteSize);  // streaming: the source pages are not needed again
            if (!s.isOk()) { errors[static_cast<std::size_t>(w)] = s; failed = true; }
        }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < n; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
    for (const auto& s : errors) LLAVA_TRY(s);

    const std::string head = header(key, entries);
    if (::pwrite(fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size()) || ::fsync(fd) != 0)
        return makeError(ErrorCode::IoError, "cannot write " + tmp + ": " + std::strerror(errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return makeError(ErrorCode::IoError, "cannot rename " + tmp + " to " + path.string() + ": " + std::strerror(errno));
    guard.keep = true;
    if (report) {
        report->buildSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report->sourceBytes = 0;
        for (const auto* v : sources) report->sourceBytes += static_cast<double>(v->byteSize);
    }
    return Status::ok();
}

std::unique_ptr<QuantCache> openOrBuildQuantCache(const Checkpoint& checkpoint, WeightPrecision precision,
                                                  const QuantCacheOptions& options, QuantCacheReport* report) {
    QuantCacheReport local;
    QuantCacheReport& rep = report ? *report : local;
    rep = {};
    if (!options.enabled || (precision != WeightPrecision::Q8 && precision != WeightPrecision::Q4)) return nullptr;
    const std::vector<std::filesystem::path> paths = quantCachePaths(checkpoint, precision, options);
    if (paths.empty()) {
        rep.writeError = "the model folder is not writable and no cache folder was given";
        return nullptr;
    }
    const std::string key = quantCacheKey(checkpoint, precision);
    auto planned = planEntries(checkpoint, precision, 0, nullptr);
    // A cache is used only when its entry table is exactly the planned one (names, formats, shapes).
    auto stale = [&](const QuantCache& c) -> std::string {
        if (!planned.isOk() || planned->size() != c.entries().size()) return "its tensors differ from the model's (stale)";
        for (const auto& p : *planned) {
            const QuantCacheEntry* e = c.find(p.name);
            if (!e || e->format != p.format || e->shape != p.shape) return "tensor " + p.name + " differs (stale)";
        }
        return {};
    };
    std::string reasons, writeErrors;
    for (const auto& path : paths) {
        rep.path = path;
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) {
            auto opened = QuantCache::open(path, key);
            if (opened.isOk()) {
                const std::string why = stale(**opened);
                if (why.empty()) {
                    rep.hit = true;
                    rep.invalidReason = reasons;
                    return std::move(*opened);
                }
                reasons += (reasons.empty() ? "" : "; ") + ("quantised-weight cache " + path.string() + ": " + why);
            } else {
                reasons += (reasons.empty() ? "" : "; ") + opened.status().message();
            }
        }
        Status written = writeQuantCache(path, checkpoint, precision, options.threads, &rep);
        if (written.isOk()) {
            auto fresh = QuantCache::open(path, key);
            if (fresh.isOk()) {
                rep.built = true;
                rep.invalidReason = reasons;
                rep.writeError = writeErrors;  // an earlier path that could not be written, if any
                return std::move(*fresh);
            }
            written = fresh.status();
        }
        writeErrors += (writeErrors.empty() ? "" : "; ") + written.message();
    }
    rep.invalidReason = reasons;
    rep.writeError = writeErrors;
    return nullptr;
}

std::string describeQuantCache(const QuantCacheReport& r) {
    std::string out;
    char text[160];
    if (r.hit) out = "read from " + r.path.string() + " (verified)";
    if (r.built) {
        std::snprintf(text, sizeof text, "quantised %.2f GB in %.2f s (%.2f GB/s), cached at ", r.sourceBytes / 1e9,
                      r.buildSeconds, r.buildSeconds > 0 ? r.sourceBytes / 1e9 / r.buildSeconds : 0.0);
        out = text + r.path.string();
    }
    if (!r.writeError.empty()) out += (out.empty() ? "not cached: " : "; could not write: ") + r.writeError;
    if (!r.invalidReason.empty()) out += (out.empty() ? "" : "; ") + ("previous cache not used: " + r.invalidReason);
    return out;
}

}  // namespace llava
