// CPU attention over an F16 KV cache (cpuattention.cpp row kernel, cpuattentiontiled.cpp blocked kernel, the
// portable fallback) against a double-precision reference written here.
// Two checks per shape:
//   1. the kernel reads F16 exactly: vs fp64 attention over the fp16-rounded keys/values, within 1e-5 (the
//      fp32 budget of the F32-cache test, tst_cpubackend attentionShapes);
//   2. what an F16 cache costs: vs fp64 attention over the unrounded fp32 keys/values, within the bound that
//      fp16 rounding implies (derived below), and the F32-cache kernel on the same data within that bound too.
// Guards: a wrong element size or stride for 16-bit rows (head offset, GQA head, row pitch), a missing
// conversion (raw bits read as floats), the tiled kernel's widened block misplaced, the decode step
// (attentionAt) or the cache write (writeRowAt / ropeWriteRowAt) not handling an F16 cache.
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <random>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/halfconv.h"
#include "llava/backend.h"
#include "llava/threadpool.h"

using namespace llava;

namespace {

std::vector<float> randomVector(std::size_t n, std::uint64_t seed, float scale = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

std::unique_ptr<Backend> cpuBackend(const QString& isa, int threads) {
    if (isa == "portable") setenv("LLAVA_CPU_ISA", "portable", 1);
    else unsetenv("LLAVA_CPU_ISA");
    auto backend = createCpuBackend(threads);
    unsetenv("LLAVA_CPU_ISA");
    return backend;
}

Tensor uploadF32(Backend& b, const std::vector<float>& data, const Shape& shape) {
    auto t = b.allocate(shape, StorageFormat::F32, BufferRole::Scratch, "test");
    if (!t.isOk() || !b.upload(*t, data.data(), data.size() * 4).isOk()) qFatal("upload failed");
    return *t;
}

// `data` rounded to fp16 and stored in an F16 tensor; `rounded` receives the fp16 values as fp32.
Tensor uploadF16(Backend& b, const std::vector<float>& data, const Shape& shape, std::vector<float>* rounded) {
    std::vector<std::uint16_t> bits(data.size());
    rounded->resize(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) (*rounded)[i] = cpu::f16ToF32(bits[i] = cpu::f32ToF16(data[i]));
    auto t = b.allocate(shape, StorageFormat::F16, BufferRole::KvCache, "test f16");
    if (!t.isOk() || !b.upload(*t, bits.data(), bits.size() * 2).isOk()) qFatal("upload f16 failed");
    return *t;
}

std::vector<float> download(Backend& b, const Tensor& t) {
    std::vector<float> out(static_cast<std::size_t>(t.elementCount()));
    if (!b.download(t, out.data(), out.size() * 4).isOk()) qFatal("download failed");
    return out;
}

struct Shape4 {
    int m, keys, nHeads, nKv, hd;
    bool causal;
};

// softmax(q kᵀ scale [+ causal mask]) v in double; the largest score perturbation that replacing k by kAlt
// could cause (sum_d |q_d| |k_d - kAlt_d| * scale, over every row, head and visible key) goes to *scoreShift.
std::vector<double> reference(const Shape4& s, const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, const std::vector<float>& kAlt, double* scoreShift) {
    const int nPast = s.causal ? s.keys - s.m : 0;
    const double scale = 1.0 / std::sqrt(double(s.hd));
    std::vector<double> out(q.size());
    *scoreShift = 0;
    for (int i = 0; i < s.m; ++i)
        for (int h = 0; h < s.nHeads; ++h) {
            const int kvh = h / (s.nHeads / s.nKv), visible = s.causal ? nPast + i + 1 : s.keys;
            std::vector<double> p(static_cast<std::size_t>(visible));
            double mx = -1e300, sum = 0;
            for (int j = 0; j < visible; ++j) {
                double acc = 0, shift = 0;
                for (int d = 0; d < s.hd; ++d) {
                    const auto qi = static_cast<std::size_t>((i * s.nHeads + h) * s.hd + d);
                    const auto ki = static_cast<std::size_t>((j * s.nKv + kvh) * s.hd + d);
                    acc += double(q[qi]) * k[ki];
                    shift += std::fabs(double(q[qi])) * std::fabs(double(k[ki]) - kAlt[ki]);
                }
                mx = std::max(mx, p[static_cast<std::size_t>(j)] = acc * scale);
                *scoreShift = std::max(*scoreShift, shift * scale);
            }
            for (auto& e : p) sum += (e = std::exp(e - mx));
            for (int d = 0; d < s.hd; ++d) {
                double o = 0;
                for (int j = 0; j < visible; ++j)
                    o += p[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>((j * s.nKv + kvh) * s.hd + d)];
                out[static_cast<std::size_t>((i * s.nHeads + h) * s.hd + d)] = o;
            }
        }
    return out;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

}  // namespace

class TestF16KvCache : public QObject {
    Q_OBJECT
private slots:
    void attentionOverF16Cache_data() {
        QTest::addColumn<QString>("isa");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("keys");
        QTest::addColumn<int>("nHeads");
        QTest::addColumn<int>("nKv");
        QTest::addColumn<int>("hd");
        QTest::addColumn<bool>("causal");
        for (const char* isa : {"avx2", "portable"}) {
            // Decode (one query row at a long position), a few rows (row kernel), a tail that is no multiple
            // of 4 or 8 keys, headDim 136 (a 64 + 64 + 8 output slice), non-causal.
            QTest::addRow("%s decode 1x1500 gqa hd128", isa) << QString(isa) << 1 << 1500 << 8 << 2 << 128 << true;
            QTest::addRow("%s rows 5x37 hd64", isa) << QString(isa) << 5 << 37 << 4 << 4 << 64 << true;
            QTest::addRow("%s rows 3x23 gqa hd136", isa) << QString(isa) << 3 << 23 << 4 << 2 << 136 << true;
            QTest::addRow("%s noncausal 2x11 hd80", isa) << QString(isa) << 2 << 11 << 2 << 2 << 80 << false;
            // >= 16 rows: the blocked kernel on AVX2 (32-row tiles, 256-key blocks widened from F16): partial
            // tile, several blocks with a partial last one, headDim 40 (a 32 + 8 slice).
            QTest::addRow("%s tiled causal gqa 45x600 hd128", isa) << QString(isa) << 45 << 600 << 4 << 2 << 128 << true;
            QTest::addRow("%s tiled noncausal 33x513 hd40", isa) << QString(isa) << 33 << 513 << 2 << 1 << 40 << false;
        }
    }
    void attentionOverF16Cache() {
        QFETCH(QString, isa);
        QFETCH(int, m);
        QFETCH(int, keys);
        QFETCH(int, nHeads);
        QFETCH(int, nKv);
        QFETCH(int, hd);
        QFETCH(bool, causal);
        const Shape4 s{m, keys, nHeads, nKv, hd, causal};
        auto backend = cpuBackend(isa, 2);
        // q x3: peaked softmax, so score errors matter.
        const auto q = randomVector(static_cast<std::size_t>(m * nHeads * hd), 51, 3.0f);
        const auto k = randomVector(static_cast<std::size_t>(keys * nKv * hd), 52);
        const auto v = randomVector(static_cast<std::size_t>(keys * nKv * hd), 53);
        std::vector<float> k16, v16;
        const Tensor qt = uploadF32(*backend, q, {m, nHeads * hd});
        const Tensor kt = uploadF16(*backend, k, {keys, nKv * hd}, &k16), vt = uploadF16(*backend, v, {keys, nKv * hd}, &v16);
        const Tensor k32 = uploadF32(*backend, k, {keys, nKv * hd}), v32 = uploadF32(*backend, v, {keys, nKv * hd});
        const Tensor out16 = uploadF32(*backend, std::vector<float>(q.size()), {m, nHeads * hd});
        const Tensor out32 = uploadF32(*backend, std::vector<float>(q.size()), {m, nHeads * hd});
        const double scale = 1.0 / std::sqrt(double(hd));
        const AttentionParams params{nHeads, nKv, hd, causal ? keys - m : 0, float(scale),
                                     causal ? AttentionMask::Causal : AttentionMask::None};
        QVERIFY(backend->attention(out16, qt, kt, vt, params).isOk());
        QVERIFY(backend->attention(out32, qt, k32, v32, params).isOk());
        const auto got16 = download(*backend, out16), got32 = download(*backend, out32);

        // 1. Exactly the stored fp16 values are used.
        double unusedShift = 0;
        const auto onRounded = reference(s, q, k16, v16, k16, &unusedShift);
        const double kernelErr = maxAbsDiff(got16, onRounded);
        QVERIFY2(kernelErr < 1e-5, qPrintable(QString("vs fp64 on the fp16 values: max abs err %1").arg(kernelErr)));

        // 2. Against the fp32 data. fp16 rounding moves each k, v element by at most 2^-11 relative (round to
        // nearest, 11-bit significand, |x| <= 1 so no subnormals): every score by at most
        // delta = max sum_d |q_d| |k_d - k16_d| * scale (computed exactly by reference()), so each probability by
        // a factor within [e^-2delta, e^2delta] and the output by at most (e^2delta - 1) max|v|; the rounded values
        // add at most max|v - v16| <= 2^-12 (|v| <= 1). Plus the 1e-5 fp32 budget.
        double delta = 0;
        const auto exact = reference(s, q, k, v, k16, &delta);
        double vShift = 0;
        for (std::size_t i = 0; i < v.size(); ++i) vShift = std::max(vShift, std::fabs(double(v[i]) - v16[i]));
        const double bound = std::expm1(2 * delta) + vShift + 1e-5;
        const double cacheErr = maxAbsDiff(got16, exact), f32Err = maxAbsDiff(got32, exact);
        std::vector<double> f32AsDouble(got32.begin(), got32.end());
        const double vsF32Cache = maxAbsDiff(got16, f32AsDouble);
        qInfo("max abs err: F16 cache %.3g, F32 cache %.3g, F16 vs F32 cache %.3g; fp16 bound %.3g", cacheErr, f32Err,
              vsF32Cache, bound);
        QVERIFY2(f32Err < 1e-5, qPrintable(QString("F32 cache: %1").arg(f32Err)));
        QVERIFY2(cacheErr <= bound, qPrintable(QString("F16 cache: %1 > bound %2").arg(cacheErr).arg(bound)));
        QVERIFY2(vsF32Cache <= bound + 1e-5, qPrintable(QString("F16 vs F32 cache: %1").arg(vsF32Cache)));
        // The rounding is visible (the F16 path really used 16-bit keys), far below the bound's worst case.
        QVERIFY(vsF32Cache > 0);
    }

    // The decode step over an F16 cache: the row written by ropeWriteRowAt / writeRowAt is the fp16 rounding of
    // the roped / plain row, and attentionAt equals attention() over the cache's first position + 1 rows.
    void decodeStepOverF16Cache() {
        auto backend = createCpuBackend(2);
        const int heads = 4, kvHeads = 2, hd = 32, rows = 40, pos = 29, width = kvHeads * hd;
        auto step = backend->allocate({2}, StorageFormat::I32, BufferRole::Scratch, "step");
        QVERIFY(step.isOk());
        const std::int32_t values[2] = {pos, 0};
        QVERIFY(backend->upload(*step, values, sizeof values).isOk());
        std::vector<float> k16, v16;
        const Tensor kc = uploadF16(*backend, randomVector(static_cast<std::size_t>(rows * width), 61), {rows, width}, &k16);
        const Tensor vc = uploadF16(*backend, randomVector(static_cast<std::size_t>(rows * width), 62), {rows, width}, &v16);
        const auto kRow = randomVector(static_cast<std::size_t>(width), 63), vRow = randomVector(static_cast<std::size_t>(width), 64);
        const Tensor kSrc = uploadF32(*backend, kRow, {1, width}), vSrc = uploadF32(*backend, vRow, {1, width});
        QVERIFY(backend->ropeWriteRowAt(kc, kSrc, kvHeads, hd, *step, 10000.0).isOk());
        QVERIFY(backend->writeRowAt(vc, vSrc, *step).isOk());

        // Expected rows: RoPE by hand (rotate-half, inv_freq in fp32 as HF), then fp16 rounding.
        std::vector<std::uint16_t> kBits(static_cast<std::size_t>(rows * width)), vBits(kBits.size());
        QVERIFY(backend->download(kc, kBits.data(), kBits.size() * 2).isOk());
        QVERIFY(backend->download(vc, vBits.data(), vBits.size() * 2).isOk());
        for (int h = 0; h < kvHeads; ++h)
            for (int i = 0; i < hd / 2; ++i) {
                const float invFreq = 1.0f / std::pow(10000.0f, float(2 * i) / float(hd));
                const float angle = float(pos) * invFreq;
                const float a = kRow[static_cast<std::size_t>(h * hd + i)], b = kRow[static_cast<std::size_t>(h * hd + i + hd / 2)];
                const float lo = a * std::cos(angle) - b * std::sin(angle), hi = b * std::cos(angle) + a * std::sin(angle);
                const auto at = [&](int d) { return cpu::f16ToF32(kBits[static_cast<std::size_t>(pos * width + h * hd + d)]); };
                QVERIFY(std::fabs(at(i) - lo) <= std::ldexp(std::fabs(lo), -11) + 1e-6);
                QVERIFY(std::fabs(at(i + hd / 2) - hi) <= std::ldexp(std::fabs(hi), -11) + 1e-6);
            }
        for (int d = 0; d < width; ++d)
            QCOMPARE(vBits[static_cast<std::size_t>(pos * width + d)], cpu::f32ToF16(vRow[static_cast<std::size_t>(d)]));

        const Tensor q = uploadF32(*backend, randomVector(static_cast<std::size_t>(heads * hd), 65, 3.0f), {1, heads * hd});
        const Tensor a1 = uploadF32(*backend, std::vector<float>(heads * hd), {1, heads * hd});
        const Tensor a2 = uploadF32(*backend, std::vector<float>(heads * hd), {1, heads * hd});
        const AttentionParams params{heads, kvHeads, hd, 0, 1.0f / std::sqrt(float(hd)), AttentionMask::None};
        QVERIFY(backend->attentionAt(a1, q, kc, vc, params, *step).isOk());
        const AttentionParams causal{heads, kvHeads, hd, pos, 1.0f / std::sqrt(float(hd)), AttentionMask::Causal};
        QVERIFY(backend->attention(a2, q, *rowView(kc, 0, pos + 1), *rowView(vc, 0, pos + 1), causal).isOk());
        QCOMPARE(download(*backend, a1), download(*backend, a2));
    }

    // Decode on AVX2 runs one task per kv head for its whole GQA group when there are enough (row, kv head) pairs
    // for the threads, else one task per q head (cpuattention.cpp). Both must give bit-identical rows (the same
    // arithmetic in the same order), F32 and F16 caches: a pool of 1 thread takes the grouped path, a pool of
    // nKvHeads + 1 threads the per-head one.
    void groupedDecodeEqualsPerHead() {
        if (cpu::detectCpuIsa() != cpu::CpuIsa::Avx2) QSKIP("no AVX2: both paths are the portable kernel");
        const int shapes[][4] = {{700, 32, 8, 128}, {37, 4, 4, 64}, {23, 4, 2, 136}, {1, 2, 1, 8}, {513, 7, 1, 40}};
        for (const auto& [keys, nh, nkv, hd] : shapes)
            for (StorageFormat format : {StorageFormat::F32, StorageFormat::F16}) {
                const AttentionShape s{1, keys, nh, nkv, hd, keys - 1, 1.0f / std::sqrt(float(hd)), true};
                const auto q = randomVector(static_cast<std::size_t>(nh * hd), 71, 3.0f);
                const auto k = randomVector(static_cast<std::size_t>(keys * nkv * hd), 72);
                const auto v = randomVector(static_cast<std::size_t>(keys * nkv * hd), 73);
                std::vector<std::uint16_t> k16(k.size()), v16(v.size());
                for (std::size_t i = 0; i < k.size(); ++i) {
                    k16[i] = cpu::f32ToF16(k[i]);
                    v16[i] = cpu::f32ToF16(v[i]);
                }
                const bool f16 = format == StorageFormat::F16;
                const cpu::KvRows kr{format, f16 ? reinterpret_cast<const std::byte*>(k16.data()) : reinterpret_cast<const std::byte*>(k.data())};
                const cpu::KvRows vr{format, f16 ? reinterpret_cast<const std::byte*>(v16.data()) : reinterpret_cast<const std::byte*>(v.data())};
                std::vector<float> grouped(q.size()), perHead(q.size());
                ThreadPool one(1), many(nkv + 1);
                cpu::Scratch s1, s2;
                cpu::attention(one, s1, cpu::CpuIsa::Avx2, grouped.data(), q.data(), kr, vr, s);
                cpu::attention(many, s2, cpu::CpuIsa::Avx2, perHead.data(), q.data(), kr, vr, s);
                QVERIFY2(grouped == perHead, qPrintable(QString("keys %1 heads %2/%3 hd %4 %5").arg(keys).arg(nh).arg(nkv).arg(hd)
                                                            .arg(f16 ? "F16" : "F32")));
            }
    }

    // Which cache the CPU backends ask for: the fast backend reads F16 caches (KvCacheFormat::Auto then picks
    // F16 for 16-bit weights), the reference backend keeps F32; explicit requests win.
    void autoFormatChoice() {
        QVERIFY(createCpuBackend(1)->info().f16KvCache);
        QVERIFY(!createCpuReferenceBackend(1)->info().f16KvCache);
        QCOMPARE(resolveKvCacheFormat(KvCacheFormat::Auto, true, true), StorageFormat::F16);
        QCOMPARE(resolveKvCacheFormat(KvCacheFormat::Auto, false, true), StorageFormat::F32);
        QCOMPARE(resolveKvCacheFormat(KvCacheFormat::Auto, true, false), StorageFormat::F32);
        QCOMPARE(resolveKvCacheFormat(KvCacheFormat::F32, true, true), StorageFormat::F32);
        QCOMPARE(resolveKvCacheFormat(KvCacheFormat::F16, false, false), StorageFormat::F16);
        KvCacheFormat parsed = KvCacheFormat::Auto;
        QVERIFY(parseKvCacheFormat("f16", &parsed) && parsed == KvCacheFormat::F16);
        QVERIFY(parseKvCacheFormat("f32", &parsed) && parsed == KvCacheFormat::F32);
        QVERIFY(parseKvCacheFormat("auto", &parsed) && parsed == KvCacheFormat::Auto);
        QVERIFY(!parseKvCacheFormat("bf16", &parsed));
    }
};

QTEST_GUILESS_MAIN(TestF16KvCache)
#include "tst_f16kvcache.moc"
