// CUDA backend vs the CPU reference, op by op, on fresh random inputs. Guards: wrong indexing or
// transposition in a kernel (shapes deliberately not multiples of any block/warp/chunk size), the
// vectorised-vs-scalar matvec paths, GQA head mapping, causal off-by-one with nPast, split-K decode
// merging, stray writes past an output (guard rows with sentinels), quantisation bytes that differ
// from the CPU's, ids < 0 in embed, argmax ties, errors returned as Status (shape, range, OOM).
// Tolerances (docs targets.md): NMSE <= 1e-7 for fp32 math; <= 1e-5 where activations are rounded to
// fp16/bf16 for tensor-core GEMMs (16-bit weights, M > 8); quantised weights: 2e-5 for the GEMM path
// (both x and the dequantised weight rounded to bf16, expected ~3e-6), 1e-7 for the decode path
// (identical codes, fp32 math). Skips, with the reason, when no CUDA device is usable.
#include <QtTest>

#include <memory>

#include "gpu/paritykit.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;
using test::Pair;
using test::Parity;

namespace {
constexpr double kF32 = 1e-7, kHalf = 1e-5, kQuantGemm = 2e-5;
const char* formatName(StorageFormat f) { return storageFormatName(f).data(); }
}  // namespace

class TestBackendParity : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> m_cuda, m_cpu;
    std::unique_ptr<Parity> m_kit;
    std::uint64_t m_seed = 1;

