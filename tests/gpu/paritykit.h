// Helpers for CUDA-vs-CPU parity tests: the same inputs uploaded to both backends, outputs with guard
// rows after them (sentinel bytes that must survive the op: stray writes past the end), NMSE.
// Header-only, test code only.
#pragma once

#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/halfconv.h"
#include "llava/backend.h"

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

inline double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        err += (static_cast<double>(got[i]) - ref[i]) * (static_cast<double>(got[i]) - ref[i]);
        norm += static_cast<double>(ref[i]) * ref[i];
    }
    return norm > 0 ? err / norm : err;
}

// One logical tensor on both backends. `cuda`/`cpu` are (rows, cols) views of buffers that have
// kGuardRows extra rows filled with kSentinel (activations), or plain tensors (weights).
struct Pair {
    Tensor cuda, cpu;
    Tensor cudaFull, cpuFull;  // the whole buffers including guard rows
};

class Parity {
public:
    Parity(Backend& cuda, Backend& cpu) : m_cuda(cuda), m_cpu(cpu) {}

    // F32 activation with guard rows; contents `values` (rows*cols) on both backends.
    Pair activation(const std::vector<float>& values, std::int64_t rows, std::int64_t cols) {
        Pair p;
        p.cudaFull = alloc(m_cuda, {rows + kGuardRows, cols}, StorageFormat::F32);
        p.cpuFull = alloc(m_cpu, {rows + kGuardRows, cols}, StorageFormat::F32);
        std::vector<float> full(static_cast<std::size_t>((rows + kGuardRows) * cols));
        std::memcpy(full.data(), values.data(), values.size() * 4);
        for (std::size_t i = values.size(); i < full.size(); ++i) std::memcpy(&full[i], &kSentinel, 4);
        check(m_cuda.upload(p.cudaFull, full.data(), full.size() * 4));
        check(m_cpu.upload(p.cpuFull, full.data(), full.size() * 4));
        p.cuda = view(p.cudaFull, rows);
        p.cpu = view(p.cpuFull, rows);
        return p;
    }
    Pair random(std::int64_t rows, std::int64_t cols, std::uint64_t seed, float amplitude = 1.0f) {
        return activation(randomFloats(static_cast<std::size_t>(rows * cols), seed, amplitude), rows, cols);
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
        p.cuda = p.cudaFull = *c;
        p.cpu = p.cpuFull = *h;
        return p;
    }

    // Downloads both, checks the guard rows on both, returns the NMSE of CUDA vs CPU (inf on a stray write).
    double compare(const Pair& p, const char* what) {
        const auto c = download(m_cuda, p.cudaFull), h = download(m_cpu, p.cpuFull);
        const std::size_t n = static_cast<std::size_t>(p.cuda.elementCount());
        for (std::size_t i = n; i < c.size(); ++i) {
            std::uint32_t a, b;
            std::memcpy(&a, &c[i], 4);
            std::memcpy(&b, &h[i], 4);
            if (a != kSentinel || b != kSentinel) {
                qWarning("%s: %s wrote past the output (guard element %zu)", what, a != kSentinel ? "CUDA" : "CPU", i - n);
                return INFINITY;  // fails every tolerance check
            }
        }
        const double e = nmse({c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n)},
                              {h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n)});
        qInfo("%-48s NMSE %.3e", what, e);
        return e;
    }

    static void check(const Status& s) {
        if (!s.isOk()) qFatal("%s", s.toString().c_str());
    }
    static std::vector<float> download(Backend& b, const Tensor& t) {
        std::vector<float> out(static_cast<std::size_t>(t.elementCount()));
        check(b.download(t, out.data(), out.size() * 4));
        return out;
    }
    Backend& cuda() { return m_cuda; }
    Backend& cpu() { return m_cpu; }

private:
    static Tensor alloc(Backend& b, const Shape& shape, StorageFormat format) {
        auto t = b.allocate(shape, format, BufferRole::Scratch, "parity");
        check(t.status());
        return *t;
    }
    static Tensor view(const Tensor& full, std::int64_t rows) {
        auto v = rowView(full, 0, rows);
        check(v.status());
        return *v;
    }

    Backend& m_cuda;
    Backend& m_cpu;
    std::vector<std::vector<std::byte>> m_keep;  // host bytes of weights (the CPU backend maps them in place)
};

}  // namespace llava::test
