// CUDA backend vs the CPU reference, op by op, on fresh random inputs. Guards: wrong indexing or
// transposition in a kernel (shapes deliberately not multiples of any block/warp/chunk size), the
// vectorised-vs-scalar matvec paths, GQA head mapping, causal off-by-one with nPast, split-K decode
// merging, the tensor-core (cuBLAS) attention path for long sequences vs the flash kernel, stray writes
// past an output (guard rows with sentinels), quantisation bytes that differ from the CPU's, ids < 0 in
// embed, argmax ties, errors returned as Status (shape, range, OOM).
// Tolerances (docs targets.md): NMSE <= 1e-7 for fp32 math; <= 1e-5 where activations are rounded to
// fp16/bf16 for tensor-core GEMMs (16-bit weights, M > 8; attention over many keys); quantised weights:
// 2e-5 for the GEMM path (both x and the dequantised weight rounded to bf16, expected ~3e-6), 1e-7 for
// the decode path (identical codes, fp32 math). Skips, with the reason, when no CUDA device is usable.
// Output: one "PARITY <op> <shape> NMSE .. maxabs .." line per comparison, "PARITY FAIL ..." naming op,
// shape and tolerance on a failure (scripts/gpu-check collects both into docs/perf/).
// Misaligned views (addresses 4/8/12 bytes past a 16-byte boundary) guard the vectorised paths.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "gpu/gpucheck.h"
#include "gpu/paritykit.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;
using gpucheck::Context;
using test::Pair;
using test::Parity;

namespace {

constexpr double kF32 = 1e-7, kHalf = 1e-5, kQuantGemm = 2e-5;
const char* formatName(StorageFormat f) { return storageFormatName(f).data(); }

WeightPrecision precisionFor(StorageFormat f) {
    return f == StorageFormat::Q8PerChannel ? WeightPrecision::Q8
           : f == StorageFormat::Q4Group128 ? WeightPrecision::Q4
                                            : WeightPrecision::AsStored;
}
bool isQuantised(StorageFormat f) { return f == StorageFormat::Q8PerChannel || f == StorageFormat::Q4Group128; }

std::string format(const char* fmt, auto... args) {
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, fmt, args...);
    return buffer;
}

struct MatmulRow {
    std::string tag;
    StorageFormat format;
    int m, n, k;
    bool bias, accumulate;
    double tolerance;
};

std::vector<MatmulRow> matmulRows() {
    std::vector<MatmulRow> rows;
    struct Fmt {
        StorageFormat f;
        double tolDecode, tolGemm;
    };
    const Fmt formats[] = {{StorageFormat::F32, kF32, kF32}, {StorageFormat::F16, kF32, kHalf},
                           {StorageFormat::BF16, kF32, kHalf}, {StorageFormat::Q8PerChannel, kF32, kQuantGemm},
                           {StorageFormat::Q4Group128, kF32, kQuantGemm}};
    for (const Fmt& f : formats)
        for (int m : {1, 3, 8, 9, 67})
            for (int k : {256, 204, 203}) {  // 204: scalar matvec path for 16/8-bit, 203: for all formats
                if (f.f == StorageFormat::Q4Group128 && k % 128) continue;
                const bool decode = m <= 8;
                rows.push_back({format("%s m%d n37 k%d", formatName(f.f), m, k), f.f, m, 37, k, m % 2 == 1,
                                m == 3 || m == 67, decode ? f.tolDecode : f.tolGemm});
            }
    rows.push_back({"BF16 m1 n4099 k4096 (mistral-sized row)", StorageFormat::BF16, 1, 4099, 4096, false, true, kF32});
    rows.push_back({"F16 m130 n1024 k4096", StorageFormat::F16, 130, 1024, 4096, true, false, kHalf});
    rows.push_back({"Q4 m2 n300 k1024", StorageFormat::Q4Group128, 2, 300, 1024, true, false, kF32});
    // Real decode shapes: lm head (32064 rows), down projection (k = 14336), 8-row matvec limit.
    rows.push_back({"F16 m1 n32064 k4096 (lm head)", StorageFormat::F16, 1, 32064, 4096, false, false, kF32});
    rows.push_back({"Q4 m1 n4096 k14336 (down)", StorageFormat::Q4Group128, 1, 4096, 14336, false, true, kF32});
    rows.push_back({"Q8 m8 n1031 k4096", StorageFormat::Q8PerChannel, 8, 1031, 4096, true, true, kF32});
    return rows;
}

struct AttentionRow {
    std::string tag;
    int queries, keys, heads, kvHeads, headDim, past;
    bool causal;
    double tolerance;
    bool reduced = false;  // AttentionParams::reducedPrecision
    bool f16Kv = false;    // keys/values stored as F16 (a 16-bit KV cache) on both backends
};

