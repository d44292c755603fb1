// CPU backend ops against independent double-precision loops written here (and hand-computed values
// for rope and norms). Guards: wrong transposition/strides in the blocked matmul (shapes not multiples of
// the 64x256 panel or the 2x4 micro-kernel), fp16/bf16 decoding, quantisation error bounds, causal mask
// off-by-one with nPast, GQA head mapping, OOM and shape errors returned as values.
// matmulFormats/decodeRowsMatchPrefill run every weight format through both kernel sets (AVX2 and portable,
// picked with LLAVA_CPU_ISA) against a reference built from the exact dequantised weights, so a wrong
// nibble order, scale index, tail loop or 6x16 edge tile shows up as an error far above fp32 rounding.
#include <QtTest>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <random>

#include "backend/cpu/cpuint8.h"
#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"
#include "llava/backend.h"

#ifdef Q_OS_LINUX
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace llava;

// outOfMemoryIsAnError relies on new (std::nothrow) returning nullptr. ASan's default
// (allocator_may_return_null=0) aborts the process instead, so an ASan build of this binary defaults
// that option to 1; ASAN_OPTIONS from the environment still overrides it.
#if defined(__SANITIZE_ADDRESS__)
#define LLAVA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LLAVA_TEST_ASAN 1
#endif
#endif
#ifdef LLAVA_TEST_ASAN
extern "C" const char* __asan_default_options();
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif

