// runBackendSelfCheck: the same random inputs uploaded to both backends, each op run on both, outputs
// downloaded and compared (NMSE = sum (a - b)^2 / sum b^2; NaN anywhere fails). Shapes follow the GPU
// parity suite in miniature: rows 1 (decode matvec) and 67 (GEMM), widths not multiples of 8/32, GQA,
// causal with a cached prefix, a non-causal block past the cuBLAS threshold (64 rows), every weight
// format, embed with an image slot (-1) and a quantised table, and the decode-step ops through a step tensor.
#include "llava/selfcheck.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/halfconv.h"

namespace llava {
namespace {

constexpr double kF32 = 1e-7, kHalf = 1e-5, kQuantGemm = 2e-5;  // as tests/gpu/tst_backend_parity.cpp

struct Pair {
    Tensor a, b;  // candidate, reference
};

std::vector<float> randomFloats(std::size_t n, std::uint64_t seed, float amplitude) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-amplitude, amplitude);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

std::vector<std::byte> encode(const std::vector<float>& values, StorageFormat format) {
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

DType dtypeOf(StorageFormat f) {
    return f == StorageFormat::F32 ? DType::F32 : (f == StorageFormat::F16 ? DType::F16 : DType::BF16);
}

class Checker {
public:
    Checker(Backend& candidate, Backend& reference) : m_a(candidate), m_b(reference) {}
    ~Checker() {
        for (const Tensor& t : m_ownedA) m_a.release(t);
        for (const Tensor& t : m_ownedB) m_b.release(t);
    }
    Checker(const Checker&) = delete;
    Checker& operator=(const Checker&) = delete;

    // Setup failures (allocation, upload) are recorded against the check being prepared.
    bool ok(const Status& s, const std::string& what) {
        if (s.isOk()) return true;
        fail(what, s.message());
        return false;
    }
    Pair alloc(const Shape& shape, StorageFormat format) {
        Pair p;
        auto a = m_a.allocate(shape, format, BufferRole::Scratch, "self-check");
        auto b = m_b.allocate(shape, format, BufferRole::Scratch, "self-check");
        if (ok(a.status(), "allocate")) m_ownedA.push_back(p.a = *a);
        if (ok(b.status(), "allocate")) m_ownedB.push_back(p.b = *b);
        return p;
    }
    // A float tensor of `format` holding `values` on both backends.
    Pair plain(const std::vector<float>& values, const Shape& shape, StorageFormat format = StorageFormat::F32) {
        Pair p = alloc(shape, format);
        const auto bytes = encode(values, format);
        if (!p.a.isNull()) ok(m_a.upload(p.a, bytes.data(), bytes.size()), "upload");
        if (!p.b.isNull()) ok(m_b.upload(p.b, bytes.data(), bytes.size()), "upload");
        return p;
    }
    Pair random(std::int64_t rows, std::int64_t cols, float amplitude = 1.0f) {
        return plain(randomFloats(static_cast<std::size_t>(rows * cols), ++m_seed, amplitude), {rows, cols});
    }
    // A checkpoint-like weight through uploadWeight on both (each backend converts/quantises it itself).
    Pair weight(const Shape& shape, StorageFormat stored, WeightPrecision precision) {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        m_keep.push_back(encode(randomFloats(static_cast<std::size_t>(n), ++m_seed, 0.5f), stored));
        TensorView view;
        view.name = "self-check.weight";
        view.dtype = dtypeOf(stored);
        view.shape = shape;
        view.data = m_keep.back().data();
        view.byteSize = m_keep.back().size();
        Pair p;
        auto a = m_a.uploadWeight(view, precision);
        auto b = m_b.uploadWeight(view, precision);
        if (ok(a.status(), "uploadWeight")) m_ownedA.push_back(p.a = *a);
        if (ok(b.status(), "uploadWeight")) m_ownedB.push_back(p.b = *b);
        return p;
    }

    // Runs op(candidate tensors) and op(reference tensors), then compares `out` (F32).
    template <typename Op>
    void check(const std::string& what, double tolerance, const Pair& out, Op&& op) {
        ++m_checks;
        if (out.a.isNull() || out.b.isNull()) return fail(what, "setup failed");
        const Status sa = op(m_a, true), sb = op(m_b, false);
        if (!sa.isOk()) return fail(what, "candidate: " + sa.message());
        if (!sb.isOk()) return fail(what, "reference: " + sb.message());
        std::vector<float> ga(static_cast<std::size_t>(out.a.elementCount())), gb(ga.size());
        if (!m_a.download(out.a, ga.data(), ga.size() * 4).isOk() || !m_b.download(out.b, gb.data(), gb.size() * 4).isOk())
            return fail(what, "download failed");
        const double error = nmse(ga, gb);
        char line[200];
        const bool pass = error <= tolerance;  // false for NaN
        std::snprintf(line, sizeof line, "%s %-44s NMSE %.2e %s %.0e", pass ? "PASS" : "FAIL", what.c_str(), error,
                      pass ? "<=" : ">", tolerance);
        m_report += std::string(line) + "\n";
        if (!pass && m_firstFailure.empty()) {
            std::snprintf(line, sizeof line, "%s: NMSE %.2e > %.0e", what.c_str(), error, tolerance);
            m_firstFailure = line;
        }
    }
    void fail(const std::string& what, const std::string& why) {
        m_report += "FAIL " + what + ": " + why + "\n";
        if (m_firstFailure.empty()) m_firstFailure = what + ": " + why;
    }
    void countFailure(const std::string& what, const std::string& why) {
        ++m_checks;
        fail(what, why);
    }
    void countPass(const std::string& what) {
        ++m_checks;
        m_report += "PASS " + what + "\n";
    }

    Backend& candidate() { return m_a; }
    Backend& reference() { return m_b; }
    int checks() const { return m_checks; }
    const std::string& firstFailure() const { return m_firstFailure; }
    const std::string& report() const { return m_report; }

private:
    Backend& m_a;
    Backend& m_b;
    std::vector<Tensor> m_ownedA, m_ownedB;
    std::vector<std::vector<std::byte>> m_keep;  // host bytes of weights (the CPU backend maps them in place)
    std::uint64_t m_seed = 20240611;
    int m_checks = 0;
    std::string m_firstFailure, m_report;
};

const Tensor& pick(const Pair& p, bool candidate) { return candidate ? p.a : p.b; }

void checkMatmuls(Checker& c) {
    struct Fmt {
        const char* name;
        StorageFormat stored;
        WeightPrecision precision;
        double gemmTolerance;
    };
    const Fmt formats[] = {{"F32", StorageFormat::F32, WeightPrecision::AsStored, kF32},
                           {"F16", StorageFormat::F16, WeightPrecision::AsStored, kHalf},
                           {"BF16", StorageFormat::BF16, WeightPrecision::AsStored, kHalf},
                           {"Q8", StorageFormat::F16, WeightPrecision::Q8, kQuantGemm},
                           {"Q4", StorageFormat::F16, WeightPrecision::Q4, kQuantGemm}};
    for (const Fmt& f : formats)
        for (const int m : {1, 67}) {
            const std::int64_t n = 37, k = 256;
            const Pair w = c.weight({n, k}, f.stored, f.precision);
            const Pair x = c.random(m, k);
            const Pair bias = c.random(1, n);
            const Pair out = c.random(m, n);  // Accumulate on m = 67: adds to these values
            const MatmulMode mode = m == 1 ? MatmulMode::Overwrite : MatmulMode::Accumulate;
            c.check(std::string("matmul ") + f.name + (m == 1 ? " m1" : " m67") + " n37 k256", m == 1 ? kF32 : f.gemmTolerance,
                    out, [&](Backend& b, bool cand) {
                        return b.matmul(pick(out, cand), pick(x, cand), pick(w, cand), pick(bias, cand), mode);
                    });
        }
}

void checkRowOps(Checker& c) {
    const std::int64_t rows = 67, d = 96;
    const Pair x = c.random(rows, d, 2.0f), out = c.random(rows, d);
    const Pair g = c.plain(randomFloats(d, 7, 1.0f), {d}, StorageFormat::F16);
    const Pair beta = c.plain(randomFloats(d, 8, 1.0f), {d}, StorageFormat::F32);
    c.check("rmsNorm [67, 96]", kF32, out, [&](Backend& b, bool a) { return b.rmsNorm(pick(out, a), pick(x, a), pick(g, a), 1e-5f); });
    c.check("layerNorm [67, 96]", kF32, out,
            [&](Backend& b, bool a) { return b.layerNorm(pick(out, a), pick(x, a), pick(g, a), pick(beta, a), 1e-5f); });
    const Pair r = c.random(13, 4 * 32);
    c.check("rope [13, 4x32] from position 7", kF32, r, [&](Backend& b, bool a) { return b.rope(pick(r, a), 4, 32, 7, 1e4); });
    const Pair qg = c.random(rows, d, 4.0f), gl = c.random(rows, d, 4.0f), sm = c.random(rows, d, 4.0f);
    c.check("quickGelu [67, 96]", kF32, qg, [&](Backend& b, bool a) { return b.quickGelu(pick(qg, a)); });
    c.check("gelu [67, 96]", kF32, gl, [&](Backend& b, bool a) { return b.gelu(pick(gl, a)); });
    const Pair up = c.random(rows, d, 2.0f);
    c.check("siluMul [67, 96]", kF32, out, [&](Backend& b, bool a) { return b.siluMul(pick(out, a), pick(sm, a), pick(up, a)); });
    const Pair sum = c.random(rows, d);
    c.check("add [67, 96] + [67, 96]", kF32, sum, [&](Backend& b, bool a) { return b.add(pick(sum, a), pick(sum, a), pick(x, a)); });
    c.check("add [67, 96] + (96) F16 broadcast", kF32, sum,
            [&](Backend& b, bool a) { return b.add(pick(sum, a), pick(sum, a), pick(g, a)); });
}

void checkAttention(Checker& c) {
    struct Row {
        const char* name;
        int queries, keys, heads, kvHeads, headDim, past;
        AttentionMask mask;
        bool reduced;
        double tolerance;
    };
    const Row rows[] = {
        {"attention causal 19 after 30, GQA 4/2 d64", 19, 49, 4, 2, 64, 30, AttentionMask::Causal, false, kF32},
        {"attention decode 1 after 99, GQA 4/2 d64", 1, 100, 4, 2, 64, 99, AttentionMask::Causal, false, kF32},
        {"attention non-causal 80 x 80, 2 heads d40", 80, 80, 2, 2, 40, 0, AttentionMask::None, false, kF32},
        {"attention non-causal 80 x 80 16-bit operands", 80, 80, 2, 2, 40, 0, AttentionMask::None, true, kHalf},
        {"attention causal 72, 16-bit operands", 72, 72, 4, 2, 64, 0, AttentionMask::Causal, true, kHalf},
    };
    for (const Row& r : rows) {
        const Pair q = c.random(r.queries, std::int64_t{r.heads} * r.headDim);
        const Pair k = c.random(r.keys, std::int64_t{r.kvHeads} * r.headDim);
        const Pair v = c.random(r.keys, std::int64_t{r.kvHeads} * r.headDim);
        const Pair out = c.random(r.queries, std::int64_t{r.heads} * r.headDim);
        const AttentionParams p{r.heads, r.kvHeads, r.headDim, r.past, 1.0f / std::sqrt(static_cast<float>(r.headDim)),
                                r.mask, r.reduced};
        c.check(r.name, r.tolerance, out,
                [&](Backend& b, bool a) { return b.attention(pick(out, a), pick(q, a), pick(k, a), pick(v, a), p); });
    }
}

void checkTablesAndCopies(Checker& c) {
    const std::int64_t vocab = 50, d = 128;
    const std::int32_t ids[] = {3, -1, 49, 0, 17};
    for (const auto& [name, precision] : {std::pair{"F16", WeightPrecision::AsStored}, std::pair{"Q8", WeightPrecision::Q8},
                                          std::pair{"Q4", WeightPrecision::Q4}}) {
        const Pair table = c.weight({vocab, d}, StorageFormat::F16, precision);
        const Pair out = c.random(5, d);  // row 1 (id -1) must keep these values
        c.check(std::string("embed ") + name + " table, ids with an image slot", kF32, out,
                [&](Backend& b, bool a) { return b.embed(pick(out, a), pick(table, a), ids); });
    }
    const Pair px = c.random(2 * 3 * 28, 28);
    const Pair patchW = c.weight({48, 3, 14, 14}, StorageFormat::F16, WeightPrecision::AsStored);
    const Pair patches = c.random(8, 48);
    c.check("patchEmbed 2 crops 28x28, patch 14, F16", kHalf, patches, [&](Backend& b, bool a) {
        auto pixels = reshaped(pick(px, a), {2, 3, 28, 28});
        if (!pixels.isOk()) return pixels.status();
        return b.patchEmbed(pick(patches, a), *pixels, pick(patchW, a));
    });
    const Pair src = c.random(9, 40), half = c.alloc({9, 40}, StorageFormat::F16), back = c.random(9, 40);
    c.check("copy F32 -> F16 -> F32 [9, 40]", kF32, back, [&](Backend& b, bool a) {
        const Status s = b.copy(pick(half, a), pick(src, a));
        return s.isOk() ? b.copy(pick(back, a), pick(half, a)) : s;
    });
    const Pair logits = c.random(1, 1000);
    auto ia = c.candidate().argmax(logits.a, 1000);
    auto ib = c.reference().argmax(logits.b, 1000);
    if (!ia.isOk() || !ib.isOk() || *ia != *ib)
        c.countFailure("argmax over 1000", "candidate " + (ia.isOk() ? std::to_string(*ia) : ia.status().message()) +
                                               ", reference " + (ib.isOk() ? std::to_string(*ib) : ib.status().message()));
    else
        c.countPass("argmax over 1000 (index " + std::to_string(*ia) + ")");
}

// The decode-step ops read position and token id from a step tensor (backend.h).
void checkStepOps(Checker& c) {
    const int heads = 4, kvHeads = 2, headDim = 32, position = 21;
    const std::int64_t width = std::int64_t{heads} * headDim, kvWidth = std::int64_t{kvHeads} * headDim;
    Pair step = c.alloc({2}, StorageFormat::I32);
    const std::int32_t values[2] = {position, 11};
    if (!step.a.isNull()) c.ok(c.candidate().upload(step.a, values, 8), "upload step");
    if (!step.b.isNull()) c.ok(c.reference().upload(step.b, values, 8), "upload step");
    const Pair table = c.weight({40, width}, StorageFormat::F16, WeightPrecision::AsStored);
    const Pair x = c.random(1, width);
    c.check("embedAt F16 table", kF32, x, [&](Backend& b, bool a) { return b.embedAt(pick(x, a), pick(table, a), pick(step, a)); });
    const Pair q = c.random(1, width);
    c.check("ropeAt 4x32 at position 21", kF32, q,
            [&](Backend& b, bool a) { return b.ropeAt(pick(q, a), heads, headDim, pick(step, a), 1e4); });
    const Pair kCache = c.random(32, kvWidth), vCache = c.random(32, kvWidth);
    const Pair k = c.random(1, kvWidth), v = c.random(1, kvWidth);
    c.check("ropeWriteRowAt into an F32 cache", kF32, kCache, [&](Backend& b, bool a) {
        return b.ropeWriteRowAt(pick(kCache, a), pick(k, a), kvHeads, headDim, pick(step, a), 1e4);
    });
    c.check("writeRowAt into an F32 cache", kF32, vCache,
            [&](Backend& b, bool a) { return b.writeRowAt(pick(vCache, a), pick(v, a), pick(step, a)); });
    const Pair out = c.random(1, width);
    const AttentionParams p{heads, kvHeads, headDim, 0, 1.0f / std::sqrt(static_cast<float>(headDim)), AttentionMask::Causal,
                            false};
    c.check("attentionAt over cache rows 0..21", kF32, out, [&](Backend& b, bool a) {
        return b.attentionAt(pick(out, a), pick(q, a), pick(kCache, a), pick(vCache, a), p, pick(step, a));
    });
}

}  // namespace

double nmse(std::span<const float> got, std::span<const float> ref) {
    if (got.size() != ref.size() || ref.empty()) return INFINITY;
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = static_cast<double>(got[i]) - ref[i];
        err += d * d;
        norm += static_cast<double>(ref[i]) * ref[i];
    }
    return norm > 0 ? err / norm : err;
}

SelfCheckResult runBackendSelfCheck(Backend& candidate, Backend& reference) {
    const auto t0 = std::chrono::steady_clock::now();
    SelfCheckResult result;
    std::string body;
    {
        Checker c(candidate, reference);
        checkMatmuls(c);
        checkRowOps(c);
        checkAttention(c);
        checkTablesAndCopies(c);
        checkStepOps(c);
        if (!candidate.synchronize().isOk()) c.countFailure("synchronize", "the candidate reported an error");
        result.checks = c.checks();
        result.firstFailure = c.firstFailure();
        body = c.report();
    }  // tensors released here
    result.passed = result.firstFailure.empty();
    result.elapsedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const BackendInfo a = candidate.info(), b = reference.info();
    char header[160];
    std::snprintf(header, sizeof header, "%d checks, %.0f ms: %s\n", result.checks, result.elapsedMs,
                  result.passed ? "passed" : "FAILED");
    result.report = "Backend self-check: " + a.name + " (" + a.device + ") vs " + b.name + " (" + b.device + "), " +
                    header + body;
    return result;
}

}  // namespace llava
