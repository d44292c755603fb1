// ThreadPool: workers sleep on a condition variable, a parallelFor bumps the generation counter, each
// participant (workers + caller) runs the chunk with its own index. Chunks are static (equal sizes):
// the ops we run have uniform cost per index, so work stealing would not pay for itself.
#include "llava/threadpool.h"

#include <algorithm>

namespace llava {

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    m_threads = threads;
    for (int i = 1; i < m_threads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& worker : m_workers) worker.join();
}

void ThreadPool::workerLoop(int index) {
    std::uint64_t seen = 0;
    for (;;) {
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
        if (m_stop) return;
        seen = m_generation;
        const auto* job = m_job;
        const std::int64_t n = m_n, chunk = m_chunk;
        const int chunks = m_chunks;
        lock.unlock();
        if (index < chunks) {
            const std::int64_t begin = index * chunk, end = std::min(n, begin + chunk);
            if (begin < end) (*job)(begin, end, index);
        }
        lock.lock();
        if (--m_pending == 0) m_done.notify_one();
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
    {
        std::lock_guard lock(m_mutex);
        m_job = &fn;
        m_n = n;
        m_chunk = chunk;
        m_chunks = chunks;
        m_pending = static_cast<int>(m_workers.size());
        ++m_generation;
    }
    m_wake.notify_all();
    fn(0, std::min(n, chunk), 0);
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending == 0; });
    m_job = nullptr;
}

}  // namespace llava
