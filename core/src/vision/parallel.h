// parallelFor: split [0, n) into contiguous chunks over short-lived std::threads. The vision stage runs
// a few large, evenly sized loops per image, so a pool would buy nothing; the caller's thread takes
// the first chunk so one-thread runs spawn nothing.
#pragma once

#include <algorithm>
#include <thread>
#include <vector>

namespace llava::vision {

inline int resolveThreads(int maxThreads) {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return maxThreads <= 0 ? hw : std::min(maxThreads, hw);
}

// fn(begin, end) over disjoint ranges covering [0, n); at most `threads` ranges.
template <typename Fn>
void parallelFor(int n, int threads, Fn&& fn) {
    threads = std::max(1, std::min(threads, n));
    if (threads == 1) {
        if (n > 0) fn(0, n);
        return;
    }
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(threads - 1));
    auto chunkBegin = [&](int t) { return static_cast<int>(static_cast<long long>(n) * t / threads); };
    for (int t = 1; t < threads; ++t)
        workers.emplace_back([&fn, b = chunkBegin(t), e = chunkBegin(t + 1)] { fn(b, e); });
    fn(0, chunkBegin(1));
    for (auto& w : workers) w.join();
}

}  // namespace llava::vision