// Rows of >= 64 queries take the cuBLAS path (attention_gemm.h); each runs twice: in fp32 (NMSE 1e-7)
// and with 16-bit operands (1e-5). Fewer queries take the flash / split-K kernels (fp32 either way).
std::vector<AttentionRow> attentionRows() {
    std::vector<AttentionRow> rows = {
        {"prefill causal 37 GQA 8/2 d64", 37, 37, 8, 2, 64, 0, true, kF32},
        {"prefill causal 19 after 50 d128", 19, 80, 4, 1, 128, 50, true, kF32},
        {"decode 1 after 700 GQA 8/2 d128 (3 splits)", 1, 701, 8, 2, 128, 700, true, kF32},
        {"decode 1 after 0", 1, 1, 4, 4, 64, 0, true, kF32},
        {"CLIP 577 non-causal 4 heads d64", 577, 577, 4, 4, 64, 0, false, kHalf},
        {"non-causal 5 queries over 33 keys d80", 5, 33, 2, 2, 80, 0, false, kF32},
        // Mistral shapes: 4096-key cache (16 splits), a causal prefill not a multiple of the 16-row tile,
        // a chunk continuing after 1000 cached keys, one non-causal query (decode kernel without mask).
        {"decode 1 after 4095 GQA 32/8 d128 (16 splits)", 1, 4096, 32, 8, 128, 4095, true, kF32},
        {"prefill causal 301 GQA 32/8 d128", 301, 301, 32, 8, 128, 0, true, kHalf},
        {"prefill causal 33 after 1000 GQA 8/2 d128", 33, 1033, 8, 2, 128, 1000, true, kHalf},
        {"causal 1 query with spare keys after 10", 1, 40, 4, 2, 64, 10, true, kF32},
        {"non-causal 1 query over 577 keys d64", 1, 577, 4, 4, 64, 0, false, kF32},
        {"non-causal 2 queries over 0 keys", 2, 0, 2, 2, 64, 0, false, kF32},
        {"prefill causal 17 d40 (headDim not /32)", 17, 17, 3, 1, 40, 0, true, kF32},
        // The real CLIP-L/336 shape (16 heads of 64) and a long causal chunk after a cached prefix.
        {"CLIP-L 577 non-causal 16 heads d64", 577, 577, 16, 16, 64, 0, false, kHalf},
        {"prefill causal 512 after 1500 GQA 32/8 d128", 512, 2012, 32, 8, 128, 1500, true, kHalf},
        // The GEMM path has no headDim limit; 64 rows is its threshold; 65 rows over 0 keys -> zeros.
        {"prefill causal 64 d256 (GEMM only)", 64, 64, 4, 2, 256, 0, true, kHalf},
        {"non-causal 65 queries over 0 keys", 65, 0, 2, 2, 64, 0, false, kF32},
        {"prefill causal 100 GQA 6/3 d72", 100, 100, 6, 3, 72, 0, true, kHalf},
    };
    std::vector<AttentionRow> out;
    for (AttentionRow& r : rows) {
        if (r.queries < 64) {
            r.tolerance = kF32;  // flash / split-K kernels: fp32 whatever the flag
            out.push_back(r);
            continue;
        }
        AttentionRow exact = r, reduced = r;
        exact.tag += " fp32";
        exact.tolerance = kF32;
        reduced.tag += " f16 tensor cores";
        reduced.tolerance = std::max(r.tolerance, kHalf);
        reduced.reduced = true;
        out.push_back(exact);
        out.push_back(reduced);
    }
    // 16-bit KV cache: split-K decode, flash prefill, and the GEMM path using F16 k/v as they are
    // (reduced) or widening them (fp32). Both backends read the same F16 bytes: fp32 tolerances apply
    // except where the GEMM path rounds q and p too.
    for (AttentionRow r : std::vector<AttentionRow>{
             {"f16 kv: decode 1 after 700 GQA 8/2 d128", 1, 701, 8, 2, 128, 700, true, kF32},
             {"f16 kv: prefill causal 37 GQA 8/2 d64", 37, 37, 8, 2, 64, 0, true, kF32},
             {"f16 kv: prefill causal 301 GQA 32/8 d128 fp32", 301, 301, 32, 8, 128, 0, true, kF32},
             {"f16 kv: prefill causal 301 GQA 32/8 d128 f16 tensor cores", 301, 301, 32, 8, 128, 0, true, kHalf, true}}) {
        r.f16Kv = true;
        out.push_back(r);
    }
    return out;
}

