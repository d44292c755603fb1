// The integer-dot decode path for Q8/Q4 weights (cpuint8.h): activations quantised once per matmul to int8
// in blocks (Q8: 32 elements, Q4: 128), products in int8 x int8 -> int32.
//   * kernelMatchesScalarReference: the AVX2 kernel against gemvInt8Reference (the same int8 codes and
//     scales multiplied out one element at a time in double) over M = 1..4, row counts with 4/2/1-row tails
//     and split row ranges. Both evaluate the same sum, so they differ only by fp32 rounding:
//     |err| <= 1e-5 * sum|w x| + 1e-6 (k <= 512 terms, each of the <= k/32 fp32 block terms rounds at 2^-24).
//   * quantisationErrorBound: the reference against the fp32 product with the same dequantised weights.
//     Rounding x to the block grid moves each element by at most scale / 2 = max|x over its block| / 254, so
//     |err| <= sum_t |w_t| * max|x over t's block| / 254 (+ 1e-5 * sum|w x| for rounding). t's block is
//     its 32-column chunk (Q8) or its 128-column group (Q4, in either order); the test also checks the error
//     uses a good part of the bound (so x really was quantised).
//   * quantiserByHand: Q4 order, Q8 blocks, round-half-even codes and code sums worked out by hand.
//   * nonFiniteActivations: a NaN or Inf in x gives NaN outputs (never a finite number).
#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/cpuint8.h"
#include "backend/cpu/cpusimd.h"  // LLAVA_CPU_X86
#include "backend/cpu/halfconv.h"

using namespace llava;

namespace {

struct Case {
    StorageFormat format;
    int m, n, k;
};

const Case kCases[] = {{StorageFormat::Q8PerChannel, 1, 17, 32},  {StorageFormat::Q8PerChannel, 1, 64, 384},
                       {StorageFormat::Q8PerChannel, 1, 13, 160},
                       {StorageFormat::Q8PerChannel, 2, 7, 96},   {StorageFormat::Q8PerChannel, 3, 5, 256},
                       {StorageFormat::Q8PerChannel, 4, 9, 512},  {StorageFormat::Q4Group128, 1, 19, 128},
                       {StorageFormat::Q4Group128, 1, 64, 512},   {StorageFormat::Q4Group128, 2, 7, 256},
                       {StorageFormat::Q4Group128, 3, 6, 384},    {StorageFormat::Q4Group128, 4, 3, 128}};

// x (m, k) with block magnitudes from 1e-3 to 10 and a few outliers, so per-block scales matter.
std::vector<float> activations(int m, int k, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(m) * k);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float blockMag = std::pow(10.0f, static_cast<float>((i / 32) % 5) - 3.0f);
        x[i] = dist(rng) * blockMag * (i % 97 == 5 ? 20.0f : 1.0f);
    }
    return x;
}

struct Weights {
    std::vector<std::byte> stored;
    std::vector<float> exact;  // (n, k) dequantised
    cpu::WeightMatrix matrix() const { return {format, stored.data(), n, k}; }
    StorageFormat format;
    std::int64_t n, k;
};

Weights weights(StorageFormat format, int n, int k, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    std::vector<float> w(static_cast<std::size_t>(n) * k);
    for (auto& v : w) v = dist(rng);
    Weights out{std::vector<std::byte>(storageBytes(format, n, k)), std::vector<float>(w.size()), format, n, k};
    if (format == StorageFormat::Q8PerChannel) cpu::quantiseQ8(w.data(), n, k, out.stored.data());
    else cpu::quantiseQ4(w.data(), n, k, out.stored.data());
    for (int r = 0; r < n; ++r) cpu::decodeRow(out.matrix(), r, 0, k, out.exact.data() + static_cast<std::size_t>(r) * k);
    return out;
}

}  // namespace

