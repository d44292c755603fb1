// ThreadPool: a parallelFor publishes the job and bumps an atomic generation counter; workers that are
// spinning see it within a few hundred nanoseconds, workers that went to sleep (after kSpinRounds idle
// polls) are woken through the condition variable. Each participant (workers + caller) runs the chunk with
// its own index; the caller spins, then sleeps, until the pending counter reaches zero. Chunks are static
// (equal sizes): the ops we run have uniform cost per index, so work stealing would not pay for itself.
// The spin is short (~tens of microseconds) because these machines are often shared: a long spin would
// steal cores from other processes while the inference thread is between ops.
#include "llava/threadpool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLAVA_SPIN_PAUSE() _mm_pause()
#else
#define LLAVA_SPIN_PAUSE() std::this_thread::yield()
#endif

namespace llava {
namespace {
constexpr int kSpinRounds = 20000;  // pause ~ 10-140 cycles each: a few hundred microseconds at most
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
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

void ThreadPool::workerLoop(int index) {
    std::uint64_t seen = 0;
    for (;;) {
        std::uint64_t generation = m_generation.load(std::memory_order_acquire);
        for (int spin = 0; generation == seen && spin < kSpinRounds && !m_stop.load(std::memory_order_relaxed); ++spin) {
            LLAVA_SPIN_PAUSE();
            generation = m_generation.load(std::memory_order_acquire);
        }
        if (generation == seen) {
            std::unique_lock lock(m_mutex);
            ++m_sleepingWorkers;
            m_wake.wait(lock, [&] {
                return m_stop.load(std::memory_order_acquire) || m_generation.load(std::memory_order_acquire) != seen;
            });
            --m_sleepingWorkers;
            generation = m_generation.load(std::memory_order_acquire);
        }
        if (m_stop.load(std::memory_order_acquire)) return;
        seen = generation;
        // Every worker acknowledges every generation (even without a chunk), so none can skip one and read
        // the next job's fields while the caller is writing them.
        if (index < m_chunks) {
            const std::int64_t begin = index * m_chunk, end = std::min(m_n, begin + m_chunk);
            if (begin < end) (*m_job)(begin, end, index);
        }
        if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(m_mutex);
            if (m_callerSleeping) m_done.notify_one();
        }
    }
}

void ThreadPool::parallelFor(std::int64_t n, std::int64_t grain,
                             const std::function<void(std::int64_t, std::int64_t, int)>& fn) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    const std::int64_t maxChunks = std::max<std::int64_t>(1, n / grain);
    const int chunks = static_cast<int>(std::min<std::int64_t>(m_threads, maxChunks));
    if (chunks <= 1 || m_workers.empty()) {
        fn(0, n, 0);
        return;
    }
    const std::int64_t chunk = (n + chunks - 1) / chunks;
    m_job = &fn;
    m_n = n;
    m_chunk = chunk;
    m_chunks = chunks;
    m_pending.store(static_cast<int>(m_workers.size()), std::memory_order_relaxed);
    bool wake;
    {
        std::lock_guard lock(m_mutex);
        m_generation.fetch_add(1, std::memory_order_release);
        wake = m_sleepingWorkers > 0;
    }
    if (wake) m_wake.notify_all();
    fn(0, std::min(n, chunk), 0);
    for (int spin = 0; m_pending.load(std::memory_order_acquire) != 0 && spin < kSpinRounds; ++spin) LLAVA_SPIN_PAUSE();
    if (m_pending.load(std::memory_order_acquire) != 0) {
        std::unique_lock lock(m_mutex);
        m_callerSleeping = true;
        m_done.wait(lock, [&] { return m_pending.load(std::memory_order_acquire) == 0; });
        m_callerSleeping = false;
    }
    m_job = nullptr;
}

}  // namespace llava
