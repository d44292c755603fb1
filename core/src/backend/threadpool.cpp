// ThreadPool: a parallelFor publishes the job and then one atomic word (generation, chunk count, next chunk).
// Every participant (workers + caller) claims chunks by compare-exchange on that word until none are left;
// a successful claim proves the job has not changed, and the caller does not return (or publish the next
// job) before every chunk is finished, so the job fields stay valid while a claimed chunk runs. A worker
// that wakes late finds nothing left and goes back to waiting; the caller never waits for idle workers.
// Idle workers spin for kSpinRounds polls before sleeping on the condition variable; the spin is short
// because these machines are often shared and a spinning thread can steal the core a lagging one needs.
#include "llava/threadpool.h"

#include <algorithm>

#if defined(__linux__)
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLAVA_SPIN_PAUSE() _mm_pause()
#else
#define LLAVA_SPIN_PAUSE() std::this_thread::yield()
#endif

namespace llava {
namespace {
constexpr int kSpinRounds = 4000;          // ~ 50-100 microseconds of polling
constexpr std::int64_t kChunksPerThread = 4;
constexpr std::uint64_t kFieldMask = (1u << 20) - 1;

std::uint64_t generationOf(std::uint64_t work) { return work >> 40; }
std::uint64_t chunksOf(std::uint64_t work) { return (work >> 20) & kFieldMask; }
std::uint64_t nextOf(std::uint64_t work) { return work & kFieldMask; }
}  // namespace

int usableCpuCount() {
    int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::min(cpus, std::max(1, CPU_COUNT(&set)));
#endif
    return cpus;
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = usableCpuCount();
    m_threads = threads;
    for (int i = 1; i < m_threads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop.store(true, std::memory_order_release);
    }
    m_wake.notify_all();
    for (auto& worker : m_workers) worker.join();
}

void ThreadPool::runChunks(std::uint64_t generation, int index) {
    for (;;) {
        std::uint64_t work = m_work.load(std::memory_order_acquire);
        if (generationOf(work) != generation || nextOf(work) >= chunksOf(work)) return;
        if (!m_work.compare_exchange_weak(work, work + 1, std::memory_order_acq_rel)) continue;
        const std::int64_t chunks = static_cast<std::int64_t>(chunksOf(work));
        const std::int64_t begin = static_cast<std::int64_t>(nextOf(work)) * m_chunk;
        const std::int64_t end = std::min(m_n, begin + m_chunk);
        if (begin < end) (*m_job)(begin, end, index);
        if (m_completed.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
            std::lock_guard lock(m_mutex);
            if (m_callerSleeping) m_done.notify_one();
        }
    }
}

void ThreadPool::workerLoop(int index) {
    std::uint64_t seen = 0;
    for (;;) {
        std::uint64_t generation = generationOf(m_work.load(std::memory_order_acquire));
        for (int spin = 0; generation == seen && spin < kSpinRounds && !m_stop.load(std::memory_order_relaxed); ++spin) {
            LLAVA_SPIN_PAUSE();
            generation = generationOf(m_work.load(std::memory_order_acquire));
        }
        if (generation == seen) {
            std::unique_lock lock(m_mutex);
            ++m_sleepingWorkers;
            m_wake.wait(lock, [&] {
                return m_stop.load(std::memory_order_acquire) ||
                       generationOf(m_work.load(std::memory_order_acquire)) != seen;
            });
            --m_sleepingWorkers;
            generation = generationOf(m_work.load(std::memory_order_acquire));
        }
        if (m_stop.load(std::memory_order_acquire)) return;
        seen = generation;
        runChunks(generation, index);
    }
}

void ThreadPool::parallelFor(std::int64_t n, std::int64_t grain,
                             const std::function<void(std::int64_t, std::int64_t, int)>& fn) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    const std::int64_t maxChunks = std::max<std::int64_t>(1, n / grain);
    std::int64_t chunks = std::min<std::int64_t>(m_threads * kChunksPerThread, maxChunks);
    if (chunks <= 1 || m_workers.empty()) {
        fn(0, n, 0);
        return;
    }
    chunks = std::min<std::int64_t>(chunks, static_cast<std::int64_t>(kFieldMask));
    const std::int64_t chunk = (n + chunks - 1) / chunks;
    chunks = (n + chunk - 1) / chunk;  // no empty chunks
    m_job = &fn;
    m_n = n;
    m_chunk = chunk;
    m_completed.store(0, std::memory_order_relaxed);
    const std::uint64_t generation = m_generation = (m_generation + 1) & ((std::uint64_t{1} << 24) - 1);
    bool wake;
    {
        std::lock_guard lock(m_mutex);
        m_work.store((generation << 40) | (static_cast<std::uint64_t>(chunks) << 20), std::memory_order_release);
        wake = m_sleepingWorkers > 0;
    }
    if (wake) m_wake.notify_all();
    runChunks(generation, 0);
    for (int spin = 0; m_completed.load(std::memory_order_acquire) != chunks && spin < kSpinRounds; ++spin)
        LLAVA_SPIN_PAUSE();
    if (m_completed.load(std::memory_order_acquire) != chunks) {
        std::unique_lock lock(m_mutex);
        m_callerSleeping = true;
        m_done.wait(lock, [&] { return m_completed.load(std::memory_order_acquire) == chunks; });
        m_callerSleeping = false;
    }
    m_job = nullptr;
}

}  // namespace llava
