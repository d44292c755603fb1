// The memory-bandwidth yardstick of the CPU benchmarks: a STREAM-like copy of `bytes` split over `threads`
// threads, one warm-up (page faults) then the best of `reps`; bytes read + bytes written per second, in GB/s.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

inline double copyBandwidthGBs(int threads, std::size_t bytes, int reps) {
    std::vector<char> a(bytes, 1), c(bytes, 0);
    auto copy = [&] {
        std::vector<std::thread> pool;
        const std::size_t chunk = bytes / static_cast<std::size_t>(threads);
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                const std::size_t off = chunk * static_cast<std::size_t>(t);
                std::memcpy(c.data() + off, a.data() + off, chunk);
            });
        for (auto& th : pool) th.join();
    };
    copy();
    double seconds = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        copy();
        seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * static_cast<double>(bytes) / seconds / 1e9;
}
