// Helpers for CUDA-vs-CPU parity tests: the same inputs uploaded to both backends, outputs with guard
// rows after them (sentinel bytes that must survive the op: stray writes past the end), NMSE and max
// abs error printed for every comparison, PASS/FAIL with the tolerance, so one GPU run's log says
// everything. Setup failures are recorded as failed checks in the case's Context (gpucheck.h), so one
// broken case does not end the run. Header-only, test code only.
#pragma once

#include <cmath>
#include <cstring>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "backend/cpu/halfconv.h"
#include "gpu/gpucheck.h"
#include "llava/backend.h"
#include "llava/selfcheck.h"

namespace llava::test {

constexpr std::int64_t kGuardRows = 3;
constexpr std::uint32_t kSentinel = 0x7f7f7f7fu;  // 3.39e38: no op of ours produces it

inline std::vector<float> randomFloats(std::size_t n, std::uint64_t seed, float amplitude = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-amplitude, amplitude);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// Host bytes of `values` in F32/F16/BF16.
inline std::vector<std::byte> encode(const std::vector<float>& values, StorageFormat format) {
    const std::size_t size = format == StorageFormat::F32 ? 4 : 2;
    std::vector<std::byte> bytes(values.size() * size);
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (format == StorageFormat::F32) {
            std::memcpy(bytes.data() + 4 * i, &values[i], 4);
        } else {
            const std::uint16_t h = format == StorageFormat::F16 ? cpu::f32ToF16(values[i]) : cpu::f32ToBf16(values[i]);
            std::memcpy(bytes.data() + 2 * i, &h, 2);
        }
    }
    return bytes;
}

struct Error {
    double nmse = 0, maxAbs = 0;
    std::size_t worst = 0;  // index of the largest abs difference
};

// NaN anywhere (either side) makes both figures NaN, which fails every `<=` check.
inline Error errorOf(const std::vector<float>& got, const std::vector<float>& ref) {
    Error e;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = static_cast<double>(got[i]) - ref[i];
        if (!(std::fabs(d) <= e.maxAbs)) {
            e.maxAbs = std::fabs(d);
            e.worst = i;
        }
    }
    e.nmse = llava::nmse(got, ref);  // the self-check's definition (selfcheck.h)
    return e;
}
inline double nmse(const std::vector<float>& got, const std::vector<float>& ref) { return llava::nmse(got, ref); }

inline std::string shapeText(const Tensor& t) { return shapeToString(t.shape); }

// One logical tensor on both backends. `cuda`/`cpu` are (rows, cols) views of buffers that have
// kGuardRows extra rows filled with kSentinel (activations), or plain tensors (weights).
struct Pair {
    Tensor cuda, cpu;
    Tensor cudaFull, cpuFull;  // the whole buffers including guard rows
};

class Parity {
public:
    Parity(Backend& cuda, Backend& cpu) : m_cuda(cuda), m_cpu(cpu) {}
    // Where setup failures and verdicts go: the running case's context (set at the start of each case).
    void attach(gpucheck::Context& ctx) { m_ctx = &ctx; }

    // F32 activation with guard rows; contents `values` (rows*cols) on both backends. offsetFloats > 0
    // places the tensor that many floats into its buffer (a view whose address is NOT 16-byte aligned
    // when offsetFloats % 4 != 0, as views of odd-width tensors are): vectorised paths must fall back.
    Pair activation(const std::vector<float>& values, std::int64_t rows, std::int64_t cols, std::int64_t offsetFloats = 0) {
        Pair p;
        const std::int64_t total = offsetFloats + (rows + kGuardRows) * cols;
        const Tensor cudaBuffer = alloc(m_cuda, {total}, StorageFormat::F32);
        const Tensor cpuBuffer = alloc(m_cpu, {total}, StorageFormat::F32);
        std::vector<float> full(static_cast<std::size_t>(total));
        for (auto& f : full) std::memcpy(&f, &kSentinel, 4);
        std::memcpy(full.data() + offsetFloats, values.data(), values.size() * 4);
        check(m_cuda.upload(cudaBuffer, full.data(), full.size() * 4));
        check(m_cpu.upload(cpuBuffer, full.data(), full.size() * 4));
        p.cudaFull = shifted(cudaBuffer, offsetFloats, rows + kGuardRows, cols);
        p.cpuFull = shifted(cpuBuffer, offsetFloats, rows + kGuardRows, cols);
        p.cuda = view(p.cudaFull, rows);
        p.cpu = view(p.cpuFull, rows);
        return p;
    }
    Pair random(std::int64_t rows, std::int64_t cols, std::uint64_t seed, float amplitude = 1.0f,
                std::int64_t offsetFloats = 0) {
        return activation(randomFloats(static_cast<std::size_t>(rows * cols), seed, amplitude), rows, cols, offsetFloats);
    }
    // A float vector/matrix of another format (norm weights, biases, tables), no guard.
    Pair plain(const std::vector<float>& values, const Shape& shape, StorageFormat format) {
        Pair p;
        p.cuda = p.cudaFull = alloc(m_cuda, shape, format);
        p.cpu = p.cpuFull = alloc(m_cpu, shape, format);
        const auto bytes = encode(values, format);
        check(m_cuda.upload(p.cuda, bytes.data(), bytes.size()));
        check(m_cpu.upload(p.cpu, bytes.data(), bytes.size()));
        return p;
    }
    // A checkpoint weight through uploadWeight on both (conversion/quantisation done by each backend).
    Pair weight(const std::vector<float>& values, const Shape& shape, StorageFormat stored, WeightPrecision precision) {
        m_keep.push_back(encode(values, stored));
        TensorView view;
        view.name = "test.weight";
        view.dtype = stored == StorageFormat::F32 ? DType::F32 : (stored == StorageFormat::F16 ? DType::F16 : DType::BF16);
        view.shape = shape;
        view.data = m_keep.back().data();
        view.byteSize = m_keep.back().size();
        auto c = m_cuda.uploadWeight(view, precision);
        auto h = m_cpu.uploadWeight(view, precision);
        check(c.status());
        check(h.status());
        Pair p;
        if (c.isOk()) p.cuda = p.cudaFull = *c;
        if (h.isOk()) p.cpu = p.cpuFull = *h;
        return p;
    }

