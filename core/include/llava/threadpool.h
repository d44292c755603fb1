// A small fixed-size thread pool for data-parallel loops (the CPU backend's matmuls and attention).
// parallelFor splits [0, n) into one contiguous chunk per thread, runs them on the workers and the calling
// thread, and returns when all are done. One parallelFor at a time (the backend is single-threaded by
// contract). Dispatch is cheap: idle workers spin briefly on an atomic generation counter before they
// sleep on a condition variable, so back-to-back ops (a decode step issues ~200) pay no wake-up latency,
// while a pool left idle costs no CPU. Owned by its user (the CPU backend); no global pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llava {

class ThreadPool {
public:
    explicit ThreadPool(int threads);  // total threads including the caller; <= 0 -> hardware threads
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return m_threads; }
    // fn(begin, end, threadIndex) over chunks of [0, n); chunks are at least `grain` long.
    void parallelFor(std::int64_t n, std::int64_t grain,
                     const std::function<void(std::int64_t, std::int64_t, int)>& fn);

private:
    void workerLoop(int index);

    int m_threads = 1;
    std::vector<std::thread> m_workers;
    std::mutex m_mutex;                  // guards sleeping/waking only
    std::condition_variable m_wake;
    std::condition_variable m_done;
    // The job: written by parallelFor before the release-store of m_generation, read after its acquire-load.
    const std::function<void(std::int64_t, std::int64_t, int)>* m_job = nullptr;
    std::int64_t m_n = 0, m_chunk = 0;
    int m_chunks = 0;
    std::atomic<std::uint64_t> m_generation{0};
    std::atomic<int> m_pending{0};       // workers that have not yet finished the current generation
    std::atomic<bool> m_stop{false};
    int m_sleepingWorkers = 0;           // under m_mutex
    bool m_callerSleeping = false;       // under m_mutex
};

}  // namespace llava
