// tst_machineceilings: the machine ceilings of the stage waterfall (llava/machineceilings.h).
//  - the cache: a measurement is written and read back field for field without measuring again; a corrupt,
//    truncated, implausible, oversized or other-format file is measured again (and then replaced by a good
//    one), as is a file for another CPU or thread count; a cache that cannot be written still returns the
//    measurement. A fake measurer counts the calls, so these are fast and exact.
//  - the real measurer: positive finite copy bandwidth and GEMM rate, the effective thread count, the CPU
//    name, an ISO time; through the cache it runs once and the second call reads the file. (How fast it is
//    is printed, not asserted: speed belongs in bench/.)
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "llava/machineceilings.h"

namespace {
const std::string kCpu = "Test CPU @ 3.0GHz";

struct FakeMeasurer {
    int calls = 0;
    double copy = 12.5, gemm = 81.25;
    llava::CeilingsMeasurer fn() {
        return [this](int threads) -> llava::Result<llava::MachineCeilings> {
            ++calls;
            llava::MachineCeilings c;
            c.copyGBs = copy + calls;  // each measurement differs, so a re-read is told from a re-measure
            c.gemmGflops = gemm + calls;
            c.threads = threads;
            c.cpu = "ignored: the cache sets the key";
            c.measuredAt = "2026-12-03T17:30:0" + std::to_string(calls) + "Z";
            return c;
        };
    }
};

std::filesystem::path cacheIn(const QTemporaryDir& dir) { return std::filesystem::path(dir.path().toStdString()) / "sub" / "ceilings.json"; }

void writeFile(const std::filesystem::path& path, const QByteArray& bytes) {
    QDir().mkpath(QString::fromStdString(path.parent_path().string()));
    QFile f(QString::fromStdString(path.string()));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray goodFile(const std::string& cpu, int threads) {
    return QByteArray::fromStdString(R"({"format": 1, "cpu": ")" + cpu + R"(", "threads": )" + std::to_string(threads) +
                                     R"(, "copy_gb_s": 20.5, "gemm_gflop_s": 99.0, "measured_at": "2026-01-01T00:00:00Z"})");
}
}  // namespace

class TstMachineCeilings : public QObject {
    Q_OBJECT
private slots:
    void measuredOnceThenRead();
    void handWrittenFileIsRead();
    void corruptCacheRemeasures_data();
    void corruptCacheRemeasures();
    void keyMismatchRemeasures_data();
    void keyMismatchRemeasures();
    void unwritableCacheStillMeasures();
    void realMeasurerSanity();
};

void TstMachineCeilings::measuredOnceThenRead() {
    QTemporaryDir dir;
    FakeMeasurer fake;
    auto first = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 3, fake.fn());
    QVERIFY(first.isOk());
    QVERIFY(first->measured);
    QCOMPARE(fake.calls, 1);
    QCOMPARE(first->ceilings.cpu, kCpu);
    QCOMPARE(first->ceilings.threads, 3);
    QCOMPARE(first->ceilings.copyGBs, 13.5);
    auto second = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 3, fake.fn());
    QVERIFY(second.isOk());
    QVERIFY(!second->measured);
    QCOMPARE(fake.calls, 1);
    // Field for field, exactly (doubles round-trip through the JSON text).
    QVERIFY(second->ceilings.copyGBs == first->ceilings.copyGBs);
    QVERIFY(second->ceilings.gemmGflops == first->ceilings.gemmGflops);
    QCOMPARE(second->ceilings.threads, first->ceilings.threads);
    QCOMPARE(second->ceilings.cpu, first->ceilings.cpu);
    QCOMPARE(second->ceilings.measuredAt, first->ceilings.measuredAt);
    QVERIFY(second->cacheNote.empty());
}

void TstMachineCeilings::handWrittenFileIsRead() {
    QTemporaryDir dir;
    writeFile(cacheIn(dir), goodFile(kCpu, 4));
    FakeMeasurer fake;
    auto got = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 4, fake.fn());
    QVERIFY(got.isOk());
    QCOMPARE(fake.calls, 0);
    QCOMPARE(got->ceilings.copyGBs, 20.5);
    QCOMPARE(got->ceilings.gemmGflops, 99.0);
    QCOMPARE(got->ceilings.measuredAt, std::string("2026-01-01T00:00:00Z"));
}

void TstMachineCeilings::corruptCacheRemeasures_data() {
    QTest::addColumn<QByteArray>("content");
    const QByteArray good = goodFile(kCpu, 2);
    QTest::newRow("garbage") << QByteArray("\x01\x02not json at all\xff", 19);
    QTest::newRow("truncated") << good.left(good.size() / 2);
    QTest::newRow("empty object") << QByteArray("{}");
    QTest::newRow("an array") << QByteArray("[1,2]");
    QTest::newRow("other format") << QByteArray(good).replace(R"("format": 1)", R"("format": 2)");
    QTest::newRow("no format") << QByteArray(good).replace(R"("format": 1,)", "");
    QTest::newRow("rate a string") << QByteArray(good).replace("20.5", R"("20.5")");
    QTest::newRow("rate negative") << QByteArray(good).replace("20.5", "-20.5");
    QTest::newRow("rate zero") << QByteArray(good).replace("99.0", "0");
    QTest::newRow("rate absurd") << QByteArray(good).replace("99.0", "1e300");
    QTest::newRow("rate missing") << QByteArray(good).replace(R"("gemm_gflop_s": 99.0,)", "");
    QTest::newRow("threads zero") << QByteArray(good).replace(R"("threads": 2)", R"("threads": 0)");
    QTest::newRow("threads fractional") << QByteArray(good).replace(R"("threads": 2)", R"("threads": 2.5)");
    QTest::newRow("duplicate key") << QByteArray(good).replace(R"("format": 1,)", R"("format": 1, "format": 1,)");
    QTest::newRow("huge file") << good + QByteArray(100 * 1024, ' ');
    QTest::newRow("deep nesting") << QByteArray(100000, '[');
}

