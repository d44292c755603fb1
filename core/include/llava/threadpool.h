// A small fixed-size thread pool for data-parallel loops (the CPU backend's matmuls and attention).
// parallelFor splits [0, n) into contiguous chunks, runs them on the workers and the calling thread,
// and returns when all are done. One parallelFor at a time (the backend is single-threaded by contract).
// Owned by its user (the CPU backend); no global pool.
#pragma once

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
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(std::int64_t, std::int64_t, int)>* m_job = nullptr;
    std::int64_t m_n = 0, m_chunk = 0;
    int m_chunks = 0;
    std::uint64_t m_generation = 0;
    int m_pending = 0;
    bool m_stop = false;
};

}  // namespace llava