private slots:
    void initTestCase() {
        auto cuda = cuda::createCudaBackend(BackendRequest{});
        if (!cuda.isOk()) QSKIP(qPrintable("no usable CUDA device: " + QString::fromStdString(cuda.status().message())));
        m_cuda = std::move(cuda).value();
        m_cpu = createCpuBackend(2);
        m_kit = std::make_unique<Parity>(*m_cuda, *m_cpu);
        qInfo("CUDA backend: %s", m_cuda->info().device.c_str());
    }

    void matmul_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("k");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<bool>("accumulate");
        QTest::addColumn<double>("tolerance");
        struct Fmt { StorageFormat f; double tolDecode, tolGemm; };
        const Fmt formats[] = {{StorageFormat::F32, kF32, kF32}, {StorageFormat::F16, kF32, kHalf},
                               {StorageFormat::BF16, kF32, kHalf}, {StorageFormat::Q8PerChannel, kF32, kQuantGemm},
                               {StorageFormat::Q4Group128, kF32, kQuantGemm}};
        for (const Fmt& f : formats)
            for (int m : {1, 3, 8, 9, 67})
                for (int k : {256, 204, 203}) {  // 204: scalar matvec path for 16/8-bit, 203: for all formats
                    if (f.f == StorageFormat::Q4Group128 && k % 128) continue;
                    const bool decode = m <= 8;
                    QTest::addRow("%s m%d n37 k%d", formatName(f.f), m, k)
                        << int(f.f) << m << 37 << k << (m % 2 == 1) << (m == 3 || m == 67) << (decode ? f.tolDecode : f.tolGemm);
                }
        QTest::addRow("BF16 m1 n4099 k4096 (mistral-sized row)") << int(StorageFormat::BF16) << 1 << 4099 << 4096 << false << true << kF32;
        QTest::addRow("F16 m130 n1024 k4096") << int(StorageFormat::F16) << 130 << 1024 << 4096 << true << false << kHalf;
        QTest::addRow("Q4 m2 n300 k1024") << int(StorageFormat::Q4Group128) << 2 << 300 << 1024 << true << false << kF32;
    }
    void matmul() {
        QFETCH(int, format);
        QFETCH(int, m);
        QFETCH(int, n);
        QFETCH(int, k);
        QFETCH(bool, bias);
        QFETCH(bool, accumulate);
        QFETCH(double, tolerance);
        const auto f = static_cast<StorageFormat>(format);
        const bool quant = f == StorageFormat::Q8PerChannel || f == StorageFormat::Q4Group128;
        const StorageFormat stored = quant ? StorageFormat::BF16 : f;
        const WeightPrecision precision = f == StorageFormat::Q8PerChannel ? WeightPrecision::Q8
                                          : f == StorageFormat::Q4Group128 ? WeightPrecision::Q4 : WeightPrecision::AsStored;
        Pair w = m_kit->weight(test::randomFloats(std::size_t(n) * k, ++m_seed, 0.1f), {n, k}, stored, precision);
        QCOMPARE(w.cuda.format, f);
        Pair x = m_kit->random(m, k, ++m_seed);
        Pair out = m_kit->random(m, n, ++m_seed);  // accumulate adds onto these
        Pair b = bias ? m_kit->plain(test::randomFloats(std::size_t(n), ++m_seed), {n}, StorageFormat::BF16) : Pair{};
        const MatmulMode mode = accumulate ? MatmulMode::Accumulate : MatmulMode::Overwrite;
        QVERIFY(m_cuda->matmul(out.cuda, x.cuda, w.cuda, b.cuda, mode).isOk());
        QVERIFY(m_cpu->matmul(out.cpu, x.cpu, w.cpu, b.cpu, mode).isOk());
        QVERIFY(m_kit->compare(out, QTest::currentDataTag()) <= tolerance);
    }

    // Quantisation at load gives the CPU's bytes exactly (same arithmetic), and F16 conversion too.
    void uploadWeightBytes_data() {
        QTest::addColumn<int>("precision");
        QTest::addColumn<int>("cols");
        QTest::addRow("q8 cols 200") << int(WeightPrecision::Q8) << 200;
        QTest::addRow("q8 cols 257 (unaligned scales)") << int(WeightPrecision::Q8) << 257;
        QTest::addRow("q4 cols 384") << int(WeightPrecision::Q4) << 384;
        QTest::addRow("q4 cols 200 -> q8") << int(WeightPrecision::Q4) << 200;
        QTest::addRow("f16 from bf16") << int(WeightPrecision::F16) << 300;
    }
    void uploadWeightBytes() {
        QFETCH(int, precision);
        QFETCH(int, cols);
        const std::int64_t rows = 33;
        Pair w = m_kit->weight(test::randomFloats(std::size_t(rows * cols), ++m_seed, 0.5f), {rows, cols},
                               StorageFormat::BF16, static_cast<WeightPrecision>(precision));
        QCOMPARE(w.cuda.format, w.cpu.format);
        const std::size_t bytes = storageBytes(w.cuda.format, rows, cols);
        std::vector<std::uint8_t> a(bytes), b(bytes);
        QVERIFY(m_cuda->download(w.cuda, a.data(), bytes).isOk());
        QVERIFY(m_cpu->download(w.cpu, b.data(), bytes).isOk());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < bytes; ++i) differ += a[i] != b[i];
        QCOMPARE(differ, std::size_t{0});
    }

    void norms_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("d");
        QTest::addColumn<int>("wFormat");
        QTest::addRow("1x4096 bf16") << 1 << 4096 << int(StorageFormat::BF16);
        QTest::addRow("5x1000 f32") << 5 << 1000 << int(StorageFormat::F32);
        QTest::addRow("33x77 f16") << 33 << 77 << int(StorageFormat::F16);
    }
    void norms() {
        QFETCH(int, rows);
        QFETCH(int, d);
        QFETCH(int, wFormat);
        const auto f = static_cast<StorageFormat>(wFormat);
        Pair x = m_kit->random(rows, d, ++m_seed, 3.0f);
        Pair w = m_kit->plain(test::randomFloats(std::size_t(d), ++m_seed), {d}, f);
        Pair b = m_kit->plain(test::randomFloats(std::size_t(d), ++m_seed), {d}, f);
        Pair out = m_kit->random(rows, d, ++m_seed);
        QVERIFY(m_cuda->rmsNorm(out.cuda, x.cuda, w.cuda, 1e-5f).isOk());
        QVERIFY(m_cpu->rmsNorm(out.cpu, x.cpu, w.cpu, 1e-5f).isOk());
        QVERIFY(m_kit->compare(out, "rmsNorm") <= kF32);
        QVERIFY(m_cuda->layerNorm(x.cuda, x.cuda, w.cuda, b.cuda, 1e-5f).isOk());  // in place
        QVERIFY(m_cpu->layerNorm(x.cpu, x.cpu, w.cpu, b.cpu, 1e-5f).isOk());
        QVERIFY(m_kit->compare(x, "layerNorm (in place)") <= kF32);
    }

    void rope_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("start");
        QTest::addColumn<double>("theta");
        QTest::addRow("prefill 7x3x64 theta 1e4") << 7 << 3 << 64 << 0 << 10000.0;
        QTest::addRow("decode 1x8x128 pos 2930 theta 1e6") << 1 << 8 << 128 << 2930 << 1000000.0;
        QTest::addRow("19x2x80 pos 50") << 19 << 2 << 80 << 50 << 10000.0;
    }
    void rope() {
        QFETCH(int, rows);
        QFETCH(int, heads);
        QFETCH(int, headDim);
        QFETCH(int, start);
        QFETCH(double, theta);
        Pair x = m_kit->random(rows, heads * headDim, ++m_seed);
        QVERIFY(m_cuda->rope(x.cuda, heads, headDim, start, theta).isOk());
        QVERIFY(m_cpu->rope(x.cpu, heads, headDim, start, theta).isOk());
        QVERIFY(m_kit->compare(x, QTest::currentDataTag()) <= kF32);
    }

    void attention_data() {
        QTest::addColumn<int>("queries");
        QTest::addColumn<int>("keys");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("past");
        QTest::addColumn<bool>("causal");
        QTest::addRow("prefill causal 37 GQA 8/2 d64") << 37 << 37 << 8 << 2 << 64 << 0 << true;
        QTest::addRow("prefill causal 19 after 50 d128") << 19 << 80 << 4 << 1 << 128 << 50 << true;
        QTest::addRow("decode 1 after 700 GQA 8/2 d128 (3 splits)") << 1 << 701 << 8 << 2 << 128 << 700 << true;
        QTest::addRow("decode 1 after 0") << 1 << 1 << 4 << 4 << 64 << 0 << true;
        QTest::addRow("CLIP 577 non-causal 4 heads d64") << 577 << 577 << 4 << 4 << 64 << 0 << false;
        QTest::addRow("non-causal 5 queries over 33 keys d80") << 5 << 33 << 2 << 2 << 80 << 0 << false;
    }
    void attention() {
        QFETCH(int, queries);
        QFETCH(int, keys);
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        QFETCH(int, past);
        QFETCH(bool, causal);
        Pair q = m_kit->random(queries, heads * headDim, ++m_seed, 2.0f);
        Pair k = m_kit->random(keys, kvHeads * headDim, ++m_seed, 2.0f);
        Pair v = m_kit->random(keys, kvHeads * headDim, ++m_seed);
        Pair out = m_kit->random(queries, heads * headDim, ++m_seed);
        AttentionParams p;
        p.nHeads = heads;
        p.nKvHeads = kvHeads;
        p.headDim = headDim;
        p.nPast = past;
        p.scale = 1.0f / std::sqrt(static_cast<float>(headDim));
        p.mask = causal ? AttentionMask::Causal : AttentionMask::None;
        QVERIFY(m_cuda->attention(out.cuda, q.cuda, k.cuda, v.cuda, p).isOk());
        QVERIFY(m_cpu->attention(out.cpu, q.cpu, k.cpu, v.cpu, p).isOk());
        QVERIFY(m_kit->compare(out, QTest::currentDataTag()) <= kF32);
    }

    void elementwise() {
        const std::int64_t rows = 7, d = 1001;
        Pair x = m_kit->random(rows, d, ++m_seed, 4.0f);
        QVERIFY(m_cuda->quickGelu(x.cuda).isOk());
        QVERIFY(m_cpu->quickGelu(x.cpu).isOk());
        QVERIFY(m_kit->compare(x, "quickGelu") <= kF32);
        QVERIFY(m_cuda->gelu(x.cuda).isOk());
        QVERIFY(m_cpu->gelu(x.cpu).isOk());
        QVERIFY(m_kit->compare(x, "gelu") <= kF32);
        Pair up = m_kit->random(rows, d, ++m_seed, 2.0f);
        QVERIFY(m_cuda->siluMul(x.cuda, x.cuda, up.cuda).isOk());  // out aliases gate
        QVERIFY(m_cpu->siluMul(x.cpu, x.cpu, up.cpu).isOk());
        QVERIFY(m_kit->compare(x, "siluMul") <= kF32);
        QVERIFY(m_cuda->add(x.cuda, x.cuda, up.cuda).isOk());
        QVERIFY(m_cpu->add(x.cpu, x.cpu, up.cpu).isOk());
        QVERIFY(m_kit->compare(x, "add") <= kF32);
        Pair row = m_kit->plain(test::randomFloats(std::size_t(d), ++m_seed), {d}, StorageFormat::BF16);
        QVERIFY(m_cuda->add(up.cuda, x.cuda, row.cuda).isOk());
        QVERIFY(m_cpu->add(up.cpu, x.cpu, row.cpu).isOk());
        QVERIFY(m_kit->compare(up, "add broadcast bf16 row") <= kF32);
    }

    void embed() {
        const std::int64_t vocab = 50, d = 70;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::F32}) {
            Pair table = m_kit->plain(test::randomFloats(std::size_t(vocab * d), ++m_seed), {vocab, d}, f);
            const std::vector<std::int32_t> ids = {3, -1, 49, 0, -1, 3};
            Pair out = m_kit->random(std::int64_t(ids.size()), d, ++m_seed);  // rows of id -1 must keep these
            QVERIFY(m_cuda->embed(out.cuda, table.cuda, ids).isOk());
            QVERIFY(m_cpu->embed(out.cpu, table.cpu, ids).isOk());
            QVERIFY(m_kit->compare(out, "embed") == 0.0);
            const std::vector<std::int32_t> bad = {1, 50, 2, 0, 0, 0};
            const Status s = m_cuda->embed(out.cuda, table.cuda, bad);
            QCOMPARE(s.code(), ErrorCode::OutOfRange);
            QVERIFY2(s.message().find("50") != std::string::npos, s.message().c_str());
        }
    }

    void patchEmbed() {
        const std::int64_t crops = 2, side = 42, p = 14, d = 33, patches = crops * (side / p) * (side / p);
        for (StorageFormat f : {StorageFormat::F32, StorageFormat::F16}) {
            Pair px = m_kit->random(crops * 3 * side, side, ++m_seed);
            Tensor pc = px.cuda, ph = px.cpu;
            pc.shape = ph.shape = {crops, 3, side, side};
            Pair w = m_kit->weight(test::randomFloats(std::size_t(d * 3 * p * p), ++m_seed, 0.1f), {d, 3, p, p}, f,
                                   WeightPrecision::AsStored);
            Pair out = m_kit->random(patches, d, ++m_seed);
            QVERIFY(m_cuda->patchEmbed(out.cuda, pc, w.cuda).isOk());
            QVERIFY(m_cpu->patchEmbed(out.cpu, ph, w.cpu).isOk());
            QVERIFY(m_kit->compare(out, f == StorageFormat::F32 ? "patchEmbed f32" : "patchEmbed f16") <=
                    (f == StorageFormat::F32 ? kF32 : kHalf));
        }
    }

    void copyConvert() {
        const std::int64_t n = 1001;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::BF16, StorageFormat::F32}) {
            Pair src = m_kit->random(1, n, ++m_seed, 100.0f);
            Pair mid = m_kit->plain(std::vector<float>(std::size_t(n)), {n}, f);
            Pair back = m_kit->random(1, n, ++m_seed);
            QVERIFY(m_cuda->copy(mid.cuda, src.cuda).isOk());
            QVERIFY(m_cpu->copy(mid.cpu, src.cpu).isOk());
            QVERIFY(m_cuda->copy(back.cuda, mid.cuda).isOk());
            QVERIFY(m_cpu->copy(back.cpu, mid.cpu).isOk());
            QVERIFY(m_kit->compare(back, "copy f32 -> fmt -> f32") == 0.0);  // same rounding both sides
        }
    }

    void argmax() {
        const std::int64_t n = 32003;
        auto values = test::randomFloats(std::size_t(n), ++m_seed);
        values[777] = 5.0f;
        values[31000] = 5.0f;  // tie: lowest index wins
        values[32002] = 9.0f;  // beyond nValid
        Pair x = m_kit->activation(values, 1, n);
        auto c = m_cuda->argmax(x.cuda, n - 1);
        auto h = m_cpu->argmax(x.cpu, n - 1);
        QVERIFY(c.isOk() && h.isOk());
        QCOMPARE(*c, 777);
        QCOMPARE(*c, *h);
        QCOMPARE(*m_cuda->argmax(x.cuda, n), 32002);
        QCOMPARE(m_cuda->argmax(x.cuda, n + 1).status().code(), ErrorCode::OutOfRange);
    }

    void errorsAreStatus() {
        Pair a = m_kit->random(3, 8, ++m_seed), b = m_kit->random(3, 9, ++m_seed);
        const Status s = m_cuda->add(a.cuda, a.cuda, b.cuda);
        QCOMPARE(s.code(), ErrorCode::ShapeMismatch);
        auto huge = m_cuda->allocate({std::int64_t(1) << 22, std::int64_t(1) << 22}, StorageFormat::F32,
                                     BufferRole::Scratch, "too big");
        QVERIFY(!huge.isOk());
        QCOMPARE(huge.status().code(), ErrorCode::OutOfMemory);
        QVERIFY2(huge.status().message().find("free") != std::string::npos, huge.status().message().c_str());
        QVERIFY(m_cuda->synchronize().isOk());  // the failed allocation left the backend usable
        const BackendInfo info = m_cuda->info();
        QCOMPARE(info.name, std::string("cuda"));
        QVERIFY(info.memory.deviceTotalBytes > 0);
        QVERIFY(info.device.find("sm_") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBackendParity)
#include "tst_backend_parity.moc"