class TestInt8Gemv : public QObject {
    Q_OBJECT
private slots:
    void kernelMatchesScalarReference() {
#ifndef LLAVA_CPU_X86
        QSKIP("no x86-64: the int8 kernel exists only there");
#else
        if (cpu::detectCpuIsa() != cpu::CpuIsa::Avx2) QSKIP("no AVX2 on this CPU: the int8 kernel does not run here");
        int seed = 1;
        for (const Case& c : kCases) {
            const Weights w = weights(c.format, c.n, c.k, seed++);
            const auto x = activations(c.m, c.k, seed++);
            QVERIFY(cpu::int8GemvApplies(cpu::CpuIsa::Avx2, c.m, w.matrix()));
            cpu::Int8Rows xq;
            cpu::quantiseRowsInt8(x.data(), c.m, c.k, c.format, xq);
            std::vector<float> bias(static_cast<std::size_t>(c.n));
            for (int j = 0; j < c.n; ++j) bias[static_cast<std::size_t>(j)] = 0.25f * static_cast<float>(j % 3);
            std::vector<float> ref(static_cast<std::size_t>(c.m * c.n), 0.5f), got = ref;
            cpu::gemvInt8Reference(ref.data(), xq, w.matrix(), bias.data(), true);
            // Two uneven row ranges, as two threads would get them.
            const std::int64_t split = c.n / 3;
            cpu::gemvInt8Avx2(got.data(), xq, w.matrix(), bias.data(), true, 0, split);
            cpu::gemvInt8Avx2(got.data(), xq, w.matrix(), bias.data(), true, split, c.n);
            for (int i = 0; i < c.m; ++i)
                for (int j = 0; j < c.n; ++j) {
                    double mag = 0;
                    for (int t = 0; t < c.k; ++t)
                        mag += std::fabs(double(w.exact[static_cast<std::size_t>(j * c.k + t)]) * x[static_cast<std::size_t>(i * c.k + t)]);
                    const std::size_t o = static_cast<std::size_t>(i * c.n + j);
                    QVERIFY2(std::fabs(got[o] - ref[o]) <= 1e-5 * mag + 1e-6,
                             qPrintable(QString("format %1 %2x%3x%4 out[%5,%6] kernel %7 reference %8")
                                            .arg(int(c.format)).arg(c.m).arg(c.n).arg(c.k).arg(i).arg(j).arg(got[o]).arg(ref[o])));
                }
        }
#endif
    }

    void quantisationErrorBound() {
        int seed = 100;
        double worstUse = 0;
        for (const Case& c : kCases) {
            const Weights w = weights(c.format, c.n, c.k, seed++);
            const auto x = activations(c.m, c.k, seed++);
            cpu::Int8Rows xq;
            cpu::quantiseRowsInt8(x.data(), c.m, c.k, c.format, xq);
            std::vector<float> got(static_cast<std::size_t>(c.m * c.n));
            cpu::gemvInt8Reference(got.data(), xq, w.matrix(), nullptr, false);
            for (int i = 0; i < c.m; ++i)
                for (int j = 0; j < c.n; ++j) {
                    double exact = 0, mag = 0, bound = 0;
                    for (int t = 0; t < c.k; ++t) {
                        const double wt = w.exact[static_cast<std::size_t>(j * c.k + t)];
                        const double xt = x[static_cast<std::size_t>(i * c.k + t)];
                        double chunkMax = 0;
                        const int block = c.format == StorageFormat::Q8PerChannel ? 32 : 128;
                        for (int u = t / block * block; u < std::min(c.k, t / block * block + block); ++u)
                            chunkMax = std::max(chunkMax, double(std::fabs(x[static_cast<std::size_t>(i * c.k + u)])));
                        exact += wt * xt;
                        mag += std::fabs(wt * xt);
                        bound += std::fabs(wt) * chunkMax / 254.0;
                    }
                    const double err = std::fabs(got[static_cast<std::size_t>(i * c.n + j)] - exact);
                    QVERIFY2(err <= bound + 1e-5 * mag + 1e-7,
                             qPrintable(QString("format %1 %2x%3x%4 out[%5,%6] err %7 > bound %8")
                                            .arg(int(c.format)).arg(c.m).arg(c.n).arg(c.k).arg(i).arg(j).arg(err).arg(bound)));
                    worstUse = std::max(worstUse, err / bound);
                }
        }
        qInfo("largest error / bound: %.3f", worstUse);
        QVERIFY2(worstUse > 0.02, "the activations were not quantised (error far below the int8 grid)");
    }