// The suite's shared state: both backends and the parity kit, made once in setup().
struct Suite {
    std::unique_ptr<Backend> cuda, cpu;
    std::unique_ptr<Parity> kit;
    std::uint64_t seed = 1;

    Parity& use(Context& ctx) {
        kit->attach(ctx);
        return *kit;
    }

    void matmul(Context& ctx) {
        Parity& kit = use(ctx);
        for (const MatmulRow& r : matmulRows()) {
            if (!ctx.beginRow(r.tag)) continue;
            const StorageFormat stored = isQuantised(r.format) ? StorageFormat::BF16 : r.format;
            Pair w = kit.weight(test::randomFloats(std::size_t(r.n) * r.k, ++seed, 0.1f), {r.n, r.k}, stored,
                                precisionFor(r.format));
            if (!ctx.check(w.cuda.format == r.format, "uploaded weight has the requested format")) continue;
            Pair x = kit.random(r.m, r.k, ++seed);
            Pair out = kit.random(r.m, r.n, ++seed);  // accumulate adds onto these
            Pair b = r.bias ? kit.plain(test::randomFloats(std::size_t(r.n), ++seed), {r.n}, StorageFormat::BF16) : Pair{};
            const MatmulMode mode = r.accumulate ? MatmulMode::Accumulate : MatmulMode::Overwrite;
            ctx.ok(cuda->matmul(out.cuda, x.cuda, w.cuda, b.cuda, mode));
            ctx.ok(cpu->matmul(out.cpu, x.cpu, w.cpu, b.cpu, mode));
            kit.close(out, "matmul " + r.tag, r.tolerance);
        }
    }

    // Quantisation at load gives the CPU's bytes exactly (same arithmetic), and F16 conversion too.
    void uploadWeightBytes(Context& ctx) {
        Parity& kit = use(ctx);
        struct Row {
            const char* tag;
            WeightPrecision precision;
            int cols;
        };
        for (const Row& r : {Row{"q8 cols 200", WeightPrecision::Q8, 200},
                             Row{"q8 cols 257 (unaligned scales)", WeightPrecision::Q8, 257},
                             Row{"q4 cols 384", WeightPrecision::Q4, 384}, Row{"q4 cols 200 -> q8", WeightPrecision::Q4, 200},
                             Row{"f16 from bf16", WeightPrecision::F16, 300}, Row{"f32 from bf16", WeightPrecision::F32, 300}}) {
            if (!ctx.beginRow(r.tag)) continue;
            const std::int64_t rows = 33;
            Pair w = kit.weight(test::randomFloats(std::size_t(rows * r.cols), ++seed, 0.5f), {rows, r.cols},
                                StorageFormat::BF16, r.precision);
            if (!ctx.check(w.cuda.format == w.cpu.format, "same storage format on both backends")) continue;
            const std::size_t bytes = storageBytes(w.cuda.format, rows, r.cols);
            std::vector<std::uint8_t> a(bytes), b(bytes);
            ctx.ok(cuda->download(w.cuda, a.data(), bytes));
            ctx.ok(cpu->download(w.cpu, b.data(), bytes));
            std::size_t differ = 0;
            for (std::size_t i = 0; i < bytes; ++i) differ += a[i] != b[i];
            ctx.check(differ == 0, format("%zu of %zu bytes differ", differ, bytes));
        }
    }

    void norms(Context& ctx) {
        Parity& kit = use(ctx);
        struct Row {
            const char* tag;
            int rows, d;
            StorageFormat wFormat;
        };
        for (const Row& r : {Row{"1x4096 bf16", 1, 4096, StorageFormat::BF16}, Row{"5x1000 f32", 5, 1000, StorageFormat::F32},
                             Row{"33x77 f16", 33, 77, StorageFormat::F16}}) {
            if (!ctx.beginRow(r.tag)) continue;
            Pair x = kit.random(r.rows, r.d, ++seed, 3.0f);
            Pair w = kit.plain(test::randomFloats(std::size_t(r.d), ++seed), {r.d}, r.wFormat);
            Pair b = kit.plain(test::randomFloats(std::size_t(r.d), ++seed), {r.d}, r.wFormat);
            Pair out = kit.random(r.rows, r.d, ++seed);
            ctx.ok(cuda->rmsNorm(out.cuda, x.cuda, w.cuda, 1e-5f));
            ctx.ok(cpu->rmsNorm(out.cpu, x.cpu, w.cpu, 1e-5f));
            kit.close(out, std::string("rmsNorm ") + r.tag, kF32);
            ctx.ok(cuda->layerNorm(x.cuda, x.cuda, w.cuda, b.cuda, 1e-5f));  // in place
            ctx.ok(cpu->layerNorm(x.cpu, x.cpu, w.cpu, b.cpu, 1e-5f));
            kit.close(x, std::string("layerNorm (in place) ") + r.tag, kF32);
        }
    }

