// bench-cpu-gemmlibs: the CPU backend's own GEMM against tuned libraries on the GEMM-shaped products of
// LLaVA (a CLIP-L FFN matrix over one 577-token tile, a 512-token prefill chunk through a 2048 -> 5632
// decoder matrix), f32 compute, interleaved in one run so machine load hits all alike. Built only when
// CMake finds the libraries (OpenBLAS cblas_sgemm, oneDNN f32 matmul with weights reordered once to its
// preferred layout, as a product would do at load). Numbers go into docs/DEPENDENCIES.md.
// Usage: bench-cpu-gemmlibs [threads] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"

#ifdef LLAVA_BENCH_OPENBLAS
#include <cblas.h>
#endif
#ifdef LLAVA_BENCH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

using namespace llava;
using Clock = std::chrono::steady_clock;

namespace {

struct Contender {
    std::string name;
    std::function<void()> run;
    std::vector<double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : usableCpuCount();
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);  // oneDNN's OpenMP runtime, before first use
#ifdef LLAVA_BENCH_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    ThreadPool pool(threads);
    cpu::Scratch scratch;
    const cpu::CpuIsa isa = cpu::detectCpuIsa();
    std::printf("bench-cpu-gemmlibs: %d threads, own kernels %s, %d interleaved rounds (best | median)\n\n", threads,
                cpu::cpuIsaName(isa), rounds);
    std::printf("| product (M x N x K) | implementation | best GFLOP/s | median GFLOP/s |\n|---|---|---|---|\n");
    const std::int64_t shapes[][3] = {{577, 4096, 1024}, {512, 5632, 2048}};
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    auto uniform = [&] {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        return static_cast<float>(seed >> 40) / static_cast<float>(1ull << 24) - 0.5f;
    };
    for (const auto& sh : shapes) {
        const std::int64_t m = sh[0], n = sh[1], k = sh[2];
        std::vector<float> a(static_cast<std::size_t>(m * k)), w(static_cast<std::size_t>(n * k)), c(static_cast<std::size_t>(m * n));
        std::vector<std::uint16_t> w16(w.size());  // (n, k) F16, as the model stores it
        for (auto& v : a) v = uniform();
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = cpu::f16ToF32(w16[i] = cpu::f32ToF16(uniform() * 0.1f));
        std::vector<Contender> cs;
        cs.push_back({"own, f16 weights", [&] {
                          cpu::matmul(pool, scratch, isa, c.data(), a.data(), m,
                                      {StorageFormat::F16, reinterpret_cast<const std::byte*>(w16.data()), n, k}, nullptr, false);
                      }, {}});
        cs.push_back({"own, f32 weights", [&] {
                          cpu::matmul(pool, scratch, isa, c.data(), a.data(), m,
                                      {StorageFormat::F32, reinterpret_cast<const std::byte*>(w.data()), n, k}, nullptr, false);
                      }, {}});
#ifdef LLAVA_BENCH_OPENBLAS
        cs.push_back({"OpenBLAS sgemm", [&] {
                          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n),
                                      static_cast<int>(k), 1.0f, a.data(), static_cast<int>(k), w.data(), static_cast<int>(k),
                                      0.0f, c.data(), static_cast<int>(n));
                      }, {}});
#endif
#ifdef LLAVA_BENCH_DNNL
        using dt = dnnl::memory::data_type;
        using tag = dnnl::memory::format_tag;
        dnnl::engine eng(dnnl::engine::kind::cpu, 0);
        dnnl::stream st(eng);
        const dnnl::memory::desc aMd({m, k}, dt::f32, tag::ab), wUserMd({k, n}, dt::f32, tag::ba),
            wAnyMd({k, n}, dt::f32, tag::any), cMd({m, n}, dt::f32, tag::ab);
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aMd, wAnyMd, cMd), eng);
        dnnl::memory aMem(aMd, eng, a.data()), cMem(cMd, eng, c.data()), wUser(wUserMd, eng, w.data());
        dnnl::memory wPacked(pd.weights_desc(), eng);
        dnnl::reorder(wUser, wPacked).execute(st, wUser, wPacked);  // once, as at model load
        st.wait();
        dnnl::matmul prim(pd);
        cs.push_back({"oneDNN matmul f32", [&] {
                          prim.execute(st, {{DNNL_ARG_SRC, aMem}, {DNNL_ARG_WEIGHTS, wPacked}, {DNNL_ARG_DST, cMem}});
                          st.wait();
                      }, {}});
#endif
        for (auto& ct : cs) ct.run();  // warm-up
        for (int r = 0; r < rounds; ++r)
            for (auto& ct : cs) {
                const auto t0 = Clock::now();
                ct.run();
                ct.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
            }
        const double flops = 2.0 * static_cast<double>(m * n * k);
        for (auto& ct : cs) {
            std::sort(ct.seconds.begin(), ct.seconds.end());
            std::printf("| %lld x %lld x %lld | %s | %.1f | %.1f |\n", static_cast<long long>(m), static_cast<long long>(n),
                        static_cast<long long>(k), ct.name.c_str(), flops / ct.seconds.front() / 1e9,
                        flops / ct.seconds[ct.seconds.size() / 2] / 1e9);
        }
    }
    return 0;
}
