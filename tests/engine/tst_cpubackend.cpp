// CPU backend ops against independent double-precision loops written here (and hand-computed values
// for rope and norms). Guards: wrong transposition/strides in the blocked matmul (shapes not multiples of
// the 64x256 panel or the 2x4 micro-kernel), fp16/bf16 decoding, quantisation error bounds, causal mask
// off-by-one with nPast, GQA head mapping, OOM and shape errors returned as values.
#include <QtTest>

#include <cmath>
#include <random>

#include "backend/cpu/halfconv.h"
#include "llava/backend.h"

using namespace llava;

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