    void quantiserByHand() {
        // x[c] = c over 128 columns, except x[127] = 254: one block, max 254, scale 2, codes nearbyint(c / 2)
        // (halves to even). Q4 order: positions 0..31 = even columns 0..62, 32..63 = odd columns 1..63, then
        // the same for columns 64..127.
        std::vector<float> x(128);
        for (int c = 0; c < 128; ++c) x[static_cast<std::size_t>(c)] = static_cast<float>(c);
        x[127] = 254.0f;
        cpu::Int8Rows q;
        cpu::quantiseRowsInt8(x.data(), 1, 128, StorageFormat::Q4Group128, q);
        QCOMPARE(q.blocks, std::int64_t{1});
        QCOMPARE(q.scales[0], 2.0f);
        QCOMPARE(int(q.values[0]), 0);     // column 0
        QCOMPARE(int(q.values[1]), 1);     // column 2
        QCOMPARE(int(q.values[31]), 31);   // column 62
        QCOMPARE(int(q.values[32]), 0);    // column 1: 0.5 -> 0
        QCOMPARE(int(q.values[33]), 2);    // column 3: 1.5 -> 2
        QCOMPARE(int(q.values[34]), 2);    // column 5: 2.5 -> 2
        QCOMPARE(int(q.values[63]), 32);   // column 63: 31.5 -> 32
        QCOMPARE(int(q.values[64]), 32);   // column 64
        QCOMPARE(int(q.values[127]), 127); // column 127: 254 / 2
        // Even columns 0..126 give 0 + 1 + ... + 63 = 2016; odd columns 2j+1 (j = 0..62) give j, plus 1 for
        // the 31 odd j: 1953 + 31 = 1984; column 127 gives 127.
        QCOMPARE(q.codeSums[0], 2016 + 1984 + 127);

        // Q8, 64 columns: two 32-column blocks, each with its own scale.
        std::vector<float> y(64, 1.0f);
        y[3] = -4.0f;    // block 0: max 4, scale 4/127, 1.0 -> 31.75 -> 32
        y[50] = 0.5f;    // block 1: max 1, scale 1/127, 0.5 -> 63.5 -> 64
        cpu::quantiseRowsInt8(y.data(), 1, 64, StorageFormat::Q8PerChannel, q);
        QCOMPARE(q.blocks, std::int64_t{2});
        QCOMPARE(q.scales[0], 4.0f / 127.0f);
        QCOMPARE(q.scales[1], 1.0f / 127.0f);
        QCOMPARE(int(q.values[0]), 32);
        QCOMPARE(int(q.values[3]), -127);
        QCOMPARE(int(q.values[32]), 127);
        QCOMPARE(int(q.values[50]), 64);
        QCOMPARE(q.codeSums[0], 31 * 32 - 127);
        QCOMPARE(q.codeSums[1], 31 * 127 + 64);
    }

    void nonFiniteActivations() {
        const Weights w = weights(StorageFormat::Q8PerChannel, 5, 64, 7);
        for (float bad : {std::nanf(""), INFINITY}) {
            std::vector<float> x(64, 0.5f);
            x[40] = bad;
            cpu::Int8Rows xq;
            cpu::quantiseRowsInt8(x.data(), 1, 64, StorageFormat::Q8PerChannel, xq);
            std::vector<float> out(5);
            cpu::gemvInt8Reference(out.data(), xq, w.matrix(), nullptr, false);
            for (float o : out) QVERIFY(std::isnan(o));
#ifdef LLAVA_CPU_X86
            if (cpu::detectCpuIsa() == cpu::CpuIsa::Avx2) {
                std::fill(out.begin(), out.end(), 0.0f);
                cpu::gemvInt8Avx2(out.data(), xq, w.matrix(), nullptr, false, 0, 5);
                for (float o : out) QVERIFY(std::isnan(o));
            }
#endif
        }
    }
};

QTEST_APPLESS_MAIN(TestInt8Gemv)
#include "tst_int8gemv.moc"