namespace {

std::vector<float> randomVector(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

Tensor upload(Backend& b, const std::vector<float>& data, const Shape& shape) {
    auto t = b.allocate(shape, StorageFormat::F32, BufferRole::Scratch, "test");
    if (!t.isOk()) qFatal("allocate failed");
    if (!b.upload(*t, data.data(), data.size() * 4).isOk()) qFatal("upload failed");
    return *t;
}

std::vector<float> download(Backend& b, const Tensor& t) {
    std::vector<float> out(static_cast<std::size_t>(t.elementCount()));
    if (!b.download(t, out.data(), out.size() * 4).isOk()) qFatal("download failed");
    return out;
}

// A CPU backend running the given kernel set ("avx2" = whatever the machine supports, "portable").
std::unique_ptr<Backend> cpuBackend(const QString& isa, int threads) {
    if (isa == "portable") setenv("LLAVA_CPU_ISA", "portable", 1);
    else unsetenv("LLAVA_CPU_ISA");
    auto backend = createCpuBackend(threads);
    unsetenv("LLAVA_CPU_ISA");
    return backend;
}

// Weight (n, k) uploaded in `format`, and the fp32 values the backend will actually use (dequantised).
struct TestWeight {
    Tensor tensor;
    std::vector<float> exact;  // (n, k)
};

TestWeight makeWeight(Backend& b, StorageFormat format, int n, int k, std::uint64_t seed) {
    const auto w = randomVector(static_cast<std::size_t>(n * k), seed);
    TestWeight out;
    out.exact = w;
    if (format == StorageFormat::BF16) {
        std::vector<std::uint16_t> h(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) out.exact[i] = cpu::bf16ToF32(h[i] = cpu::f32ToBf16(w[i]));
        TensorView view{"w", DType::BF16, {n, k}, reinterpret_cast<const std::byte*>(h.data()), h.size() * 2};
        auto t = b.uploadWeight(view, WeightPrecision::AsStored);  // mapped in place: copy kept alive below
        if (!t.isOk()) qFatal("upload bf16 failed");
        static std::vector<std::vector<std::uint16_t>> keepAlive;
        keepAlive.push_back(std::move(h));
        out.tensor = *t;
        return out;
    }
    WeightPrecision precision = WeightPrecision::AsStored;
    if (format == StorageFormat::F16) precision = WeightPrecision::F16;
    if (format == StorageFormat::Q8PerChannel) precision = WeightPrecision::Q8;
    if (format == StorageFormat::Q4Group128) precision = WeightPrecision::Q4;
    static std::vector<std::vector<float>> keepAlive;  // AsStored F32 is mapped in place
    keepAlive.push_back(w);
    TensorView view{"w", DType::F32, {n, k}, reinterpret_cast<const std::byte*>(keepAlive.back().data()), w.size() * 4};
    auto t = b.uploadWeight(view, precision);
    if (!t.isOk()) qFatal("upload failed");
    out.tensor = *t;
    if (t->format != format) qFatal("unexpected stored format");
    if (format == StorageFormat::F32) return out;
    std::vector<std::byte> stored(storageBytes(format, n, k));
    if (format == StorageFormat::F16) {
        for (auto& v : out.exact) v = cpu::f16ToF32(cpu::f32ToF16(v));
        return out;
    }
    if (format == StorageFormat::Q8PerChannel) cpu::quantiseQ8(w.data(), n, k, stored.data());
    else cpu::quantiseQ4(w.data(), n, k, stored.data());
    const cpu::WeightMatrix wm{format, stored.data(), n, k};
    for (int r = 0; r < n; ++r) cpu::decodeRow(wm, r, 0, k, out.exact.data() + static_cast<std::size_t>(r) * k);
    return out;
}

// Whether the machine's CPU backend takes the int8 decode path (cpuint8.h) for this product.
bool int8Decode(StorageFormat format, int m, int k) {
    return cpu::int8GemvApplies(cpu::detectCpuIsa(), m, cpu::WeightMatrix{format, nullptr, 1, k});
}

// The int8 decode path rounds each x element to the grid of its 32-element block (scale = block max / 127),
// an error of at most block max / 254 per element. Bound on out[i, j]: sum_t |w[j, t]| * max|x[i, u]| / 254
// with u over t's 64-column chunk (which contains t's block in either activation order).
double int8ActivationBound(const std::vector<float>& x, const std::vector<float>& w, int i, int j, int k) {
    double bound = 0;
    for (int t = 0; t < k; ++t) {
        double chunkMax = 0;
        for (int u = t / 64 * 64; u < std::min(k, t / 64 * 64 + 64); ++u)
            chunkMax = std::max(chunkMax, double(std::fabs(x[static_cast<std::size_t>(i * k + u)])));
        bound += std::fabs(w[static_cast<std::size_t>(j * k + t)]) * chunkMax / 254.0;
    }
    return bound;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

}  // namespace

class TestCpuBackend : public QObject {
    Q_OBJECT
private slots:
    void halfConversions() {
        QCOMPARE(cpu::f16ToF32(0x3c00), 1.0f);
        QCOMPARE(cpu::f16ToF32(0xc000), -2.0f);
        QCOMPARE(cpu::f16ToF32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
        QCOMPARE(cpu::f16ToF32(0x7bff), 65504.0f);
        QVERIFY(std::isinf(cpu::f16ToF32(0x7c00)));
        QVERIFY(std::isnan(cpu::f16ToF32(0x7e00)));
        for (std::uint32_t h = 0; h < 0x7c00; ++h) QCOMPARE(cpu::f32ToF16(cpu::f16ToF32(static_cast<std::uint16_t>(h))), h);
        QCOMPARE(cpu::f32ToF16(1.0f + std::ldexp(1.0f, -11)), std::uint16_t{0x3c00});  // tie -> even
        QCOMPARE(cpu::f32ToBf16(1.0f), std::uint16_t{0x3f80});
        QCOMPARE(cpu::bf16ToF32(0xbf80), -1.0f);
    }

    void matmul_data() {
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("precision");
        QTest::addColumn<double>("tolerance");
        // fp32 accumulation over k <= 300 of values in [-1,1]: 1e-4 absolute is ~100x float rounding.
        QTest::newRow("decode-f32 1x70x300") << 1 << 70 << 300 << int(WeightPrecision::AsStored) << 1e-4;
        QTest::newRow("prefill-f32 7x130x257") << 7 << 130 << 257 << int(WeightPrecision::AsStored) << 1e-4;
        QTest::newRow("f16 5x65x256 (ref uses f16-rounded w)") << 5 << 65 << 256 << int(WeightPrecision::F16) << 1e-4;
        // int8 per-channel: |err| <= sum_k |x| * scale/2 ~ 256 * 0.5 * (1/127)/2 ~ 0.5 worst, ~0.05 typical
        QTest::newRow("q8 3x64x256") << 3 << 64 << 256 << int(WeightPrecision::Q8) << 0.15;
        QTest::newRow("q4 3x64x256") << 3 << 64 << 256 << int(WeightPrecision::Q4) << 1.2;
    }
    void matmul() {
        QFETCH(int, m);
        QFETCH(int, n);
        QFETCH(int, k);
        QFETCH(int, precision);
        QFETCH(double, tolerance);
        auto backend = createCpuBackend(2);
        const auto x = randomVector(static_cast<std::size_t>(m * k), 1), w = randomVector(static_cast<std::size_t>(n * k), 2);
        const auto bias = randomVector(static_cast<std::size_t>(n), 3);
        std::vector<double> ref(static_cast<std::size_t>(m * n));
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
                double s = bias[static_cast<std::size_t>(j)] + 1.0;  // +1: Accumulate onto an output of ones
                for (int t = 0; t < k; ++t) {
                    float wv = w[static_cast<std::size_t>(j * k + t)];
                    if (precision == int(WeightPrecision::F16)) wv = cpu::f16ToF32(cpu::f32ToF16(wv));
                    s += double(x[static_cast<std::size_t>(i * k + t)]) * wv;
                }
                ref[static_cast<std::size_t>(i * n + j)] = s;
            }
        TensorView view{"w", DType::F32, {n, k}, reinterpret_cast<const std::byte*>(w.data()), w.size() * 4};
        auto wt = backend->uploadWeight(view, WeightPrecision(precision));
        QVERIFY2(wt.isOk(), wt.status().toString().c_str());
        const Tensor xt = upload(*backend, x, {m, k});
        const Tensor bt = upload(*backend, bias, {n});
        const Tensor out = upload(*backend, std::vector<float>(static_cast<std::size_t>(m * n), 1.0f), {m, n});
        QVERIFY(backend->matmul(out, xt, *wt, bt, MatmulMode::Accumulate).isOk());
        const double err = maxAbsDiff(download(*backend, out), ref);
        QVERIFY2(err <= tolerance, qPrintable(QString("max abs err %1").arg(err)));
    }

    void matmulFormats_data() {
        QTest::addColumn<QString>("isa");
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("k");
        const std::pair<const char*, StorageFormat> formats[] = {{"f32", StorageFormat::F32}, {"f16", StorageFormat::F16},
                                                                  {"bf16", StorageFormat::BF16}, {"q8", StorageFormat::Q8PerChannel},
                                                                  {"q4", StorageFormat::Q4Group128}};
        // m 1..4: matrix-vector path (rows split unevenly over threads, 4/2/1-row tails); m 5, 7, 13: GEMM
        // with 6-row strip tails; n not a multiple of 16/64 (edge tiles); k with a tail of 8 (non-Q4) and
        // > 256 (two K-slices). 11x72x264 and 200x40x136: the transposing 8x8 pack with a half-filled 16-column
        // micro-panel (zero rows) and an 8-wide last K-slice; m 200 spans two 96-row blocks plus a strip tail.
        const int shapes[][3] = {{1, 70, 384}, {1, 3, 128}, {2, 37, 256}, {3, 19, 640}, {4, 66, 128},
                                 {5, 17, 256}, {7, 130, 384}, {13, 64, 512}, {1, 33, 300}, {6, 20, 261},
                                 {11, 72, 264}, {200, 40, 136}};
        for (const char* isa : {"avx2", "portable"})
            for (const auto& [name, format] : formats)
                for (const auto& s : shapes) {
                    if (format == StorageFormat::Q4Group128 && s[2] % 128 != 0) continue;
                    QTest::addRow("%s %s %dx%dx%d", isa, name, s[0], s[1], s[2])
                        << QString(isa) << int(format) << s[0] << s[1] << s[2];
                }
    }
    void matmulFormats() {
        QFETCH(QString, isa);
        QFETCH(int, format);
        QFETCH(int, m);
        QFETCH(int, n);
        QFETCH(int, k);
        auto backend = cpuBackend(isa, 2);
        const TestWeight w = makeWeight(*backend, StorageFormat(format), n, k, 11);
        const auto x = randomVector(static_cast<std::size_t>(m * k), 12), bias = randomVector(static_cast<std::size_t>(n), 13);
        const Tensor xt = upload(*backend, x, {m, k}), bt = upload(*backend, bias, {n});
        const Tensor out = upload(*backend, std::vector<float>(static_cast<std::size_t>(m * n), 0.5f), {m, n});
        QVERIFY(backend->matmul(out, xt, w.tensor, bt, MatmulMode::Accumulate).isOk());
        const auto got = download(*backend, out);
        const bool int8Path = isa == "avx2" && int8Decode(StorageFormat(format), m, k);
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
                double s = 0.5 + bias[static_cast<std::size_t>(j)], mag = 0;
                for (int t = 0; t < k; ++t) {
                    const double p = double(x[static_cast<std::size_t>(i * k + t)]) * w.exact[static_cast<std::size_t>(j * k + t)];
                    s += p;
                    mag += std::fabs(p);
                }
                // fp32 accumulation in any order: |err| <~ sqrt(k) * 2^-24 * sum|x w|; 1e-5 * sum leaves margin.
                // The int8 decode path also rounds x to its int8 block grid (int8ActivationBound).
                const double bound = 1e-5 * mag + 1e-5 + (int8Path ? int8ActivationBound(x, w.exact, i, j, k) : 0.0);
                const double err = std::fabs(got[static_cast<std::size_t>(i * n + j)] - s);
                QVERIFY2(err <= bound, qPrintable(QString("out[%1,%2] err %3 (sum|xw| %4)").arg(i).arg(j).arg(err).arg(mag)));
            }
    }

    // createCpuReferenceBackend (the CUDA self-check's and GPU parity tests' reference, decode bound NMSE 1e-7)
    // keeps Q8/Q4 decode in fp32 activations: within fp32 rounding of the dequantised product, while the
    // default backend on AVX2 rounds x to int8 (an error far above fp32 rounding, below the int8 bound).
    void referenceBackendDecodesInFp32() {
        const int n = 24, k = 512;
        for (StorageFormat format : {StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
            auto reference = createCpuReferenceBackend(2);
            auto fast = createCpuBackend(2);
            const TestWeight wr = makeWeight(*reference, format, n, k, 41), wf = makeWeight(*fast, format, n, k, 41);
            const auto x = randomVector(static_cast<std::size_t>(k), 42);
            const Tensor xr = upload(*reference, x, {1, k}), xf = upload(*fast, x, {1, k});
            const Tensor outR = upload(*reference, std::vector<float>(n), {1, n}), outF = upload(*fast, std::vector<float>(n), {1, n});
            QVERIFY(reference->matmul(outR, xr, wr.tensor, Tensor{}, MatmulMode::Overwrite).isOk());
            QVERIFY(fast->matmul(outF, xf, wf.tensor, Tensor{}, MatmulMode::Overwrite).isOk());
            const auto gotR = download(*reference, outR), gotF = download(*fast, outF);
            double worstFast = 0;
            for (int j = 0; j < n; ++j) {
                double s = 0, mag = 0;
                for (int t = 0; t < k; ++t) {
                    s += double(x[static_cast<std::size_t>(t)]) * wr.exact[static_cast<std::size_t>(j * k + t)];
                    mag += std::fabs(double(x[static_cast<std::size_t>(t)]) * wr.exact[static_cast<std::size_t>(j * k + t)]);
                }
                QVERIFY2(std::fabs(gotR[static_cast<std::size_t>(j)] - s) <= 1e-6 * mag + 1e-6,
                         qPrintable(QString("reference out[%1] err %2").arg(j).arg(std::fabs(gotR[static_cast<std::size_t>(j)] - s))));
                worstFast = std::max(worstFast, std::fabs(gotF[static_cast<std::size_t>(j)] - s) / (mag + 1e-30));
            }
            if (int8Decode(format, 1, k)) QVERIFY2(worstFast > 1e-5, "the default backend was expected to use int8 activations");
        }
    }

    // The Q4Group128 bytes worked out by hand (tensor.h): one row of 256 columns = two groups.
    // Group 0 holds x = c - 7 for c < 15 and 0 after: amax 7, scale 1.0 (exact in F16), codes x + 8.
    // Group 1 holds 0.1 at even columns and -0.05 at odd ones: scale = f16(0.1f / 7) = 0x2350 = 0.014282227
    // (numpy.float16), codes round(0.1 / s) = round(7.0017) = 7 -> 15 and round(-0.05 / s) = round(-3.5009)
    // = -4 -> 4: the codes come from the rounded F16 scale, not from 0.1 / 7.
    void q4LayoutByHand() {
        std::vector<float> row(256, 0.0f);
        for (int c = 0; c < 15; ++c) row[static_cast<std::size_t>(c)] = static_cast<float>(c - 7);
        for (int c = 128; c < 256; ++c) row[static_cast<std::size_t>(c)] = c % 2 == 0 ? 0.1f : -0.05f;
        std::vector<std::byte> q(storageBytes(StorageFormat::Q4Group128, 1, 256));
        QCOMPARE(q.size(), std::size_t{128 + 2 * 2});  // 256 nibbles + two F16 scales
        cpu::quantiseQ4(row.data(), 1, 256, q.data());
        const auto* b = reinterpret_cast<const std::uint8_t*>(q.data());
        QCOMPARE(int(b[0]), 1 | (2 << 4));    // x = -7, -6 -> codes 1, 2 (low nibble = even column)
        QCOMPARE(int(b[7]), 15 | (8 << 4));   // x = 7 (column 14), 0 (column 15)
        QCOMPARE(int(b[63]), 8 | (8 << 4));   // zeros
        QCOMPARE(int(b[64]), 15 | (4 << 4));  // 0.1, -0.05
        std::uint16_t s0, s1;
        std::memcpy(&s0, q.data() + 128, 2);
        std::memcpy(&s1, q.data() + 130, 2);
        QCOMPARE(s0, std::uint16_t{0x3C00});  // 1.0
        QCOMPARE(s1, std::uint16_t{0x2350});
        QCOMPARE(cpu::f16ToF32(s1), 0.014282227f);
    }

    // The quantisers' AVX2 and portable routines (cpuquantise.cpp) write the same bytes, and round halves away
    // from zero (std::lround, as quantise.cu does): rows of normal values, zeros, and exact halves. Q8 row 0:
    // max 127, so inv = 1 and x = 0.5, 1.5, -2.5, 126.5 give 1, 2, -3, 127. Q4: a group with max 7 has scale 1
    // (F16 0x3C00), so x = 0.5, -0.5, 2.5, -6.5 give 1, -1, 3, -7 -> codes 9, 7, 11, 1.
    void quantisersAvx2MatchPortable() {
        const int rows = 37, cols = 384;
        std::mt19937 rng(11);
        std::normal_distribution<float> dist(0.0f, 0.02f);
        std::vector<float> w(static_cast<std::size_t>(rows * cols));
        for (auto& v : w) v = dist(rng);
        std::fill(w.begin() + cols, w.begin() + 2 * cols, 0.0f);  // row 1: all zero
        std::fill(w.begin(), w.begin() + cols, 0.0f);
        const float halves[] = {0.5f, 1.5f, -2.5f, 126.5f, 127.0f};
        for (int i = 0; i < 5; ++i) w[static_cast<std::size_t>(i)] = halves[i];
        const float q4Halves[] = {0.5f, -0.5f, 2.5f, -6.5f, 7.0f};
        for (int i = 0; i < 5; ++i) w[static_cast<std::size_t>(2 * cols + i)] = q4Halves[i];  // row 2, group 0
        for (int i = 5; i < 128; ++i) w[static_cast<std::size_t>(2 * cols + i)] = 0.0f;
        for (StorageFormat format : {StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
            std::vector<std::byte> fast(storageBytes(format, rows, cols)), portable(fast.size());
            auto quantise = [&](std::vector<std::byte>& out) {
                if (format == StorageFormat::Q8PerChannel) cpu::quantiseQ8(w.data(), rows, cols, out.data());
                else cpu::quantiseQ4(w.data(), rows, cols, out.data());
            };
            quantise(fast);
            qputenv("LLAVA_CPU_ISA", "portable");
            quantise(portable);
            qunsetenv("LLAVA_CPU_ISA");
            QVERIFY2(fast == portable, format == StorageFormat::Q8PerChannel ? "q8 bytes differ" : "q4 bytes differ");
            const auto* b = reinterpret_cast<const std::uint8_t*>(fast.data());
            if (format == StorageFormat::Q8PerChannel) {
                const auto* q = reinterpret_cast<const std::int8_t*>(b);
                QCOMPARE(int(q[0]), 1);
                QCOMPARE(int(q[1]), 2);
                QCOMPARE(int(q[2]), -3);
                QCOMPARE(int(q[3]), 127);
                for (int c = 0; c < cols; ++c) QCOMPARE(int(q[cols + c]), 0);  // zero row: scale 0, codes 0
            } else {
                const std::uint8_t* g = b + 2 * (cols / 2);  // row 2, group 0
                QCOMPARE(int(g[0]), 9 | (7 << 4));
                QCOMPARE(int(g[1]), 11 | (1 << 4));
                QCOMPARE(int(g[2]), 15 | (8 << 4));  // 7.0, then zeros
            }
        }
    }

    // decodeElements converts long F16 runs with F16C: every one of the 65536 values must match f16ToF32.
    void f16DecodeEveryValue() {
        std::vector<std::uint16_t> h(65536);
        for (std::uint32_t i = 0; i < 65536; ++i) h[i] = static_cast<std::uint16_t>(i);
        std::vector<float> out(h.size());
        cpu::decodeElements(StorageFormat::F16, reinterpret_cast<const std::byte*>(h.data()), 0, 65536, out.data());
        for (std::uint32_t i = 0; i < 65536; ++i) {
            const float want = cpu::f16ToF32(h[i]);
            if (std::isnan(want)) QVERIFY2(std::isnan(out[i]), qPrintable(QString("F16 0x%1").arg(i, 4, 16)));
            else QVERIFY2(std::memcmp(&want, &out[i], 4) == 0, qPrintable(QString("F16 0x%1").arg(i, 4, 16)));
        }
    }

    void decodeRowsMatchPrefill_data() {
        QTest::addColumn<int>("format");
        QTest::newRow("f16") << int(StorageFormat::F16);
        QTest::newRow("bf16") << int(StorageFormat::BF16);
        QTest::newRow("q8") << int(StorageFormat::Q8PerChannel);
        QTest::newRow("q4") << int(StorageFormat::Q4Group128);
    }
    void decodeRowsMatchPrefill() {
        // The same tokens through the GEMM (M = 9) and one at a time (M = 1, the decode path) must agree to
        // fp32 rounding: guards a decode path that reads a different row, scale or group than prefill.
        QFETCH(int, format);
        const int m = 9, n = 45, k = 384;
        auto backend = createCpuBackend(2);
        const TestWeight w = makeWeight(*backend, StorageFormat(format), n, k, 21);
        const auto x = randomVector(static_cast<std::size_t>(m * k), 22);
        const Tensor xt = upload(*backend, x, {m, k});
        const Tensor all = upload(*backend, std::vector<float>(static_cast<std::size_t>(m * n)), {m, n});
        QVERIFY(backend->matmul(all, xt, w.tensor, Tensor{}, MatmulMode::Overwrite).isOk());
        const auto batched = download(*backend, all);
        const Tensor one = upload(*backend, std::vector<float>(static_cast<std::size_t>(n)), {1, n});
        for (int i = 0; i < m; ++i) {
            auto row = rowView(xt, i, 1);
            QVERIFY(row.isOk());
            QVERIFY(backend->matmul(one, *row, w.tensor, Tensor{}, MatmulMode::Overwrite).isOk());
            const auto single = download(*backend, one);
            // Q8/Q4 decode on AVX2 quantises x to int8 (the GEMM does not): that rounding is allowed on top.
            const std::vector<float> xi(x.begin() + i * k, x.begin() + (i + 1) * k);
            for (int j = 0; j < n; ++j)
                QVERIFY(std::fabs(single[static_cast<std::size_t>(j)] - batched[static_cast<std::size_t>(i * n + j)]) <=
                        1e-5 * (1 + std::fabs(batched[static_cast<std::size_t>(i * n + j)])) +
                            (int8Decode(StorageFormat(format), 1, k) ? int8ActivationBound(xi, w.exact, 0, j, k) : 0.0));
        }
    }

    void threadPoolRunsEveryIndexOnce() {
        // Back-to-back parallelFor calls (the spin-then-sleep dispatch) with every chunk count, including
        // fewer chunks than workers: each index runs exactly once per call.
        ThreadPool pool(4);
        std::vector<int> hits(1000);
        for (int round = 0; round < 2000; ++round) {
            const std::int64_t n = 1 + round % 37;
            pool.parallelFor(n, 1 + round % 5, [&](std::int64_t b, std::int64_t e, int) {
                for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
            });
            for (std::int64_t i = 0; i < n; ++i) {
                if (hits[static_cast<std::size_t>(i)] != 1) QFAIL(qPrintable(QString("round %1 index %2 ran %3 times").arg(round).arg(i).arg(hits[static_cast<std::size_t>(i)])));
                hits[static_cast<std::size_t>(i)] = 0;
            }
        }
    }

    // The weight format choice is shared by the CPU and CUDA backends (planWeightUpload); guards against
    // the two drifting apart and against silently accepting a wrong dtype or byte size.
    void weightUploadPlan() {
        std::vector<std::byte> bytes(256 * 2);
        TensorView m{"m", DType::F16, {2, 128}, bytes.data(), 2 * 128 * 2};
        auto q4 = planWeightUpload(m, WeightPrecision::Q4, "cpu");
        QVERIFY(q4.isOk());
        QCOMPARE(q4->stored, StorageFormat::F16);
        QCOMPARE(q4->target, StorageFormat::Q4Group128);
        TensorView odd{"odd", DType::BF16, {4, 64}, bytes.data(), 4 * 64 * 2};
        QCOMPARE(planWeightUpload(odd, WeightPrecision::Q4, "cpu")->target, StorageFormat::Q8PerChannel);
        TensorView vec{"norm", DType::F32, {128}, bytes.data(), 128 * 4};
        QCOMPARE(planWeightUpload(vec, WeightPrecision::Q8, "cpu")->target, StorageFormat::F32);
        QCOMPARE(planWeightUpload(vec, WeightPrecision::F16, "cpu")->target, StorageFormat::F16);
        QCOMPARE(planWeightUpload(m, WeightPrecision::F32, "cpu")->target, StorageFormat::F32);  // exact fp32 runs
        WeightPrecision parsed = WeightPrecision::AsStored;
        QVERIFY(parseWeightPrecision("f32", &parsed));
        QCOMPARE(parsed, WeightPrecision::F32);
        QCOMPARE(weightPrecisionName(WeightPrecision::F32), std::string_view("f32"));
        QVERIFY(!parseWeightPrecision("fp32", &parsed));
        TensorView scalar{"s", DType::F32, {}, bytes.data(), 4};
        QCOMPARE(planWeightUpload(scalar, WeightPrecision::AsStored, "cpu")->shape, (Shape{1}));
        TensorView ints{"ids", DType::I32, {4}, bytes.data(), 16};
        auto bad = planWeightUpload(ints, WeightPrecision::AsStored, "cuda");
        QCOMPARE(bad.status().code(), ErrorCode::Unsupported);
        QVERIFY(bad.status().message().find("cuda: weight ids has dtype I32") != std::string::npos);
        TensorView shortBytes{"w", DType::F16, {2, 128}, bytes.data(), 100};
        auto mis = planWeightUpload(shortBytes, WeightPrecision::AsStored, "cpu");
        QCOMPARE(mis.status().code(), ErrorCode::ShapeMismatch);
        QVERIFY(mis.status().message().find("cpu: weight w byte size 100 does not match") != std::string::npos);
    }
    void matmulShapeError() {
        auto backend = createCpuBackend(1);
        const Tensor x = upload(*backend, std::vector<float>(6), {2, 3});
        const Tensor w = upload(*backend, std::vector<float>(8), {2, 4});
        const Tensor out = upload(*backend, std::vector<float>(4), {2, 2});
        const Status s = backend->matmul(out, x, w, Tensor{}, MatmulMode::Overwrite);
        QCOMPARE(s.code(), ErrorCode::ShapeMismatch);
        QVERIFY(s.message().find("[2, 3]") != std::string::npos);
    }

    void outOfMemoryIsAnError() {
        auto backend = createCpuBackend(1);
        auto t = backend->allocate({std::int64_t{1} << 40, 1 << 20}, StorageFormat::F32, BufferRole::Scratch, "huge");
        QVERIFY(!t.isOk());
        QCOMPARE(t.status().code(), ErrorCode::OutOfMemory);
    }

    // Guards: releasing a handle twice put its id on the free list twice, so two later allocations shared
    // one buffer id (writes to one landed in the other).
    void doubleReleaseDoesNotShareIds() {
        auto backend = createCpuBackend(1);
        auto a = backend->allocate({2, 2}, StorageFormat::F32, BufferRole::Scratch, "a");
        QVERIFY(a.isOk());
        backend->release(*a);
        float back[4] = {};
        QCOMPARE(backend->download(*a, back, sizeof back).code(), ErrorCode::InvalidArgument);  // released
        backend->release(*a);
        auto b = backend->allocate({2, 2}, StorageFormat::F32, BufferRole::Scratch, "b");
        auto c = backend->allocate({2, 2}, StorageFormat::F32, BufferRole::Scratch, "c");
        QVERIFY(b.isOk() && c.isOk());
        QVERIFY(b->buffer != c->buffer);
        const float one[4] = {1, 1, 1, 1}, two[4] = {2, 2, 2, 2};
        QVERIFY(backend->upload(*b, one, sizeof one).isOk());
        QVERIFY(backend->upload(*c, two, sizeof two).isOk());
        QVERIFY(backend->download(*b, back, sizeof back).isOk());
        QCOMPARE(back[0], 1.0f);
    }

    // Guards: a conv weight with patch size 0 reached `side % patch` (a division by zero) in the CPU
    // backend; the shared check (backendchecks.h) rejects it as the CUDA backend always did.
    void patchEmbedRejectsZeroPatch() {
        auto backend = createCpuBackend(1);
        auto px = backend->allocate({1, 3, 4, 4}, StorageFormat::F32, BufferRole::Scratch, "pixels");
        auto w = backend->allocate({8, 3, 0, 0}, StorageFormat::F32, BufferRole::Scratch, "w");
        auto out = backend->allocate({1, 8}, StorageFormat::F32, BufferRole::Scratch, "out");
        QVERIFY(px.isOk() && w.isOk() && out.isOk());
        QCOMPARE(backend->patchEmbed(*out, *px, *w).code(), ErrorCode::ShapeMismatch);
    }

    void viewsRejectBadShapes() {
        // rowView: a count that would overflow rowBegin + rowCount; reshaped: negative dims whose product
        // matches ({-4, -4} for 16 elements) and a product past int64.
        auto backend = createCpuBackend(1);
        auto t = backend->allocate({4, 4}, StorageFormat::F32, BufferRole::Scratch, "v");
        QVERIFY(t.isOk());
        constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
        QCOMPARE(rowView(*t, 2, kMax).status().code(), ErrorCode::OutOfRange);
        QCOMPARE(rowView(*t, kMax, 1).status().code(), ErrorCode::OutOfRange);
        QVERIFY(rowView(*t, 1, 3).isOk());
        QCOMPARE(reshaped(*t, {-4, -4}).status().code(), ErrorCode::ShapeMismatch);
        QCOMPARE(reshaped(*t, {std::int64_t{1} << 32, std::int64_t{1} << 32, std::int64_t{1} << 32}).status().code(),
                 ErrorCode::ShapeMismatch);
        QVERIFY(reshaped(*t, {2, 8}).isOk());
        QVERIFY(reshaped(*t, {16}).isOk());
    }

    // Guards: ownedRowView/ownedReshaped (the model's views of its own scratch, backend.h) must give exactly
    // the checked views, and a range that rowView rejects must stop the program instead of yielding a view.
    void ownedViewsAreTheCheckedViews() {
        Tensor t;
        t.buffer = 1;
        t.shape = {4, 4};
        const Tensor rows = ownedRowView(t, 1, 3), checkedRows = *rowView(t, 1, 3);
        QCOMPARE(rows.offset, checkedRows.offset);
        QCOMPARE(rows.offset, std::size_t{16});
        QVERIFY(rows.shape == checkedRows.shape);
        QVERIFY(ownedReshaped(t, {2, 8}).shape == (Shape{2, 8}));
#ifdef Q_OS_LINUX
        for (int which = 0; which < 2; ++which) {
            const pid_t child = fork();
            QVERIFY(child >= 0);
            if (child == 0) {  // the child must die of SIGABRT, never return a view
                std::signal(SIGABRT, SIG_DFL);  // not QtTest's crash handler (it would attach a debugger)
                if (which == 0) (void)ownedRowView(t, 2, 3);
                else (void)ownedReshaped(t, {3, 5});
                _exit(0);
            }
            int status = 0;
            QCOMPARE(waitpid(child, &status, 0), child);
            QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, which == 0 ? "ownedRowView" : "ownedReshaped");
        }
#endif
    }

    void overflowingShapeIsAnError() {
        // Byte counts that wrap size_t (2^33 x 2^32 F32 = 2^67; 1 x (2^62 + 16) F32 = 2^64 + 64) must not
        // turn into a small buffer behind a huge shape, and a row product past int64 (2^32 x 2^32 x 2^32)
        // must be rejected before Tensor::rows() is evaluated.
        auto backend = createCpuBackend(1);
        const Shape shapes[] = {{std::int64_t{1} << 33, std::int64_t{1} << 32},
                                {1, (std::int64_t{1} << 62) + 16},
                                {std::int64_t{1} << 32, std::int64_t{1} << 32, std::int64_t{1} << 32}};
        for (const auto& shape : shapes)
            for (auto format : {StorageFormat::F32, StorageFormat::F16, StorageFormat::Q8PerChannel,
                                StorageFormat::Q4Group128}) {
                auto t = backend->allocate(shape, format, BufferRole::Scratch, "wrap");
                QVERIFY(!t.isOk());
                QCOMPARE(t.status().code(), ErrorCode::OutOfMemory);
            }
    }

    void attentionCausalGqa() {
        // 3 new queries after nPast = 2 cached keys; 4 q heads share 2 kv heads; headDim 8.
        const int nPast = 2, m = 3, nHeads = 4, nKv = 2, hd = 8, keys = nPast + m;
        auto backend = createCpuBackend(2);
        const auto q = randomVector(static_cast<std::size_t>(m * nHeads * hd), 4);
        const auto k = randomVector(static_cast<std::size_t>(keys * nKv * hd), 5);
        const auto v = randomVector(static_cast<std::size_t>(keys * nKv * hd), 6);
        std::vector<double> ref(q.size());
        const double scale = 1.0 / std::sqrt(double(hd));
        for (int i = 0; i < m; ++i)
            for (int h = 0; h < nHeads; ++h) {
                const int kvh = h / (nHeads / nKv), visible = nPast + i + 1;
                std::vector<double> p(static_cast<std::size_t>(visible));
                double mx = -1e30, sum = 0;
                for (int j = 0; j < visible; ++j) {
                    double s = 0;
                    for (int d = 0; d < hd; ++d)
                        s += double(q[static_cast<std::size_t>((i * nHeads + h) * hd + d)]) * k[static_cast<std::size_t>((j * nKv + kvh) * hd + d)];
                    p[static_cast<std::size_t>(j)] = s * scale;
                    mx = std::max(mx, s * scale);
                }
                for (auto& e : p) sum += (e = std::exp(e - mx));
                for (int d = 0; d < hd; ++d) {
                    double o = 0;
                    for (int j = 0; j < visible; ++j) o += p[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>((j * nKv + kvh) * hd + d)];
                    ref[static_cast<std::size_t>((i * nHeads + h) * hd + d)] = o;
                }
            }
        const Tensor qt = upload(*backend, q, {m, nHeads * hd});
        const Tensor kt = upload(*backend, k, {keys, nKv * hd}), vt = upload(*backend, v, {keys, nKv * hd});
        const Tensor out = upload(*backend, std::vector<float>(q.size()), {m, nHeads * hd});
        AttentionParams params{nHeads, nKv, hd, nPast, float(scale), AttentionMask::Causal};
        QVERIFY(backend->attention(out, qt, kt, vt, params).isOk());
        QVERIFY(maxAbsDiff(download(*backend, out), ref) < 1e-5);
    }

    void attentionShapes_data() {
        QTest::addColumn<QString>("isa");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("keys");
        QTest::addColumn<int>("nHeads");
        QTest::addColumn<int>("nKv");
        QTest::addColumn<int>("hd");
        QTest::addColumn<bool>("causal");
        // CLIP-like non-causal (key counts not multiples of 4 or 8: score/exp tails), headDim 64 and
        // 80 / 136 (output slices of 64 + a partial one), GQA with causal nPast.
        for (const char* isa : {"avx2", "portable"}) {
            QTest::addRow("%s clip-like 9x37 hd64", isa) << QString(isa) << 9 << 37 << 4 << 4 << 64 << false;
            QTest::addRow("%s noncausal 5x11 hd80", isa) << QString(isa) << 5 << 11 << 2 << 2 << 80 << false;
            QTest::addRow("%s causal gqa 3x23 hd136", isa) << QString(isa) << 3 << 23 << 4 << 2 << 136 << true;
            QTest::addRow("%s causal 1x1 hd8", isa) << QString(isa) << 1 << 1 << 2 << 1 << 8 << true;
            // No keys at all: the output rows are zeros (backend.h), not 0/0 = NaN.
            QTest::addRow("%s noncausal 3x0 hd64", isa) << QString(isa) << 3 << 0 << 2 << 2 << 64 << false;
            // >= 16 query rows: the blocked kernel on AVX2 (cpuattentiontiled.cpp; 32-row tiles, 256-key
            // blocks): a partial last tile, several key blocks with a partial last one, causal rows whose
            // visible keys end inside a block, the running-max rescale, and headDim 40 (a 32 + 8 slice).
            QTest::addRow("%s tiled causal gqa 45x600 hd128", isa) << QString(isa) << 45 << 600 << 4 << 2 << 128 << true;
            QTest::addRow("%s tiled clip-like 70x70 hd64", isa) << QString(isa) << 70 << 70 << 2 << 2 << 64 << false;
            QTest::addRow("%s tiled noncausal 33x513 hd40", isa) << QString(isa) << 33 << 513 << 2 << 1 << 40 << false;
            QTest::addRow("%s tiled causal 16x16 hd8", isa) << QString(isa) << 16 << 16 << 1 << 1 << 8 << true;
        }
    }
    void attentionShapes() {
        QFETCH(QString, isa);
        QFETCH(int, m);
        QFETCH(int, keys);
        QFETCH(int, nHeads);
        QFETCH(int, nKv);
        QFETCH(int, hd);
        QFETCH(bool, causal);
        auto backend = cpuBackend(isa, 2);
        const int nPast = causal ? keys - m : 0;
        // Scores up to ~|q||k|*scale; x3 so the softmax is peaked and exp's range matters.
        auto q = randomVector(static_cast<std::size_t>(m * nHeads * hd), 31);
        for (auto& e : q) e *= 3.0f;
        const auto k = randomVector(static_cast<std::size_t>(keys * nKv * hd), 32);
        const auto v = randomVector(static_cast<std::size_t>(keys * nKv * hd), 33);
        const double scale = 1.0 / std::sqrt(double(hd));
        std::vector<double> ref(q.size());
        for (int i = 0; i < m; ++i)
            for (int h = 0; h < nHeads; ++h) {
                const int kvh = h / (nHeads / nKv), visible = causal ? nPast + i + 1 : keys;
                std::vector<double> p(static_cast<std::size_t>(visible));
                double mx = -1e300, sum = 0;
                for (int j = 0; j < visible; ++j) {
                    double acc = 0;
                    for (int d = 0; d < hd; ++d)
                        acc += double(q[static_cast<std::size_t>((i * nHeads + h) * hd + d)]) * k[static_cast<std::size_t>((j * nKv + kvh) * hd + d)];
                    mx = std::max(mx, p[static_cast<std::size_t>(j)] = acc * scale);
                }
                for (auto& e : p) sum += (e = std::exp(e - mx));
                for (int d = 0; d < hd; ++d) {
                    double o = 0;
                    for (int j = 0; j < visible; ++j) o += p[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>((j * nKv + kvh) * hd + d)];
                    ref[static_cast<std::size_t>((i * nHeads + h) * hd + d)] = o;
                }
            }
        const Tensor qt = upload(*backend, q, {m, nHeads * hd});
        const Tensor kt = upload(*backend, k, {keys, nKv * hd}), vt = upload(*backend, v, {keys, nKv * hd});
        const Tensor out = upload(*backend, std::vector<float>(q.size()), {m, nHeads * hd});
        const AttentionParams params{nHeads, nKv, hd, nPast, float(scale), causal ? AttentionMask::Causal : AttentionMask::None};
        QVERIFY(backend->attention(out, qt, kt, vt, params).isOk());
        // Outputs are convex combinations of values in [-1, 1]; fp32 scores/exp (polynomial exp, rel. err
        // < 2e-7) keep the error near 1e-6; 1e-5 still catches any wrong key, mask or tail.
        const double err = maxAbsDiff(download(*backend, out), ref);
        QVERIFY2(err < 1e-5, qPrintable(QString("max abs err %1").arg(err)));
    }

    // The decode-step ops (position and id read from a step tensor, replayable as a CUDA graph) must be
    // exactly the regular ops at that position: the model's decode path uses them, prefill the others.
    void stepOpsMatchRegularOps() {
        auto backend = createCpuBackend(2);
        const int heads = 4, kvHeads = 2, hd = 16, rows = 12, vocab = 9, pos = 7;
        auto step = backend->allocate({2}, StorageFormat::I32, BufferRole::Scratch, "step");
        QVERIFY(step.isOk());
        const std::int32_t values[2] = {pos, 5};
        QVERIFY(backend->upload(*step, values, sizeof values).isOk());

        const Tensor table = upload(*backend, randomVector(vocab * 32, 40), {vocab, 32});
        const Tensor e1 = upload(*backend, std::vector<float>(32), {1, 32}), e2 = upload(*backend, std::vector<float>(32), {1, 32});
        QVERIFY(backend->embedAt(e1, table, *step).isOk());
        const std::int32_t id[1] = {5};
        QVERIFY(backend->embed(e2, table, id).isOk());
        QCOMPARE(download(*backend, e1), download(*backend, e2));

        const auto qv = randomVector(heads * hd, 41);
        const Tensor q1 = upload(*backend, qv, {1, heads * hd}), q2 = upload(*backend, qv, {1, heads * hd});
        QVERIFY(backend->ropeAt(q1, heads, hd, *step, 10000.0).isOk());
        QVERIFY(backend->rope(q2, heads, hd, pos, 10000.0).isOk());
        QCOMPARE(download(*backend, q1), download(*backend, q2));

        const Tensor k = upload(*backend, randomVector(rows * kvHeads * hd, 42), {rows, kvHeads * hd});
        const Tensor v = upload(*backend, randomVector(rows * kvHeads * hd, 43), {rows, kvHeads * hd});
        const auto kRow = randomVector(kvHeads * hd, 44);
        const Tensor src = upload(*backend, kRow, {1, kvHeads * hd});
        QVERIFY(backend->writeRowAt(k, src, *step).isOk());
        const auto kAfter = download(*backend, k);
        QCOMPARE(std::vector<float>(kAfter.begin() + pos * kvHeads * hd, kAfter.begin() + (pos + 1) * kvHeads * hd), kRow);

        // RoPE fused with the cache write == ropeAt then writeRowAt, into an F16 cache too; src unchanged.
        for (StorageFormat cacheFormat : {StorageFormat::F32, StorageFormat::F16}) {
            auto fused = backend->allocate({rows, kvHeads * hd}, cacheFormat, BufferRole::KvCache, "fused");
            auto split = backend->allocate({rows, kvHeads * hd}, cacheFormat, BufferRole::KvCache, "split");
            QVERIFY(fused.isOk() && split.isOk());
            const Tensor kSrc = upload(*backend, kRow, {1, kvHeads * hd}), kCopy = upload(*backend, kRow, {1, kvHeads * hd});
            QVERIFY(backend->ropeWriteRowAt(*fused, kSrc, kvHeads, hd, *step, 1e6).isOk());
            QCOMPARE(download(*backend, kSrc), kRow);
            QVERIFY(backend->ropeAt(kCopy, kvHeads, hd, *step, 1e6).isOk());
            QVERIFY(backend->writeRowAt(*split, kCopy, *step).isOk());
            std::vector<std::byte> a(storageBytes(cacheFormat, rows, kvHeads * hd)), b(a.size());
            QVERIFY(backend->download(*fused, a.data(), a.size()).isOk());
            QVERIFY(backend->download(*split, b.data(), b.size()).isOk());
            QVERIFY(a == b);
        }

        const AttentionParams params{heads, kvHeads, hd, 0, 0.25f, AttentionMask::None};  // nPast, mask ignored
        const Tensor a1 = upload(*backend, std::vector<float>(heads * hd), {1, heads * hd});
        const Tensor a2 = upload(*backend, std::vector<float>(heads * hd), {1, heads * hd});
        QVERIFY(backend->attentionAt(a1, q1, k, v, params, *step).isOk());
        AttentionParams causal{heads, kvHeads, hd, pos, 0.25f, AttentionMask::Causal};
        QVERIFY(backend->attention(a2, q1, *rowView(k, 0, pos + 1), *rowView(v, 0, pos + 1), causal).isOk());
        QCOMPARE(download(*backend, a1), download(*backend, a2));

        const std::int32_t outside[2] = {rows, 5};  // position past the cache
        QVERIFY(backend->upload(*step, outside, sizeof outside).isOk());
        QCOMPARE(backend->attentionAt(a1, q1, k, v, params, *step).code(), ErrorCode::OutOfRange);
        QCOMPARE(backend->writeRowAt(k, src, *step).code(), ErrorCode::OutOfRange);
        int runs = 0;
        QVERIFY(backend->runRecorded("key", [&] { ++runs; return Status::ok(); }).isOk());
        QVERIFY(backend->runRecorded("key", [&] { ++runs; return Status::ok(); }).isOk());
        QCOMPARE(runs, 2);  // the CPU backend runs the body every time
    }

    void ropeRotateHalf() {
        // headDim 4, theta 10000: inv_freq = [1, 1/100]; position 1 rotates (a0,b0) by 1 rad, (a1,b1) by 0.01.
        auto backend = createCpuBackend(1);
        const Tensor x = upload(*backend, {1, 2, 3, 4, 1, 2, 3, 4}, {2, 4});
        QVERIFY(backend->rope(x, 1, 4, 0, 10000.0).isOk());
        const auto r = download(*backend, x);
        QCOMPARE(r[0], 1.0f);  // position 0 unchanged
        const double c0 = std::cos(1.0), s0 = std::sin(1.0), c1 = std::cos(0.01), s1 = std::sin(0.01);
        const std::vector<double> expect{1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1};
        for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(r[static_cast<std::size_t>(4 + i)] - expect[static_cast<std::size_t>(i)]) < 1e-6);
    }

    void norms() {
        auto backend = createCpuBackend(1);
        const Tensor x = upload(*backend, {1, 2, 3, 4}, {1, 4});
        const Tensor w = upload(*backend, {1, 1, 2, 2}, {4});
        const Tensor b = upload(*backend, {0, 0, 0, 1}, {4});
        const Tensor out = upload(*backend, std::vector<float>(4), {1, 4});
        QVERIFY(backend->rmsNorm(out, x, w, 0.0f).isOk());  // rms = sqrt(7.5)
        auto r = download(*backend, out);
        QVERIFY(std::fabs(r[3] - 8 / std::sqrt(7.5)) < 1e-6);
        QVERIFY(backend->layerNorm(out, x, w, b, 0.0f).isOk());  // mean 2.5, var 1.25
        r = download(*backend, out);
        QVERIFY(std::fabs(r[0] - (-1.5 / std::sqrt(1.25))) < 1e-6);
        QVERIFY(std::fabs(r[3] - (2 * 1.5 / std::sqrt(1.25) + 1)) < 1e-6);
    }

    // Row-wise / element-wise ops on both kernel sets against double loops. Shapes: a decode-sized row with an
    // odd width (AVX2 tail loop, single-threaded), and 37 x 1100 (> 32768 floats: split over the pool, chunk
    // edges inside rows). Every op runs in place, the aliasing backend.h allows, so a kernel that writes
    // before it has read its whole row (norms) or a chunk boundary that drops elements shows up.
    // Tolerance |a-b| <= 2e-6 + 2e-5|ref| (a fifth of the fp32 default): fp32 sums over 1100 terms, fp32
    // rounding of the input near zero crossings, the polynomial exp (< 2e-7 relative).
    void elementwiseOps_data() {
        QTest::addColumn<QString>("isa");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        for (const char* isa : {"avx2", "portable"}) {
            QTest::newRow(qPrintable(QString("%1 1x1027").arg(isa))) << QString(isa) << 1 << 1027;
            QTest::newRow(qPrintable(QString("%1 3x5").arg(isa))) << QString(isa) << 3 << 5;
            QTest::newRow(qPrintable(QString("%1 37x1100 (threaded)").arg(isa))) << QString(isa) << 37 << 1100;
        }
    }
    void elementwiseOps() {
        QFETCH(QString, isa);
        QFETCH(int, rows);
        QFETCH(int, cols);
        auto backend = cpuBackend(isa, 2);
        const std::size_t n = static_cast<std::size_t>(rows) * cols, d = static_cast<std::size_t>(cols);
        auto x = randomVector(n, 11), y = randomVector(n, 12), w = randomVector(d, 13), bias = randomVector(d, 14);
        for (auto& v : x) v *= 6.0f;  // activations over [-6, 6]: both sigmoid tails
        auto check = [&](const char* what, const std::vector<float>& got, const std::vector<double>& ref) {
            double worst = 0;
            for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(got[i] - ref[i]) / (2e-6 + 2e-5 * std::fabs(ref[i])));
            QVERIFY2(worst <= 1.0, qPrintable(QString("%1: error %2 x the bound").arg(what).arg(worst)));
        };
        const Tensor wt = upload(*backend, w, {cols}), bt = upload(*backend, bias, {cols});
        std::vector<double> ref(n);
        {   // rmsNorm, in place
            const Tensor t = upload(*backend, x, {rows, cols});
            QVERIFY(backend->rmsNorm(t, t, wt, 1e-5f).isOk());
            for (std::size_t r = 0; r < n / d; ++r) {
                double ss = 0;
                for (std::size_t i = 0; i < d; ++i) ss += double(x[r * d + i]) * x[r * d + i];
                const double inv = 1.0 / std::sqrt(ss / double(d) + 1e-5);
                for (std::size_t i = 0; i < d; ++i) ref[r * d + i] = x[r * d + i] * inv * w[i];
            }
            check("rmsNorm", download(*backend, t), ref);
        }
        {   // layerNorm, in place; x shifted by +3 so a one-pass variance would lose digits
            std::vector<float> xs(x);
            for (auto& v : xs) v += 3.0f;
            const Tensor t = upload(*backend, xs, {rows, cols});
            QVERIFY(backend->layerNorm(t, t, wt, bt, 1e-5f).isOk());
            for (std::size_t r = 0; r < n / d; ++r) {
                double mean = 0, var = 0;
                for (std::size_t i = 0; i < d; ++i) mean += xs[r * d + i];
                mean /= double(d);
                for (std::size_t i = 0; i < d; ++i) var += (xs[r * d + i] - mean) * (xs[r * d + i] - mean);
                const double inv = 1.0 / std::sqrt(var / double(d) + 1e-5);
                for (std::size_t i = 0; i < d; ++i) ref[r * d + i] = (xs[r * d + i] - mean) * inv * w[i] + bias[i];
            }
            check("layerNorm", download(*backend, t), ref);
        }
        {   // siluMul, out aliasing gate
            const Tensor g = upload(*backend, x, {rows, cols}), u = upload(*backend, y, {rows, cols});
            QVERIFY(backend->siluMul(g, g, u).isOk());
            for (std::size_t i = 0; i < n; ++i) ref[i] = x[i] / (1.0 + std::exp(-double(x[i]))) * y[i];
            check("siluMul", download(*backend, g), ref);
        }
        {   // quickGelu and gelu, in place
            const Tensor t = upload(*backend, x, {rows, cols});
            QVERIFY(backend->quickGelu(t).isOk());
            for (std::size_t i = 0; i < n; ++i) ref[i] = x[i] / (1.0 + std::exp(-1.702 * x[i]));
            check("quickGelu", download(*backend, t), ref);
            const Tensor t2 = upload(*backend, x, {rows, cols});
            QVERIFY(backend->gelu(t2).isOk());
            for (std::size_t i = 0; i < n; ++i) ref[i] = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
            check("gelu", download(*backend, t2), ref);
        }
        {   // add: full (out aliasing b) and row broadcast (out aliasing a)
            const Tensor a = upload(*backend, x, {rows, cols}), b = upload(*backend, y, {rows, cols});
            QVERIFY(backend->add(b, a, b).isOk());
            for (std::size_t i = 0; i < n; ++i) ref[i] = double(x[i]) + y[i];
            check("add", download(*backend, b), ref);
            if (rows > 1) {
                QVERIFY(backend->add(a, a, bt).isOk());
                for (std::size_t i = 0; i < n; ++i) ref[i] = double(x[i]) + bias[i % d];
                check("add broadcast", download(*backend, a), ref);
            }
        }
    }