void TstMachineCeilings::corruptCacheRemeasures() {
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    writeFile(cacheIn(dir), content);
    FakeMeasurer fake;
    auto got = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 2, fake.fn());
    QVERIFY(got.isOk());
    QVERIFY(got->measured);
    QCOMPARE(fake.calls, 1);
    QVERIFY2(!got->cacheNote.empty(), "the reason the file was not used is reported");
    // The bad file was replaced by a good one: the next call reads it.
    auto again = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 2, fake.fn());
    QVERIFY(again.isOk() && !again->measured);
    QCOMPARE(fake.calls, 1);
    QVERIFY(again->ceilings.copyGBs == got->ceilings.copyGBs);
}

void TstMachineCeilings::keyMismatchRemeasures_data() {
    QTest::addColumn<QString>("cachedCpu");
    QTest::addColumn<int>("cachedThreads");
    QTest::newRow("other CPU") << QStringLiteral("Other CPU") << 2;
    QTest::newRow("other thread count") << QString::fromStdString(kCpu) << 8;
    QTest::newRow("CPU name a prefix") << QStringLiteral("Test CPU") << 2;
}

void TstMachineCeilings::keyMismatchRemeasures() {
    QFETCH(QString, cachedCpu);
    QFETCH(int, cachedThreads);
    QTemporaryDir dir;
    writeFile(cacheIn(dir), goodFile(cachedCpu.toStdString(), cachedThreads));
    FakeMeasurer fake;
    auto got = llava::cachedMachineCeilings(cacheIn(dir), kCpu, 2, fake.fn());
    QVERIFY(got.isOk());
    QVERIFY(got->measured);
    QCOMPARE(fake.calls, 1);
    QCOMPARE(got->ceilings.copyGBs, 13.5);  // the fake's, not the file's 20.5
    QCOMPARE(got->ceilings.threads, 2);
    // The file now holds this key.
    QFile f(QString::fromStdString(cacheIn(dir).string()));
    QVERIFY(f.open(QIODevice::ReadOnly));
    auto stored = llava::ceilingsFromJson(f.readAll().toStdString());
    QVERIFY(stored.isOk());
    QCOMPARE(stored->cpu, kCpu);
    QCOMPARE(stored->threads, 2);
}

void TstMachineCeilings::unwritableCacheStillMeasures() {
    QTemporaryDir dir;
    // The cache's folder is a file: nothing can be written under it.
    writeFile(std::filesystem::path(dir.path().toStdString()) / "blocked", "x");
    const auto path = std::filesystem::path(dir.path().toStdString()) / "blocked" / "ceilings.json";
    FakeMeasurer fake;
    auto got = llava::cachedMachineCeilings(path, kCpu, 2, fake.fn());
    QVERIFY(got.isOk());
    QVERIFY(got->measured);
    QCOMPARE(got->ceilings.copyGBs, 13.5);
    QVERIFY2(got->cacheNote.find("cannot") != std::string::npos, got->cacheNote.c_str());
}

void TstMachineCeilings::realMeasurerSanity() {
    QTemporaryDir dir;
    int calls = 0;
    auto counting = [&calls](int threads) {
        ++calls;
        return llava::measureMachineCeilings(threads);
    };
    QElapsedTimer timer;
    timer.start();
    const int threads = llava::cpuBackendThreads(2);
    auto first = llava::cachedMachineCeilings(cacheIn(dir), llava::cpuModelName(), threads, counting);
    const qint64 ms = timer.elapsed();
    QVERIFY2(first.isOk(), first.isOk() ? "" : first.status().message().c_str());
    const llava::MachineCeilings& c = first->ceilings;
    qInfo("measured in %lld ms: copy %.2f GB/s, GEMM %.2f GFLOP/s, %d threads, %s", ms, c.copyGBs, c.gemmGflops, c.threads,
          c.cpu.c_str());
    QVERIFY(std::isfinite(c.copyGBs) && c.copyGBs > 0);
    QVERIFY(std::isfinite(c.gemmGflops) && c.gemmGflops > 0);
    QCOMPARE(c.threads, threads);
    QVERIFY(!c.cpu.empty());
    QVERIFY2(QRegularExpression(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"))
                 .match(QString::fromStdString(c.measuredAt))
                 .hasMatch(),
             c.measuredAt.c_str());
    QCOMPARE(calls, 1);
    auto second = llava::cachedMachineCeilings(cacheIn(dir), llava::cpuModelName(), threads, counting);
    QVERIFY(second.isOk() && !second->measured);
    QCOMPARE(calls, 1);  // measured once
    QVERIFY(second->ceilings.gemmGflops == c.gemmGflops);
    // The yardsticks on their own agree with their definition: bytes read + written over time.
    auto copy = llava::measureCopyBandwidthGBs(threads, std::size_t{8} << 20, 2);
    QVERIFY(copy.isOk() && std::isfinite(*copy) && *copy > 0);
    QVERIFY(!llava::measureCopyBandwidthGBs(4, 2, 1).isOk());  // fewer bytes than threads
    QVERIFY(!llava::measureGemmGflops(threads, 0, 8, 8, 1).isOk());
}

QTEST_GUILESS_MAIN(TstMachineCeilings)
#include "tst_machineceilings.moc"
