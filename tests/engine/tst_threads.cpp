// CPU thread count vs the hardware: more threads than CPUs only time-slice them (the defect: --threads
// 1000 on 2 cores took decode from ~24 700 to ~1 token/s and timed out). The CPU backend clamps to
// usableCpuCount() = min(hardware_concurrency, the process's affinity mask) and says so in
// BackendInfo::notice / BackendReport::notice (the CLI prints it as "backend note: threads 1000 clamped to 2").
// The affinity case pins this test thread to one CPU with sched_setaffinity (an independent reference:
// the kernel's mask), so it also runs on a 2-core CI machine.
#include <QtTest>

#include <sched.h>
#include <thread>

#include "llava/backend.h"
#include "llava/threadpool.h"

using namespace llava;

class TestThreads : public QObject {
    Q_OBJECT
private slots:
    void usableCpusFollowHardwareAndAffinity() {
        cpu_set_t set;
        CPU_ZERO(&set);
        QCOMPARE(sched_getaffinity(0, sizeof set, &set), 0);
        const int hardware = static_cast<int>(std::thread::hardware_concurrency());
        QCOMPARE(usableCpuCount(), std::min(hardware, CPU_COUNT(&set)));
    }

    void oversizedRequestIsClampedAndReported() {
        const int usable = usableCpuCount();
        auto backend = createCpuBackend(1000);
        const BackendInfo info = backend->info();
        QCOMPARE(info.threads, usable);
        QVERIFY2(info.notice.find("threads 1000 clamped to " + std::to_string(usable)) == 0, info.notice.c_str());
        // A request within the hardware is kept as is and reported without a notice.
        auto one = createCpuBackend(1);
        QCOMPARE(one->info().threads, 1);
        QVERIFY(one->info().notice.empty());
        auto all = createCpuBackend(0);  // 0 = every usable CPU, no notice
        QCOMPARE(all->info().threads, usable);
        QVERIFY(all->info().notice.empty());
    }

    void affinityMaskLimitsThreads() {
        cpu_set_t saved;
        CPU_ZERO(&saved);
        QCOMPARE(sched_getaffinity(0, sizeof saved, &saved), 0);
        int first = 0;
        while (!CPU_ISSET(first, &saved)) ++first;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(first, &one);
        QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);  // like `taskset -c <first>`
        const int usable = usableCpuCount();
        auto backend = createCpuBackend(4);
        const BackendInfo info = backend->info();
        QCOMPARE(sched_setaffinity(0, sizeof saved, &saved), 0);
        QCOMPARE(usable, 1);
        QCOMPARE(info.threads, 1);
        QVERIFY2(info.notice.find("threads 4 clamped to 1") == 0, info.notice.c_str());
    }
};

QTEST_GUILESS_MAIN(TestThreads)
#include "tst_threads.moc"