    void ropeThreadedMatchesSingleRow() {
        // 40 rows x 8 heads x 128 (> 32768 floats: threaded) vs the same rows rotated one at a time
        // (positionStart = row): guards chunk/position bookkeeping and the per-thread cos/sin table.
        auto backend = createCpuBackend(2);
        const int rowsN = 40, heads = 8, hd = 128;
        const auto x = randomVector(static_cast<std::size_t>(rowsN * heads * hd), 21);
        const Tensor all = upload(*backend, x, {rowsN, heads * hd});
        QVERIFY(backend->rope(all, heads, hd, 5, 1e6).isOk());
        const auto got = download(*backend, all);
        for (int r = 0; r < rowsN; r += 13) {
            const std::vector<float> row(x.begin() + r * heads * hd, x.begin() + (r + 1) * heads * hd);
            const Tensor one = upload(*backend, row, {1, heads * hd});
            QVERIFY(backend->rope(one, heads, hd, 5 + r, 1e6).isOk());
            const auto expect = download(*backend, one);
            for (int i = 0; i < heads * hd; ++i) QCOMPARE(got[static_cast<std::size_t>(r * heads * hd + i)], expect[static_cast<std::size_t>(i)]);
        }
    }

    void embedSkipsSpliceSlots() {
        auto backend = createCpuBackend(1);
        const Tensor table = upload(*backend, {0, 0, 1, 1, 2, 2}, {3, 2});
        const Tensor out = upload(*backend, {9, 9, 9, 9, 9, 9}, {3, 2});
        const std::vector<std::int32_t> ids{2, -1, 1};
        QVERIFY(backend->embed(out, table, ids).isOk());
        QCOMPARE(download(*backend, out), (std::vector<float>{2, 2, 9, 9, 1, 1}));
        const std::vector<std::int32_t> bad{3, 0, 0};
        QCOMPARE(backend->embed(out, table, bad).code(), ErrorCode::OutOfRange);
    }