    void rope(Context& ctx) {
        Parity& kit = use(ctx);
        struct Row {
            const char* tag;
            int rows, heads, headDim, start;
            double theta;
        };
        for (const Row& r : {Row{"prefill 7x3x64 theta 1e4", 7, 3, 64, 0, 10000.0},
                             Row{"decode 1x8x128 pos 2930 theta 1e6", 1, 8, 128, 2930, 1000000.0},
                             Row{"19x2x80 pos 50", 19, 2, 80, 50, 10000.0},
                             // inv_freq must be bit-identical to the CPU's (host powf): at position ~4000 one ulp shows.
                             Row{"prefill 64x8x128 pos 3900 theta 1e6", 64, 8, 128, 3900, 1000000.0},
                             Row{"odd 3x5x6 pos 7", 3, 5, 6, 7, 10000.0}}) {
            if (!ctx.beginRow(r.tag)) continue;
            Pair x = kit.random(r.rows, r.heads * r.headDim, ++seed);
            ctx.ok(cuda->rope(x.cuda, r.heads, r.headDim, r.start, r.theta));
            ctx.ok(cpu->rope(x.cpu, r.heads, r.headDim, r.start, r.theta));
            kit.close(x, std::string("rope ") + r.tag, kF32);
        }
    }

    void attention(Context& ctx) {
        Parity& kit = use(ctx);
        for (const AttentionRow& r : attentionRows()) {
            if (!ctx.beginRow(r.tag)) continue;
            Pair q = kit.random(r.queries, r.heads * r.headDim, ++seed, 2.0f);
            const std::int64_t kvCols = std::int64_t{r.kvHeads} * r.headDim;
            const auto kValues = test::randomFloats(std::size_t(r.keys * kvCols), ++seed, 2.0f);
            const auto vValues = test::randomFloats(std::size_t(r.keys * kvCols), ++seed);
            Pair k = r.f16Kv ? kit.plain(kValues, {r.keys, kvCols}, StorageFormat::F16) : kit.activation(kValues, r.keys, kvCols);
            Pair v = r.f16Kv ? kit.plain(vValues, {r.keys, kvCols}, StorageFormat::F16) : kit.activation(vValues, r.keys, kvCols);
            Pair out = kit.random(r.queries, r.heads * r.headDim, ++seed);
            AttentionParams p;
            p.nHeads = r.heads;
            p.nKvHeads = r.kvHeads;
            p.headDim = r.headDim;
            p.nPast = r.past;
            p.scale = 1.0f / std::sqrt(static_cast<float>(r.headDim));
            p.mask = r.causal ? AttentionMask::Causal : AttentionMask::None;
            p.reducedPrecision = r.reduced;
            ctx.ok(cuda->attention(out.cuda, q.cuda, k.cuda, v.cuda, p));
            ctx.ok(cpu->attention(out.cpu, q.cpu, k.cpu, v.cpu, p));
            kit.close(out, "attention " + r.tag, r.tolerance);
        }
    }