    // Downloads both, checks the guard rows on both, returns CUDA vs CPU error (inf on a stray write).
    // Prints one line per comparison: "PARITY <what> <shape> NMSE .. maxabs .. (at i: cuda vs cpu)".
    Error measure(const Pair& p, const std::string& what) {
        const auto c = download(m_cuda, p.cudaFull), h = download(m_cpu, p.cpuFull);
        const std::size_t n = static_cast<std::size_t>(p.cuda.elementCount());
        for (std::size_t i = n; i < c.size() && i < h.size(); ++i) {
            std::uint32_t a, b;
            std::memcpy(&a, &c[i], 4);
            std::memcpy(&b, &h[i], 4);
            if (a != kSentinel || b != kSentinel) {
                gpucheck::Context::info("PARITY %s %s: %s wrote past the output (guard element %zu)", what.c_str(),
                                        shapeText(p.cuda).c_str(), a != kSentinel ? "CUDA" : "CPU", i - n);
                return {INFINITY, INFINITY, i};  // fails every tolerance check
            }
        }
        if (c.size() < n || h.size() < n) return {INFINITY, INFINITY, 0};
        const std::vector<float> got(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n));
        const std::vector<float> ref(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
        const Error e = errorOf(got, ref);
        gpucheck::Context::info("PARITY %-44s %-14s NMSE %.3e maxabs %.3e (at %zu: cuda %.7g cpu %.7g)", what.c_str(),
              shapeText(p.cuda).c_str(), e.nmse, e.maxAbs, e.worst, n ? double(got[e.worst]) : 0.0,
              n ? double(ref[e.worst]) : 0.0);
        return e;
    }
    double compare(const Pair& p, const char* what) { return measure(p, what).nmse; }
    // measure() + a verdict naming op, shape and tolerance, recorded as a check of the running case;
    // true when NMSE <= tolerance.
    bool close(const Pair& p, const std::string& what, double tolerance,
               std::source_location where = std::source_location::current()) {
        const Error e = measure(p, what);
        const bool ok = e.nmse <= tolerance;
        if (!ok)
            gpucheck::Context::info("PARITY FAIL %s %s: NMSE %.3e > tolerance %.1e (maxabs %.3e)", what.c_str(),
                                    shapeText(p.cuda).c_str(), e.nmse, tolerance, e.maxAbs);
        return m_ctx ? m_ctx->check(ok, "parity: " + what, where) : ok;
    }

    // Records a failure (the case goes on; later checks then fail on null tensors).
    void check(const Status& s, std::source_location where = std::source_location::current()) {
        if (m_ctx) m_ctx->ok(s, where);
    }
    std::vector<float> download(Backend& b, const Tensor& t) {
        std::vector<float> out(static_cast<std::size_t>(t.elementCount()), NAN);
        check(b.download(t, out.data(), out.size() * 4));
        return out;
    }
    Backend& cuda() { return m_cuda; }
    Backend& cpu() { return m_cpu; }

private:
    Tensor alloc(Backend& b, const Shape& shape, StorageFormat format) {
        auto t = b.allocate(shape, format, BufferRole::Scratch, "parity");
        check(t.status());
        return t.isOk() ? *t : Tensor{};
    }
    Tensor view(const Tensor& full, std::int64_t rows) {
        auto v = rowView(full, 0, rows);
        check(v.status());
        return v.isOk() ? *v : Tensor{};
    }
    // (rows, cols) starting `offset` floats into a 1-D buffer, built only from the public view helpers.
    Tensor shifted(const Tensor& buffer, std::int64_t offset, std::int64_t rows, std::int64_t cols) {
        auto column = reshaped(buffer, {buffer.elementCount(), 1});
        if (!column.isOk()) return check(column.status()), Tensor{};
        auto part = rowView(*column, offset, rows * cols);
        if (!part.isOk()) return check(part.status()), Tensor{};
        auto out = reshaped(*part, {rows, cols});
        check(out.status());
        return out.isOk() ? *out : Tensor{};
    }

    Backend& m_cuda;
    Backend& m_cpu;
    gpucheck::Context* m_ctx = nullptr;
    std::vector<std::vector<std::byte>> m_keep;  // host bytes of weights (the CPU backend maps them in place)
};

}  // namespace llava::test