    void patchEmbedMatchesConvolution() {
        // 1 crop 3x4x4, patch 2 -> 4 patches, 2 output channels.
        auto backend = createCpuBackend(1);
        const auto px = randomVector(48, 7), w = randomVector(24, 8);
        const Tensor pt = upload(*backend, px, {1, 3, 4, 4});
        const Tensor wt = upload(*backend, w, {2, 3, 2, 2});
        const Tensor out = upload(*backend, std::vector<float>(8), {4, 2});
        QVERIFY(backend->patchEmbed(out, pt, wt).isOk());
        std::vector<double> ref(8);
        for (int gy = 0; gy < 2; ++gy)
            for (int gx = 0; gx < 2; ++gx)
                for (int o = 0; o < 2; ++o) {
                    double s = 0;
                    for (int c = 0; c < 3; ++c)
                        for (int y = 0; y < 2; ++y)
                            for (int xx = 0; xx < 2; ++xx)
                                s += double(px[static_cast<std::size_t>((c * 4 + gy * 2 + y) * 4 + gx * 2 + xx)]) *
                                     w[static_cast<std::size_t>(((o * 3 + c) * 2 + y) * 2 + xx)];
                    ref[static_cast<std::size_t>((gy * 2 + gx) * 2 + o)] = s;
                }
        QVERIFY(maxAbsDiff(download(*backend, out), ref) < 1e-5);
    }

    void registryFallsBackWithReason() {
        BackendRegistry registry;
        registry.registerFactory(BackendKind::Cuda, [](const BackendRequest&) -> Result<std::unique_ptr<Backend>> {
            return makeError(ErrorCode::OutOfMemory, "not enough memory: requires 15.2 GB, 7.9 GB free");
        });
        auto choice = registry.create(BackendKind::Auto, {});
        QVERIFY(choice.isOk());
        QCOMPARE(choice->backend->info().name, std::string("cpu"));
        QVERIFY(choice->fallbackReason.find("7.9 GB free") != std::string::npos);
        QVERIFY(!registry.create(BackendKind::Cuda, {}).isOk());
    }
};

QTEST_GUILESS_MAIN(TestCpuBackend)
#include "tst_cpubackend.moc"