    // Views whose device address is 4/8/12 bytes past a 16-byte boundary (a row view of an odd-width
    // tensor): every op must give the same result as from an aligned buffer (vectorised loads fall back).
    void misalignedViews(Context& ctx) {
        Parity& kit = use(ctx);
        for (int offset : {1, 2, 3}) {
            const std::string tag = format("offset %d float%s", offset, offset == 1 ? "" : "s");
            if (!ctx.beginRow(tag)) continue;
            const std::string at = format(" @+%d floats", offset);
            const Tensor none;
            for (StorageFormat f : {StorageFormat::F32, StorageFormat::F16, StorageFormat::BF16,
                                    StorageFormat::Q8PerChannel, StorageFormat::Q4Group128}) {
                const std::int64_t n = 45, k = 256;
                Pair w = kit.weight(test::randomFloats(std::size_t(n * k), ++seed, 0.1f), {n, k},
                                    isQuantised(f) ? StorageFormat::BF16 : f, precisionFor(f));
                for (std::int64_t m : {2, 11}) {  // matvec and GEMM
                    Pair x = kit.random(m, k, ++seed, 1.0f, offset);
                    Pair out = kit.random(m, n, ++seed, 1.0f, offset);
                    ctx.ok(cuda->matmul(out.cuda, x.cuda, w.cuda, none, MatmulMode::Accumulate));
                    ctx.ok(cpu->matmul(out.cpu, x.cpu, w.cpu, none, MatmulMode::Accumulate));
                    const double tol = m <= 8 ? kF32 : (f == StorageFormat::F32 ? kF32 : isQuantised(f) ? kQuantGemm : kHalf);
                    kit.close(out, std::string("matmul ") + formatName(f) + " m" + std::to_string(m) + at, tol);
                }
            }
            for (int queries : {1, 20, 70}) {  // split-K decode, flash kernel, cuBLAS path
                const int heads = 4, kvHeads = 2, hd = 64, past = queries == 1 ? 30 : 0, keys = past + queries;
                // 70 rows: the F16 copies start at an aligned scratch buffer, the fp32 GEMMs read the views.
                Pair q = kit.random(queries, heads * hd, ++seed, 2.0f, offset);
                Pair k = kit.random(keys, kvHeads * hd, ++seed, 2.0f, offset);
                Pair v = kit.random(keys, kvHeads * hd, ++seed, 1.0f, offset);
                Pair out = kit.random(queries, heads * hd, ++seed, 1.0f, offset);
                AttentionParams p;
                p.nHeads = heads;
                p.nKvHeads = kvHeads;
                p.headDim = hd;
                p.nPast = past;
                p.scale = 0.125f;
                ctx.ok(cuda->attention(out.cuda, q.cuda, k.cuda, v.cuda, p));
                ctx.ok(cpu->attention(out.cpu, q.cpu, k.cpu, v.cpu, p));
                kit.close(out, "attention q" + std::to_string(queries) + at, kF32);
            }
            Pair x = kit.random(5, 130, ++seed, 2.0f, offset);
            Pair g = kit.plain(test::randomFloats(130, ++seed), {130}, StorageFormat::F16);
            ctx.ok(cuda->rmsNorm(x.cuda, x.cuda, g.cuda, 1e-6f));
            ctx.ok(cpu->rmsNorm(x.cpu, x.cpu, g.cpu, 1e-6f));
            kit.close(x, "rmsNorm in place" + at, kF32);
            ctx.ok(cuda->rope(x.cuda, 5, 26, 100, 10000.0));
            ctx.ok(cpu->rope(x.cpu, 5, 26, 100, 10000.0));
            kit.close(x, "rope" + at, kF32);
        }
    }

    void elementwise(Context& ctx) {
        Parity& kit = use(ctx);
        const std::int64_t rows = 7, d = 1001;
        Pair x = kit.random(rows, d, ++seed, 4.0f);
        ctx.ok(cuda->quickGelu(x.cuda));
        ctx.ok(cpu->quickGelu(x.cpu));
        kit.close(x, "quickGelu", kF32);
        ctx.ok(cuda->gelu(x.cuda));
        ctx.ok(cpu->gelu(x.cpu));
        kit.close(x, "gelu", kF32);
        Pair up = kit.random(rows, d, ++seed, 2.0f);
        ctx.ok(cuda->siluMul(x.cuda, x.cuda, up.cuda));  // out aliases gate
        ctx.ok(cpu->siluMul(x.cpu, x.cpu, up.cpu));
        kit.close(x, "siluMul", kF32);
        ctx.ok(cuda->add(x.cuda, x.cuda, up.cuda));
        ctx.ok(cpu->add(x.cpu, x.cpu, up.cpu));
        kit.close(x, "add", kF32);
        Pair row = kit.plain(test::randomFloats(std::size_t(d), ++seed), {d}, StorageFormat::BF16);
        ctx.ok(cuda->add(up.cuda, x.cuda, row.cuda));
        ctx.ok(cpu->add(up.cpu, x.cpu, row.cpu));
        kit.close(up, "add broadcast bf16 row", kF32);
    }

