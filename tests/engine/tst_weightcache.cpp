// Quantised-weight cache (core/src/model/quantcache.h) on the demo model (random weights; its CLIP fc2
// has 256 columns, so q4 has real Q4 groups as well as Q8 fallbacks). Guards against: a cache hit whose
// bytes differ from what the CPU backend's own quantisation gives (wrong offsets, order, format);
// corrupt, truncated, garbage, stale (shard rewritten) or wrong-precision caches being used or crashing;
// a cache that cannot be written beside the model not falling back to the cache folder; an engine that
// answers differently from a cache than from in-memory quantisation.
#include <QtTest>

#include <cstring>
#include <fstream>

#include "enginetesthelpers.h"
#include "llava/demomodel.h"
#include "llava/tensor.h"
#include "model/quantcache.h"

using namespace llava;
namespace fs = std::filesystem;

namespace {

void writeBytesAt(const fs::path& p, std::uint64_t offset, const std::vector<char>& bytes) {
    std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The CPU backend's own quantisation of `view` (the "fresh" reference the cache must reproduce bit for bit).
std::vector<std::byte> freshQuantised(Backend& backend, const TensorView& view, WeightPrecision precision,
                                      StorageFormat* format) {
    auto t = backend.uploadWeight(view, precision);
    if (!t.isOk()) return {};
    *format = t->format;
    std::vector<std::byte> out(storageBytes(t->format, t->rows(), t->cols()));
    if (!backend.download(*t, out.data(), out.size()).isOk()) out.clear();
    backend.release(*t);
    return out;
}

std::vector<std::int32_t> greedyIds(const fs::path& dir, WeightPrecision precision, bool cache, BackendReport* report) {
    EngineOptions options;
    options.backend = BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = 256;
    options.precision = precision;
    options.weightCache = cache;
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) {
        qWarning("%s", engine.status().toString().c_str());
        return {};
    }
    if (report) *report = (*engine)->backendReport();
    const auto r = test::replyRecorded((*engine)->session(), {"Tell me about the harbour.", {}}, test::greedy(12));
    return r.ids;
}

}  // namespace

