// A small fixed-size thread pool for data-parallel loops (the CPU backend's matmuls and attention).
// parallelFor splits [0, n) into a few contiguous chunks per thread (at least `grain` long) that the workers
// and the calling thread claim from a shared counter, and returns when all are done. Claiming (rather than
// one fixed chunk per thread) keeps a loaded machine from stalling every op on its slowest, descheduled
// thread. One parallelFor at a time (the backend is single-threaded by contract). Dispatch is cheap: idle
// workers spin briefly on the counter before they sleep on a condition variable, so back-to-back ops (a
// decode step issues ~200) pay no wake-up latency while an idle pool costs no CPU.
// Owned by its user (the CPU backend); no global pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llava {

// CPUs this process may run on: min(std::thread::hardware_concurrency(), CPUs in the calling thread's
// affinity mask (sched_getaffinity: taskset, cgroup cpusets, container limits)), at least 1. More
// worker threads than this only time-slice one core among several spinning threads (1000 threads on 2
// cores took decode from ~24 700 to ~1 token/s).
int usableCpuCount();

class ThreadPool {
public:
    // Total threads including the caller; <= 0 -> usableCpuCount(). Callers clamp requests to
    // usableCpuCount() themselves (the CPU backend does, and says so in its BackendInfo::notice).
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return m_threads; }
    // fn(begin, end, threadIndex) over chunks of [0, n); chunks are at least `grain` long. A thread may run
    // several chunks (one after the other); threadIndex in [0, size()) identifies the running thread, so
    // per-thread scratch indexed by it is never shared.
    void parallelFor(std::int64_t n, std::int64_t grain,
                     const std::function<void(std::int64_t, std::int64_t, int)>& fn);

private:
    void workerLoop(int index);
    void runChunks(std::uint64_t generation, int index);

    int m_threads = 1;
    std::vector<std::thread> m_workers;
    std::mutex m_mutex;                  // guards sleeping/waking only
    std::condition_variable m_wake;
    std::condition_variable m_done;
    // The job: written by parallelFor before it publishes m_work, read only after claiming a chunk of it.
    const std::function<void(std::int64_t, std::int64_t, int)>* m_job = nullptr;
    std::int64_t m_n = 0, m_chunk = 0;
    // (generation: 24 bits | chunk count: 20 bits | next unclaimed chunk: 20 bits), one atomic word so a
    // claim (compare-exchange) proves the job it belongs to is still current.
    std::atomic<std::uint64_t> m_work{0};
    std::atomic<std::int64_t> m_completed{0};  // chunks of the current job finished
    std::atomic<bool> m_stop{false};
    std::uint64_t m_generation = 0;      // caller only
    int m_sleepingWorkers = 0;           // under m_mutex
    bool m_callerSleeping = false;       // under m_mutex
};

}  // namespace llava