    void embed(Context& ctx) {
        Parity& kit = use(ctx);
        const std::int64_t vocab = 50, d = 70;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::F32}) {
            Pair table = kit.plain(test::randomFloats(std::size_t(vocab * d), ++seed), {vocab, d}, f);
            const std::vector<std::int32_t> ids = {3, -1, 49, 0, -1, 3};
            Pair out = kit.random(std::int64_t(ids.size()), d, ++seed);  // rows of id -1 must keep these
            ctx.ok(cuda->embed(out.cuda, table.cuda, ids));
            ctx.ok(cpu->embed(out.cpu, table.cpu, ids));
            kit.close(out, std::string("embed ") + formatName(f), 0.0);
            const std::vector<std::int32_t> bad = {1, 50, 2, 0, 0, 0};
            const Status s = cuda->embed(out.cuda, table.cuda, bad);
            ctx.check(s.code() == ErrorCode::OutOfRange, "embed with id 50 of 50 rows is OutOfRange: " + s.toString());
            ctx.check(s.message().find("50") != std::string::npos, "the message names the id: " + s.message());
        }
        // Quantised tables (--precision q8/q4 quantise the token embedding): the same codes on both sides
        // (uploadWeight quantises identically), dequantised rows must match exactly. Q4 needs d % 128 == 0
        // (256); Q8 with d = 131 puts the F32 row scales at byte 37 x 131 = 4847, not 4-byte aligned.
        for (auto [precision, d2] : {std::pair{WeightPrecision::Q8, std::int64_t{131}}, std::pair{WeightPrecision::Q4, std::int64_t{256}}}) {
            Pair table = kit.weight(test::randomFloats(std::size_t(37 * d2), ++seed), {37, d2}, StorageFormat::F16, precision);
            const std::vector<std::int32_t> ids = {36, -1, 0, 17, 17};
            Pair out = kit.random(std::int64_t(ids.size()), d2, ++seed);
            ctx.ok(cuda->embed(out.cuda, table.cuda, ids));
            ctx.ok(cpu->embed(out.cpu, table.cpu, ids));
            kit.close(out, std::string("embed ") + formatName(table.cpu.format) + " table", 0.0);
        }
    }

    void patchEmbed(Context& ctx) {
        Parity& kit = use(ctx);
        const std::int64_t crops = 2, side = 42, p = 14, d = 33, patches = crops * (side / p) * (side / p);
        for (StorageFormat f : {StorageFormat::F32, StorageFormat::F16}) {
            Pair px = kit.random(crops * 3 * side, side, ++seed);
            Tensor pc = px.cuda, ph = px.cpu;
            pc.shape = ph.shape = {crops, 3, side, side};
            Pair w = kit.weight(test::randomFloats(std::size_t(d * 3 * p * p), ++seed, 0.1f), {d, 3, p, p}, f,
                                WeightPrecision::AsStored);
            Pair out = kit.random(patches, d, ++seed);
            ctx.ok(cuda->patchEmbed(out.cuda, pc, w.cuda));
            ctx.ok(cpu->patchEmbed(out.cpu, ph, w.cpu));
            kit.close(out, f == StorageFormat::F32 ? "patchEmbed f32" : "patchEmbed f16", f == StorageFormat::F32 ? kF32 : kHalf);
        }
    }

    void copyConvert(Context& ctx) {
        Parity& kit = use(ctx);
        const std::int64_t n = 1001;
        for (StorageFormat f : {StorageFormat::F16, StorageFormat::BF16, StorageFormat::F32}) {
            Pair src = kit.random(1, n, ++seed, 100.0f);
            Pair mid = kit.plain(std::vector<float>(std::size_t(n)), {n}, f);
            Pair back = kit.random(1, n, ++seed);
            ctx.ok(cuda->copy(mid.cuda, src.cuda));
            ctx.ok(cpu->copy(mid.cpu, src.cpu));
            ctx.ok(cuda->copy(back.cuda, mid.cuda));
            ctx.ok(cpu->copy(back.cpu, mid.cpu));
            kit.close(back, std::string("copy f32 -> ") + formatName(f) + " -> f32", 0.0);  // same rounding both sides
        }
        // Overlapping views of one buffer (the CPU memmoves): rows 0..9 moved down by one row, both ways.
        Pair x = kit.random(12, 37, ++seed);
        for (auto [from, to] : {std::pair{0, 1}, std::pair{2, 0}}) {
            auto dc = rowView(x.cuda, to, 10), sc = rowView(x.cuda, from, 10);
            auto dh = rowView(x.cpu, to, 10), sh = rowView(x.cpu, from, 10);
            if (!ctx.ok(dc.status()) || !ctx.ok(sc.status()) || !ctx.ok(dh.status()) || !ctx.ok(sh.status())) return;
            ctx.ok(cuda->copy(*dc, *sc));
            ctx.ok(cpu->copy(*dh, *sh));
            kit.close(x, "copy between overlapping views, rows " + std::to_string(from) + " -> " + std::to_string(to), 0.0);
        }
    }

    void argmax(Context& ctx) {
        Parity& kit = use(ctx);
        const std::int64_t n = 32003;
        auto values = test::randomFloats(std::size_t(n), ++seed);
        values[777] = 5.0f;
        values[31000] = 5.0f;  // tie: lowest index wins
        values[32002] = 9.0f;  // beyond nValid
        Pair x = kit.activation(values, 1, n);
        auto c = cuda->argmax(x.cuda, n - 1);
        auto h = cpu->argmax(x.cpu, n - 1);
        if (!ctx.ok(c.status()) || !ctx.ok(h.status())) return;
        ctx.check(*c == 777, format("cuda argmax %d, expected 777 (lowest index of a tie)", *c));
        ctx.check(*c == *h, format("cuda argmax %d vs cpu %d", *c, *h));
        auto all = cuda->argmax(x.cuda, n);
        ctx.check(all.isOk() && *all == 32002, "argmax over all n finds the last element");
        ctx.check(cuda->argmax(x.cuda, n + 1).status().code() == ErrorCode::OutOfRange, "nValid > n is OutOfRange");
    }

    // The decode-step ops and their replay as a CUDA graph: a step body (embedAt, ropeAt, ropeWriteRowAt
    // into the k cache, writeRowAt into the v cache, attentionAt) run through runRecorded at several positions. Step 1 runs eagerly, step 2
    // is captured, the rest replay the graph with new step contents: every step must match the CPU, and
    // the body must have run exactly twice (else the graph was not replayed: the reason is printed).
    void stepOps(Context& ctx) {
        for (StorageFormat cacheFormat : {StorageFormat::F32, StorageFormat::F16})
            if (ctx.beginRow(std::string(formatName(cacheFormat)) + " cache")) stepOpsWith(ctx, cacheFormat);
    }
    void stepOpsWith(Context& ctx, StorageFormat cacheFormat) {
        Parity& kit = use(ctx);
        const int heads = 8, kvHeads = 2, hd = 128, cacheRows = 700, vocab = 50, d = 96;
        const std::int64_t kvCols = kvHeads * hd;
        auto stepCuda = cuda->allocate({2}, StorageFormat::I32, BufferRole::Scratch, "step");
        auto stepCpu = cpu->allocate({2}, StorageFormat::I32, BufferRole::Scratch, "step");
        if (!ctx.ok(stepCuda.status()) || !ctx.ok(stepCpu.status())) return;
        Pair table = kit.plain(test::randomFloats(std::size_t(vocab * d), ++seed), {vocab, d}, StorageFormat::F16);
        // F32 caches carry guard rows (stray writes); F16 caches are compared through an F32 copy.
        const bool half = cacheFormat == StorageFormat::F16;
        const auto cache = [&](float amplitude) {
            const auto values = test::randomFloats(std::size_t(cacheRows * kvCols), ++seed, amplitude);
            return half ? kit.plain(values, {cacheRows, kvCols}, StorageFormat::F16) : kit.activation(values, cacheRows, kvCols);
        };
        Pair kc = cache(2.0f), vc = cache(1.0f);
        Pair x = kit.random(1, d, ++seed), q = kit.random(1, heads * hd, ++seed, 2.0f);
        Pair kNew = kit.random(1, kvCols, ++seed, 2.0f), vNew = kit.random(1, kvCols, ++seed);
        Pair out = kit.random(1, heads * hd, ++seed);
        Pair wide = kit.random(cacheRows, kvCols, ++seed);  // F32 view of an F16 cache for comparison
        AttentionParams params;
        params.nHeads = heads;
        params.nKvHeads = kvHeads;
        params.headDim = hd;
        params.scale = 1.0f / std::sqrt(float(hd));
        auto body = [&](Backend& b, const Tensor& step, auto side) -> Status {
            LLAVA_TRY(b.embedAt(side(x), side(table), step));
            LLAVA_TRY(b.ropeAt(side(q), heads, hd, step, 1e6));
            LLAVA_TRY(b.ropeWriteRowAt(side(kc), side(kNew), kvHeads, hd, step, 1e6));  // RoPE fused with the write
            LLAVA_TRY(b.writeRowAt(side(vc), side(vNew), step));
            return b.attentionAt(side(out), side(q), side(kc), side(vc), params, step);
        };
        const auto onCuda = [](const Pair& p) { return p.cuda; };
        const auto onCpu = [](const Pair& p) { return p.cpu; };
        const auto compareCache = [&](const Pair& c, const std::string& what) {
            if (!half) return kit.close(c, what, kF32);
            ctx.ok(cuda->copy(wide.cuda, c.cuda));
            ctx.ok(cpu->copy(wide.cpu, c.cpu));
            return kit.close(wide, what + " (F16, widened)", 0.0);
        };
        int bodyRuns = 0;
        const std::string key = "parity step " + std::string(formatName(cacheFormat));
        for (int position : {0, 1, 299, 699, 5, 42, -1, 100}) {
            if (position < 0) {
                // A one-row attention over 70000 keys grows the split-K scratch the graph points into past
                // its 1 MiB rounding (274 splits x 8 heads x 130 floats): the next step must be recorded
                // again (body run once more), not replay a freed address.
                const std::int64_t bigKeys = 70000;
                Pair bigK = kit.random(bigKeys, kvCols, ++seed), bigV = kit.random(bigKeys, kvCols, ++seed);
                Pair bigOut = kit.random(1, heads * hd, ++seed);
                AttentionParams bp = params;
                bp.nPast = static_cast<int>(bigKeys - 1);
                ctx.ok(cuda->attention(bigOut.cuda, q.cuda, bigK.cuda, bigV.cuda, bp));
                continue;
            }
            const std::int32_t step[2] = {position, (position * 7) % vocab};
            ctx.ok(cuda->upload(*stepCuda, step, sizeof step));
            ctx.ok(cpu->upload(*stepCpu, step, sizeof step));
            ctx.ok(cuda->runRecorded(key, [&] {
                ++bodyRuns;
                return body(*cuda, *stepCuda, onCuda);
            }));
            ctx.ok(body(*cpu, *stepCpu, onCpu));
            const std::string at = std::string(" (") + formatName(cacheFormat) + " cache) at position " + std::to_string(position);
            kit.close(x, "embedAt" + at, 0.0);
            kit.close(q, "ropeAt (cumulative)" + at, kF32);
            compareCache(kc, "writeRowAt k cache" + at);
            compareCache(vc, "writeRowAt v cache" + at);
            kit.close(out, "attentionAt" + at, kF32);
        }
        Context::info("stepOps: body ran %d times for 7 steps (3 = one eager run, one capture, 4 replays, one capture "
                      "after the scratch moved); %s", bodyRuns, cuda->info().device.c_str());
        if (cuda->info().name == "cuda")  // (a dry run's CPU stand-in runs the body every time)
            ctx.check(bodyRuns == 3, "runRecorded replays the graph, and records it again after a scratch buffer moved");
    }

    void errorsAreStatus(Context& ctx) {
        Parity& kit = use(ctx);
        Pair a = kit.random(3, 8, ++seed), b = kit.random(3, 9, ++seed);
        const Status s = cuda->add(a.cuda, a.cuda, b.cuda);
        ctx.check(s.code() == ErrorCode::ShapeMismatch, "add of [3, 8] and [3, 9] is ShapeMismatch: " + s.toString());
        auto huge = cuda->allocate({std::int64_t(1) << 22, std::int64_t(1) << 22}, StorageFormat::F32,
                                   BufferRole::Scratch, "too big");
        if (ctx.check(!huge.isOk(), "a 64 TiB allocation fails")) {
            ctx.check(huge.status().code() == ErrorCode::OutOfMemory, "as OutOfMemory: " + huge.status().toString());
            ctx.check(huge.status().message().find("free") != std::string::npos, "naming the free bytes");
        }
        ctx.ok(cuda->synchronize(), "the failed allocation left the backend usable");
        const BackendInfo info = cuda->info();
        ctx.check(info.name == "cuda", "info().name is cuda");
        ctx.check(info.memory.deviceTotalBytes > 0, "info() reports the device memory");
        ctx.check(info.device.find("sm_") != std::string::npos, "info().device names the architecture: " + info.device);
    }
};

}  // namespace