class TestWeightCache : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

    fs::path freshDemo(const QString& name) {
        const fs::path dir = fs::path(m_tmp.path().toStdString()) / name.toStdString();
        auto info = writeDemoModel(dir);
        if (!info.isOk()) qWarning("%s", info.status().toString().c_str());
        return dir;
    }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void cacheHitIsBitIdenticalToFreshQuantisation_data() {
        QTest::addColumn<int>("precision");
        QTest::newRow("q8") << static_cast<int>(WeightPrecision::Q8);
        QTest::newRow("q4") << static_cast<int>(WeightPrecision::Q4);
    }
    void cacheHitIsBitIdenticalToFreshQuantisation() {
        QFETCH(int, precision);
        const auto p = static_cast<WeightPrecision>(precision);
        const fs::path dir = freshDemo(QStringLiteral("bits-%1").arg(precision));
        auto ckpt = Checkpoint::open(dir);
        QVERIFY2(ckpt.isOk(), ckpt.status().toString().c_str());
        QuantCacheOptions options;
        options.enabled = true;
        options.threads = 2;
        QuantCacheReport first, second;
        auto built = openOrBuildQuantCache(**ckpt, p, options, &first);
        QVERIFY2(built && first.built && !first.hit, describeQuantCache(first).c_str());
        QVERIFY(first.path == dir / ("llava-insight-" + std::string(weightPrecisionName(p)) + ".qcache"));
        built.reset();
        auto cache = openOrBuildQuantCache(**ckpt, p, options, &second);
        QVERIFY2(cache && second.hit && !second.built, describeQuantCache(second).c_str());

        auto backend = createCpuBackend(1);
        int q4 = 0, compared = 0;
        for (const TensorView* view : (*ckpt)->tensors()) {
            StorageFormat format{};
            const auto fresh = freshQuantised(*backend, *view, p, &format);
            const QuantCacheEntry* e = cache->find(view->name);
            if (format != StorageFormat::Q8PerChannel && format != StorageFormat::Q4Group128) {
                QVERIFY2(!e, view->name.c_str());  // only quantised matrices are cached
                continue;
            }
            QVERIFY2(e, ("not cached: " + view->name).c_str());
            QCOMPARE(static_cast<int>(e->format), static_cast<int>(format));
            QVERIFY(e->bytes == fresh.size());
            QVERIFY2(std::memcmp(cache->data(*e), fresh.data(), fresh.size()) == 0, view->name.c_str());
            q4 += format == StorageFormat::Q4Group128;
            ++compared;
        }
        QCOMPARE(compared, static_cast<int>(cache->entries().size()));
        QVERIFY(compared > 10);
        if (p == WeightPrecision::Q4) QVERIFY(q4 > 0);  // the CLIP fc2 matrices (256 columns)
    }

    // Bad caches are reported and rebuilt, never used and never a crash.
    void badCacheIsDetectedAndRebuilt_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("reason");
        QTest::newRow("flipped data byte") << "flip-data" << "corrupt (checksum)";
        QTest::newRow("flipped header byte") << "flip-header" << "";  // any header error
        QTest::newRow("truncated") << "truncate" << "outside the file";
        QTest::newRow("empty") << "empty" << "not a cache file";
        QTest::newRow("garbage") << "garbage" << "not a cache file";
        QTest::newRow("shard rewritten (mtime)") << "touch-shard" << "stale";
        QTest::newRow("other precision's file") << "other-precision" << "stale";
    }
    void badCacheIsDetectedAndRebuilt() {
        QFETCH(QString, damage);
        QFETCH(QString, reason);
        const fs::path dir = freshDemo("bad-" + damage);
        auto ckpt = Checkpoint::open(dir);
        QVERIFY2(ckpt.isOk(), ckpt.status().toString().c_str());
        QuantCacheOptions options;
        options.enabled = true;
        QuantCacheReport rep;
        auto cache = openOrBuildQuantCache(**ckpt, WeightPrecision::Q8, options, &rep);
        QVERIFY(cache && rep.built);
        const auto entry = cache->entries().back();
        std::vector<std::byte> good(cache->data(entry), cache->data(entry) + entry.bytes);
        cache.reset();
        const fs::path file = rep.path;
        const auto size = fs::file_size(file);
        const std::string d = damage.toStdString();
        if (d == "flip-data") writeBytesAt(file, entry.offset + entry.bytes / 2, {'\x5a'});
        if (d == "flip-header") writeBytesAt(file, 40, {'\x01', '\x02'});
        if (d == "truncate") fs::resize_file(file, size - 4096);
        if (d == "empty") fs::resize_file(file, 0);
        if (d == "garbage") writeBytesAt(file, 0, std::vector<char>(64, 'x'));
        std::unique_ptr<Checkpoint> reopened;
        if (d == "touch-shard") {
            const fs::path shard = dir / "model.safetensors";
            fs::last_write_time(shard, fs::last_write_time(shard) + std::chrono::seconds(5));
            auto again = Checkpoint::open(dir);  // the model as it is now on disk
            QVERIFY(again.isOk());
            reopened = std::move(*again);
        }
        if (d == "other-precision") {
            QuantCacheReport q4;
            auto other = openOrBuildQuantCache(**ckpt, WeightPrecision::Q4, options, &q4);
            QVERIFY(other && q4.built);
            other.reset();
            fs::rename(q4.path, file);
        }
        const Checkpoint& model = reopened ? *reopened : **ckpt;
        // The reader itself rejects it with a reason...
        auto direct = QuantCache::open(file, quantCacheKey(model, WeightPrecision::Q8));
        if (d != "other-precision" && d != "touch-shard") {
            QVERIFY(!direct.isOk());
            if (!reason.isEmpty()) QVERIFY2(direct.status().message().find(reason.toStdString()) != std::string::npos,
                                           direct.status().toString().c_str());
        }
        // ... and openOrBuild reports it, rebuilds, and the rebuilt bytes are the good ones.
        QuantCacheReport after;
        auto rebuilt = openOrBuildQuantCache(model, WeightPrecision::Q8, options, &after);
        QVERIFY2(rebuilt && after.built && !after.hit, describeQuantCache(after).c_str());
        QVERIFY2(!after.invalidReason.empty(), describeQuantCache(after).c_str());
        if (!reason.isEmpty())
            QVERIFY2(after.invalidReason.find(reason.toStdString()) != std::string::npos, after.invalidReason.c_str());
        QVERIFY(describeQuantCache(after).find("previous cache not used") != std::string::npos);
        const QuantCacheEntry* e = rebuilt->find(entry.name);
        QVERIFY(e);
        QVERIFY(std::memcmp(rebuilt->data(*e), good.data(), good.size()) == 0);
    }

    // Beside the model unusable (here: a directory squats on the cache's file name, which even root cannot
    // replace by rename) -> the cache folder is used; no fallback folder -> quantised in memory, reported.
    void unwritableBesideModelFallsBack() {
        const fs::path dir = freshDemo(QStringLiteral("readonly"));
        fs::create_directories(dir / "llava-insight-q8.qcache" / "occupied");
        auto ckpt = Checkpoint::open(dir);
        QVERIFY(ckpt.isOk());
        QuantCacheOptions options;
        options.enabled = true;
        QuantCacheReport none;
        QVERIFY(!openOrBuildQuantCache(**ckpt, WeightPrecision::Q8, options, &none));
        QVERIFY2(!none.writeError.empty(), describeQuantCache(none).c_str());
        QVERIFY(describeQuantCache(none).rfind("not cached: ", 0) == 0);

        options.fallbackDir = fs::path(m_tmp.path().toStdString()) / "cache-home";
        QuantCacheReport rep;
        auto cache = openOrBuildQuantCache(**ckpt, WeightPrecision::Q8, options, &rep);
        QVERIFY2(cache && rep.built, describeQuantCache(rep).c_str());
        QVERIFY(rep.path.parent_path().parent_path() == options.fallbackDir);
        QVERIFY(fs::exists(rep.path));
        cache.reset();
        QuantCacheReport again;
        QVERIFY(openOrBuildQuantCache(**ckpt, WeightPrecision::Q8, options, &again));
        QVERIFY2(again.hit && again.path == rep.path, describeQuantCache(again).c_str());
    }

    // Same greedy tokens with in-memory quantisation, a cache being built, and a cache hit; the report
    // says which happened.
    void engineAnswersIdenticallyFromCache_data() {
        QTest::addColumn<int>("precision");
        QTest::newRow("q8") << static_cast<int>(WeightPrecision::Q8);
        QTest::newRow("q4") << static_cast<int>(WeightPrecision::Q4);
    }
    void engineAnswersIdenticallyFromCache() {
        QFETCH(int, precision);
        const auto p = static_cast<WeightPrecision>(precision);
        const fs::path dir = freshDemo(QStringLiteral("engine-%1").arg(precision));
        BackendReport off, build, hit;
        const auto plain = greedyIds(dir, p, false, &off);
        QVERIFY(!plain.empty());
        QVERIFY(off.weightCache.empty());
        QVERIFY(greedyIds(dir, p, true, &build) == plain);
        QVERIFY2(build.weightCache.find("cached at") != std::string::npos, build.weightCache.c_str());
        QVERIFY(greedyIds(dir, p, true, &hit) == plain);
        QVERIFY2(hit.weightCache.rfind("read from", 0) == 0, hit.weightCache.c_str());
        // From the cache the CPU backend multiplies straight from its mapping: the quantised matrices move
        // from owned to mapped bytes, the total stays the same.
        QVERIFY(hit.memory.mappedWeightBytes > off.memory.mappedWeightBytes);
        QCOMPARE(hit.memory.weightBytes + hit.memory.mappedWeightBytes, off.memory.weightBytes + off.memory.mappedWeightBytes);
        QCOMPARE(build.memory.mappedWeightBytes, hit.memory.mappedWeightBytes);  // the first load maps the new file too
    }
};

QTEST_GUILESS_MAIN(TestWeightCache)
#include "tst_weightcache.moc"
