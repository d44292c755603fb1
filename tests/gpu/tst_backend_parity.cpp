// CUDA backend vs the CPU reference, op by op, on fresh random inputs. Guards: wrong indexing or
// transposition in a kernel (shapes deliberately not multiples of any block/warp/chunk size), the
// vectorised-vs-scalar matvec paths, GQA head mapping, causal off-by-one with nPast, split-K decode
// merging, stray writes past an output (guard rows with sentinels), quantisation bytes that differ
// from the CPU's, ids < 0 in embed, argmax ties, errors returned as Status (shape, range, OOM).
// Tolerances (docs targets.md): NMSE <= 1e-7 for fp32 math; <= 1e-5 where activations are rounded to
// fp16/bf16 for tensor-core GEMMs (16-bit weights, M > 8); quantised weights: 2e-5 for the GEMM path
// (both x and the dequantised weight rounded to bf16, expected ~3e-6), 1e-7 for the decode path
// (identical codes, fp32 math). Skips, with the reason, when no CUDA device is usable.
// Output: one "PARITY <op> <shape> NMSE .. maxabs .." line per comparison, "PARITY FAIL ..." naming op,
// shape and tolerance on a failure (scripts/gpu-check collects both into docs/perf/).
// Misaligned views (addresses 4/8/12 bytes past a 16-byte boundary) guard the vectorised paths.
#include <QtTest>

#include <memory>
#include <string>

#include "gpu/paritykit.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;
using test::Pair;
using test::Parity;