int main(int argc, char** argv) {
    Suite suite;
    const auto setup = [&]() -> std::string {
        if (gpucheck::dryRun()) {
            suite.cuda = createCpuReferenceBackend(2);
        } else {
            auto cuda = cuda::createCudaBackend(BackendRequest{});
            if (!cuda.isOk()) return "no usable CUDA device: " + cuda.status().message();
            suite.cuda = std::move(cuda).value();
        }
        suite.cpu = createCpuReferenceBackend(2);  // fp32 activations: the decode bounds are 1e-7
        suite.kit = std::make_unique<Parity>(*suite.cuda, *suite.cpu);
        Context::info("CUDA backend: %s", suite.cuda->info().device.c_str());
        return {};
    };
    using Method = void (Suite::*)(Context&);
    const std::pair<const char*, Method> methods[] = {
        {"matmul", &Suite::matmul},       {"uploadWeightBytes", &Suite::uploadWeightBytes},
        {"norms", &Suite::norms},         {"rope", &Suite::rope},
        {"attention", &Suite::attention}, {"misalignedViews", &Suite::misalignedViews},
        {"elementwise", &Suite::elementwise}, {"embed", &Suite::embed},
        {"patchEmbed", &Suite::patchEmbed}, {"copyConvert", &Suite::copyConvert},
        {"argmax", &Suite::argmax},       {"stepOps", &Suite::stepOps},
        {"errorsAreStatus", &Suite::errorsAreStatus},
    };
    std::vector<gpucheck::Case> cases;
    for (const auto& [name, method] : methods)
        cases.push_back({name, [&suite, method](Context& ctx) { (suite.*method)(ctx); }});
    return gpucheck::runCases(argc, argv, setup, cases);
}