// Fails the test with the Status text (op, shapes) instead of a bare "isOk() returned FALSE".
#define EXPECT_OK(expr)                                                 \
    do {                                                                \
        const ::llava::Status expectStatus_ = (expr);                   \
        QVERIFY2(expectStatus_.isOk(), expectStatus_.toString().c_str()); \
    } while (0)

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
        // Real decode shapes: lm head (32064 rows), down projection (k = 14336), 8-row matvec limit.
        QTest::addRow("F16 m1 n32064 k4096 (lm head)") << int(StorageFormat::F16) << 1 << 32064 << 4096 << false << false << kF32;
        QTest::addRow("Q4 m1 n4096 k14336 (down)") << int(StorageFormat::Q4Group128) << 1 << 4096 << 14336 << false << true << kF32;
        QTest::addRow("Q8 m8 n1031 k4096") << int(StorageFormat::Q8PerChannel) << 8 << 1031 << 4096 << true << true << kF32;
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
        EXPECT_OK(m_cuda->matmul(out.cuda, x.cuda, w.cuda, b.cuda, mode));
        EXPECT_OK(m_cpu->matmul(out.cpu, x.cpu, w.cpu, b.cpu, mode));
        QVERIFY(m_kit->close(out, std::string("matmul ") + QTest::currentDataTag(), tolerance));
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
        EXPECT_OK(m_cuda->download(w.cuda, a.data(), bytes));
        EXPECT_OK(m_cpu->download(w.cpu, b.data(), bytes));
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
        EXPECT_OK(m_cuda->rmsNorm(out.cuda, x.cuda, w.cuda, 1e-5f));
        EXPECT_OK(m_cpu->rmsNorm(out.cpu, x.cpu, w.cpu, 1e-5f));
        QVERIFY(m_kit->close(out, "rmsNorm", kF32));
        EXPECT_OK(m_cuda->layerNorm(x.cuda, x.cuda, w.cuda, b.cuda, 1e-5f));  // in place
        EXPECT_OK(m_cpu->layerNorm(x.cpu, x.cpu, w.cpu, b.cpu, 1e-5f));
        QVERIFY(m_kit->close(x, "layerNorm (in place)", kF32));
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
        // inv_freq must be bit-identical to the CPU's (host powf): at position ~4000 one ulp is visible.
        QTest::addRow("prefill 64x8x128 pos 3900 theta 1e6") << 64 << 8 << 128 << 3900 << 1000000.0;
        QTest::addRow("CLIP-free odd 3x5x6 pos 7") << 3 << 5 << 6 << 7 << 10000.0;
    }
    void rope() {
        QFETCH(int, rows);
        QFETCH(int, heads);
        QFETCH(int, headDim);
        QFETCH(int, start);
        QFETCH(double, theta);
        Pair x = m_kit->random(rows, heads * headDim, ++m_seed);
        EXPECT_OK(m_cuda->rope(x.cuda, heads, headDim, start, theta));
        EXPECT_OK(m_cpu->rope(x.cpu, heads, headDim, start, theta));
        QVERIFY(m_kit->close(x, std::string("rope ") + QTest::currentDataTag(), kF32));
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
        // Mistral shapes: 4096-key cache (16 splits), a causal prefill not a multiple of the 16-row tile,
        // a chunk continuing after 1000 cached keys, one non-causal query (decode kernel without mask).
        QTest::addRow("decode 1 after 4095 GQA 32/8 d128 (16 splits)") << 1 << 4096 << 32 << 8 << 128 << 4095 << true;
        QTest::addRow("prefill causal 301 GQA 32/8 d128") << 301 << 301 << 32 << 8 << 128 << 0 << true;
        QTest::addRow("prefill causal 33 after 1000 GQA 8/2 d128") << 33 << 1033 << 8 << 2 << 128 << 1000 << true;
        QTest::addRow("causal 1 query with spare keys after 10") << 1 << 40 << 4 << 2 << 64 << 10 << true;
        QTest::addRow("non-causal 1 query over 577 keys d64") << 1 << 577 << 4 << 4 << 64 << 0 << false;
        QTest::addRow("non-causal 2 queries over 0 keys") << 2 << 0 << 2 << 2 << 64 << 0 << false;
        QTest::addRow("prefill causal 17 d40 (headDim not /32)") << 17 << 17 << 3 << 1 << 40 << 0 << true;
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
        EXPECT_OK(m_cuda->attention(out.cuda, q.cuda, k.cuda, v.cuda, p));
        EXPECT_OK(m_cpu->attention(out.cpu, q.cpu, k.cpu, v.cpu, p));
        QVERIFY(m_kit->close(out, std::string("attention ") + QTest::currentDataTag(), kF32));
    }

    // Views whose device address is 4 bytes past a 16-byte boundary (a row view of an odd-width tensor):
    // every op must give the same result as from an aligned buffer (vectorised loads must fall back).
    void misalignedViews_data() {
        QTest::addColumn<int>("offset");
        QTest::addRow("offset 1 float") << 1;
        QTest::addRow("offset 2 floats") << 2;
        QTest::addRow("offset 3 floats") << 3;
    }
    void misalignedViews() {
        QFETCH(int, offset);
        const std::string tag = std::string(" @+") + std::to_string(offset) + " floats";
        const Tensor none;
        for (StorageFormat f : {StorageFormat::F32, StorageFormat::F16, StorageFormat::BF16, StorageFormat::Q8PerChannel,
                                StorageFormat::Q4Group128}) {
            const bool quant = f == StorageFormat::Q8PerChannel || f == StorageFormat::Q4Group128;
            const WeightPrecision precision = f == StorageFormat::Q8PerChannel ? WeightPrecision::Q8
                                              : f == StorageFormat::Q4Group128 ? WeightPrecision::Q4 : WeightPrecision::AsStored;
            const std::int64_t n = 45, k = 256;
            Pair w = m_kit->weight(test::randomFloats(std::size_t(n * k), ++m_seed, 0.1f), {n, k},
                                   quant ? StorageFormat::BF16 : f, precision);
            for (std::int64_t m : {2, 11}) {  // matvec and GEMM
                Pair x = m_kit->random(m, k, ++m_seed, 1.0f, offset);
                Pair out = m_kit->random(m, n, ++m_seed, 1.0f, offset);
                EXPECT_OK(m_cuda->matmul(out.cuda, x.cuda, w.cuda, none, MatmulMode::Accumulate));
                EXPECT_OK(m_cpu->matmul(out.cpu, x.cpu, w.cpu, none, MatmulMode::Accumulate));
                const double tol = m <= 8 ? kF32 : (f == StorageFormat::F32 ? kF32 : quant ? kQuantGemm : kHalf);
                QVERIFY(m_kit->close(out, std::string("matmul ") + formatName(f) + " m" + std::to_string(m) + tag, tol));
            }
        }
        for (int queries : {1, 20}) {
            const int heads = 4, kvHeads = 2, hd = 64, past = queries == 1 ? 30 : 0, keys = past + queries;
            Pair q = m_kit->random(queries, heads * hd, ++m_seed, 2.0f, offset);
            Pair k = m_kit->random(keys, kvHeads * hd, ++m_seed, 2.0f, offset);
            Pair v = m_kit->random(keys, kvHeads * hd, ++m_seed, 1.0f, offset);
            Pair out = m_kit->random(queries, heads * hd, ++m_seed, 1.0f, offset);
            AttentionParams p;
            p.nHeads = heads;
            p.nKvHeads = kvHeads;
            p.headDim = hd;
            p.nPast = past;
            p.scale = 0.125f;
            EXPECT_OK(m_cuda->attention(out.cuda, q.cuda, k.cuda, v.cuda, p));
            EXPECT_OK(m_cpu->attention(out.cpu, q.cpu, k.cpu, v.cpu, p));
            QVERIFY(m_kit->close(out, "attention q" + std::to_string(queries) + tag, kF32));
        }
        Pair x = m_kit->random(5, 130, ++m_seed, 2.0f, offset);
        Pair g = m_kit->plain(test::randomFloats(130, ++m_seed), {130}, StorageFormat::F16);
        EXPECT_OK(m_cuda->rmsNorm(x.cuda, x.cuda, g.cuda, 1e-6f));
        EXPECT_OK(m_cpu->rmsNorm(x.cpu, x.cpu, g.cpu, 1e-6f));
        QVERIFY(m_kit->close(x, "rmsNorm in place" + tag, kF32));
        EXPECT_OK(m_cuda->rope(x.cuda, 5, 26, 100, 10000.0));
        EXPECT_OK(m_cpu->rope(x.cpu, 5, 26, 100, 10000.0));
        QVERIFY(m_kit->close(x, "rope" + tag, kF32));
    }

    void elementwise() {
        const std::int64_t rows = 7, d = 1001;
        Pair x = m_kit->random(rows, d, ++m_seed, 4.0f);
        EXPECT_OK(m_cuda->quickGelu(x.cuda));
        EXPECT_OK(m_cpu->quickGelu(x.cpu));
        QVERIFY(m_kit->close(x, "quickGelu", kF32));
        EXPECT_OK(m_cuda->gelu(x.cuda));
        EXPECT_OK(m_cpu->gelu(x.cpu));
        QVERIFY(m_kit->close(x, "gelu", kF32));
        Pair up = m_kit->random(rows, d, ++m_seed, 2.0f);
        EXPECT_OK(m_cuda->siluMul(x.cuda, x.cuda, up.cuda));  // out aliases gate
        EXPECT_OK(m_cpu->siluMul(x.cpu, x.cpu, up.cpu));
        QVERIFY(m_kit->close(x, "siluMul", kF32));
        EXPECT_OK(m_cuda->add(x.cuda, x.cuda, up.cuda));
        EXPECT_OK(m_cpu->add(x.cpu, x.cpu, up.cpu));
        QVERIFY(m_kit->close(x, "add", kF32));
        Pair row = m_kit->plain(test::randomFloats(std::size_t(d), ++m_seed), {d}, StorageFormat::BF16);
        EXPECT_OK(m_cuda->add(up.cuda, x.cuda, row.cuda));
        EXPECT_OK(m_cpu->add(up.cpu, x.cpu, row.cpu));
        QVERIFY(m_kit->close(up, "add broadcast bf16 row", kF32));
    }

    void embed() {
        const std::int64_t vocab = 50, d = 70;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::F32}) {
            Pair table = m_kit->plain(test::randomFloats(std::size_t(vocab * d), ++m_seed), {vocab, d}, f);
            const std::vector<std::int32_t> ids = {3, -1, 49, 0, -1, 3};
            Pair out = m_kit->random(std::int64_t(ids.size()), d, ++m_seed);  // rows of id -1 must keep these
            EXPECT_OK(m_cuda->embed(out.cuda, table.cuda, ids));
            EXPECT_OK(m_cpu->embed(out.cpu, table.cpu, ids));
            QVERIFY(m_kit->close(out, std::string("embed ") + formatName(f), 0.0));
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
            EXPECT_OK(m_cuda->patchEmbed(out.cuda, pc, w.cuda));
            EXPECT_OK(m_cpu->patchEmbed(out.cpu, ph, w.cpu));
            QVERIFY(m_kit->close(out, f == StorageFormat::F32 ? "patchEmbed f32" : "patchEmbed f16",
                                 f == StorageFormat::F32 ? kF32 : kHalf));
        }
    }

    void copyConvert() {
        const std::int64_t n = 1001;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::BF16, StorageFormat::F32}) {
            Pair src = m_kit->random(1, n, ++m_seed, 100.0f);
            Pair mid = m_kit->plain(std::vector<float>(std::size_t(n)), {n}, f);
            Pair back = m_kit->random(1, n, ++m_seed);
            EXPECT_OK(m_cuda->copy(mid.cuda, src.cuda));
            EXPECT_OK(m_cpu->copy(mid.cpu, src.cpu));
            EXPECT_OK(m_cuda->copy(back.cuda, mid.cuda));
            EXPECT_OK(m_cpu->copy(back.cpu, mid.cpu));
            QVERIFY(m_kit->close(back, "copy f32 -> fmt -> f32", 0.0));  // same rounding both sides
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
        EXPECT_OK(m_cuda->synchronize());  // the failed allocation left the backend usable
        const BackendInfo info = m_cuda->info();
        QCOMPARE(info.name, std::string("cuda"));
        QVERIFY(info.memory.deviceTotalBytes > 0);
        QVERIFY(info.device.find("sm_") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBackendParity)
#include "tst_backend_parity.moc"
