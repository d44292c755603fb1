// The compute seam between the model code (core/src/model) and a device: buffers + ~15 ops.
// core ships the CPU implementation (core/src/backend/cpu); kernels/ implements the CUDA one.
// The model never sees a device pointer: it holds Tensor handles (tensor.h) and calls these ops.
//
// Conventions every implementation follows (the CPU backend is the reference for parity tests):
//   * Activations are F32, row-major, shapes outer -> inner. Weights may be F32/F16/BF16/Q8/Q4.
//   * Every op accumulates in fp32. Ops run in issue order; a backend may run them asynchronously,
//     download()/argmax()/synchronize() wait for completion.
//   * Errors (bad shapes, OOM, device faults) come back as Status; no exceptions cross this API.
//     Shape errors name the op and both shapes ("matmul x·wᵀ: [7, 64] vs [32, 60]"). Every backend runs
//     the same argument check per op (backendchecks.h) and keeps its buffers in a BufferTable
//     (buffertable.h), so all backends accept and reject the same calls with the same messages.
//   * `out` may alias an input only where the op says so ("in place ok").
//   * A backend object is used from one thread at a time (the engine's inference thread).
// Deliberately not here: graphs, scheduling, autodiff, broadcasting beyond what each op documents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llava/checkpoint.h"
#include "llava/status.h"
#include "llava/tensor.h"

namespace llava {

// Precision weights are converted to once, at upload (EngineOptions::precision).
enum class WeightPrecision : std::uint8_t {
    AsStored,  // keep F32/F16/BF16 as in the file (the CPU backend then reads the mapping in place)
    F16,       // convert to F16
    F32,       // convert to F32: exact fp32 everywhere (the GPU parity reference; twice the memory of F16)
    Q8,        // int8 per output channel (StorageFormat::Q8PerChannel); vectors stay F32
    Q4,        // int4 groups of 128 (StorageFormat::Q4Group128); matrices whose cols % 128 != 0 -> Q8
    // Q8/Q4 quantise the matrices that matmul or embed read (every 2-D weight, the token embedding
    // included: embed() dequantises its rows); a 2-D weight only ever added (the CLIP position embedding)
    // keeps its stored format (isQuantisableWeight).
};
std::string_view weightPrecisionName(WeightPrecision precision);  // "as-stored" | "f16" | "f32" | "q8" | "q4"
bool parseWeightPrecision(std::string_view text, WeightPrecision* out);

// How the model stores its KV cache (EngineOptions::kvCache). Auto: F16 where the backend reads a 16-bit
// cache (BackendInfo::f16KvCache) and the decoder's matrices are below F32 (f16/bf16 as stored or converted,
// q8, q4: the weights already gave up more than fp16 rounding of K and V costs); F32 otherwise (f32 weights,
// the CPU reference backend). F32 / F16 force the format (parity tests against fp32 references pin F32).
enum class KvCacheFormat : std::uint8_t { Auto, F32, F16 };
std::string_view kvCacheFormatName(KvCacheFormat format);  // "auto" | "f32" | "f16"
bool parseKvCacheFormat(std::string_view text, KvCacheFormat* out);
// The storage format Auto/F32/F16 resolve to (StorageFormat::F16 or F32).
StorageFormat resolveKvCacheFormat(KvCacheFormat requested, bool weightsBelowF32, bool backendReadsF16Cache);

enum class MatmulMode : std::uint8_t { Overwrite, Accumulate };  // out = ... | out += ... (fused residual)
enum class AttentionMask : std::uint8_t { Causal, None };

struct BackendMemory {
    std::uint64_t weightBytes = 0;    // buffers allocated with BufferRole::Weights (0 for in-place mmap use)
    std::uint64_t mappedWeightBytes = 0;  // weights read in place from the checkpoint or weight-cache mapping (CPU)
    std::uint64_t kvCacheBytes = 0;
    std::uint64_t scratchBytes = 0;
    std::uint64_t deviceTotalBytes = 0;   // 0 when unknown
    std::uint64_t deviceFreeBytes = 0;
};

struct BackendInfo {
    std::string name;      // "cpu", "cuda"
    std::string device;    // "2 threads, AVX2" / "NVIDIA H100 80GB HBM3 (sm_90)"
    int threads = 1;
    // Prompt rows per prefill pass this backend runs best with: larger passes make larger GEMMs (a GPU
    // wants ~1k rows) at the cost of scratch memory (activations of that many rows).
    int prefillRows = 256;
    // attention() / attentionAt() read keys and values stored as F16 at full speed, so a model whose weights
    // are already 16-bit or quantised keeps its KV cache in F16 (KvCacheFormat::Auto: half the memory and half
    // the cache bytes per decoded token). True for CUDA and the CPU backend; false for the CPU reference
    // backend (createCpuReferenceBackend), which keeps F32 caches.
    bool f16KvCache = false;
    BackendMemory memory;
    // Something the user asked for that the backend changed, in one line ("threads 1000 clamped to 2:
    // this process may use 2 CPUs"); empty when none. Shown by the CLI, --json and the status bar.
    std::string notice;
};

struct AttentionParams {
    int nHeads = 0;          // query heads
    int nKvHeads = 0;        // key/value heads; q head h uses kv head h / (nHeads / nKvHeads)
    int headDim = 0;
    int nPast = 0;           // Causal: query row i sits at position nPast + i and sees keys [0, nPast + i]
    float scale = 1.0f;      // usually 1/sqrt(headDim)
    AttentionMask mask = AttentionMask::Causal;
    // true: the backend may round q, k, v and the probabilities to 16 bits for tensor cores (scores and
    // sums stay fp32). The model sets it when the layer's weights are already 16-bit or quantised, so a
    // run with F32 weights stays fp32 end to end. The CPU backend always computes in fp32.
    bool reducedPrecision = false;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual BackendInfo info() const = 0;

    // ---- buffers --------------------------------------------------------------------------------
    // OutOfMemory (naming the bytes requested and the name) when the device cannot hold it.
    virtual Result<Tensor> allocate(const Shape& shape, StorageFormat format, BufferRole role,
                                    std::string_view name) = 0;
    virtual void release(const Tensor& tensor) = 0;  // frees the whole buffer behind the handle
    // Copy `bytes` between host memory and the start of the tensor (bytes <= the tensor's storage).
    virtual Status upload(const Tensor& dst, const void* host, std::size_t bytes) = 0;
    virtual Status download(const Tensor& src, void* host, std::size_t bytes) = 0;
    // A weight from the checkpoint, converted to `precision` (vectors are stored as F32 or kept as-is).
    // The CPU backend with AsStored keeps a handle to the mapping (no copy): the Checkpoint must outlive it.
    virtual Result<Tensor> uploadWeight(const TensorView& view, WeightPrecision precision) = 0;
    // True when adoptWeight uses the host bytes in place (the CPU backend): the caller must then keep them
    // mapped for as long as the tensor lives. Otherwise adoptWeight copies them to the device.
    virtual bool adoptsHostWeights() const { return false; }
    // A weight already in its final storage format (e.g. a quantised-weight cache entry, `bytes` =
    // storageBytes(format, shape)); in place or copied as adoptsHostWeights() says.
    virtual Result<Tensor> adoptWeight(const Shape& shape, StorageFormat format, const std::byte* data, std::size_t bytes,
                                       std::string_view name) {
        LLAVA_ASSIGN_OR_RETURN(Tensor t, allocate(shape, format, BufferRole::Weights, name));
        if (Status s = upload(t, data, bytes); !s.isOk()) {
            release(t);
            return s;
        }
        return t;
    }
    virtual Status synchronize() = 0;

    // ---- ops ------------------------------------------------------------------------------------
    // out (M, N) = x (M, K) · wᵀ (w: (N, K), any format) + bias (N, optional: null handle); fp32 accumulation.
    virtual Status matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                          MatmulMode mode) = 0;
    // out (M, D) = x / sqrt(mean(x²) + eps) * w;  w: (D) any float format. In place ok.
    virtual Status rmsNorm(const Tensor& out, const Tensor& x, const Tensor& w, float eps) = 0;
    // out (M, D) = (x - mean) / sqrt(var + eps) * w + b (biased variance). In place ok.
    virtual Status layerNorm(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& b, float eps) = 0;
    // In place on x (M, nHeads*headDim): rotate-half RoPE, row i at position positionStart + i,
    // inv_freq[j] = theta^(-2j/headDim) computed in fp32 like HF.
    virtual Status rope(const Tensor& x, int nHeads, int headDim, int positionStart, double theta) = 0;
    // out (M, nHeads*headDim) = softmax(q kᵀ * scale [+ causal mask]) v, per head, softmax in fp32.
    // q (M, nHeads*headDim); k, v (nKeys, nKvHeads*headDim) with nKeys = nPast + M (Causal) or any (None);
    // k, v are both F32 or both F16 (a 16-bit KV cache; every backend reads it, fastest where info().f16KvCache).
    // A query row that sees no key (nKeys = 0) gets a zero output row.
    virtual Status attention(const Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionParams& params) = 0;
    virtual Status quickGelu(const Tensor& x) = 0;  // in place: x * sigmoid(1.702 x)
    virtual Status gelu(const Tensor& x) = 0;       // in place: 0.5 x (1 + erf(x / sqrt 2))
    // out (M, F) = silu(gate) * up; out may alias gate.
    virtual Status siluMul(const Tensor& out, const Tensor& gate, const Tensor& up) = 0;
    // out (M, D) = a (M, D) + b, b: (M, D) or (1, D)/(D) broadcast over rows, any float format. Aliasing ok.
    virtual Status add(const Tensor& out, const Tensor& a, const Tensor& b) = 0;
    // out row i = table row ids[i] (converted to F32; any format, Q8/Q4 rows are dequantised as matmul reads
    // them); ids[i] < 0 leaves row i untouched (image splice
    // slots, filled by copy()). OutOfRange naming the id when ids[i] >= table rows.
    virtual Status embed(const Tensor& out, const Tensor& table, std::span<const std::int32_t> ids) = 0;
    // Conv with kernel = stride = p, no padding, no bias: pixels (nCrops, 3, S, S) F32, weight (D, 3, p, p)
    // -> out (nCrops * (S/p)², D), patch index = row * (S/p) + col within each crop.
    virtual Status patchEmbed(const Tensor& out, const Tensor& pixels, const Tensor& weight) = 0;
    // dst = src element-wise with format conversion (F32/F16/BF16); equal element counts required.
    virtual Status copy(const Tensor& dst, const Tensor& src) = 0;
    // Index of the largest of the first nValid elements of the vector x (ties -> lowest index).
    virtual Result<std::int32_t> argmax(const Tensor& x, std::int64_t nValid) = 0;

    // ---- decode steps a backend may record once and replay (CUDA graphs) ----------------------------
    // What changes from one decode step to the next lives in a device tensor `step` (I32, 2 elements:
    // [0] = the token's position, [1] = the token id), so these ops take the same arguments at every
    // step. The caller validates both values before uploading them (position < cache rows, id < table
    // rows); a backend that cannot check on the device skips out-of-range rows rather than fault.
    //   embedAt      out (1, D) = table row step[1], as embed()
    //   ropeAt       rope() of x (1, nHeads*headDim) at position step[0]
    //   writeRowAt   cache row step[0] = src (1, cols) converted to the cache's format, as copy()
    //   ropeWriteRowAt  cache row step[0] = rope(src) at position step[0], converted: RoPE fused with the
    //                KV-cache write (src (1, nHeads*headDim) is left as it was); equals ropeAt + writeRowAt
    //   attentionAt  attention() of one query row q over cache rows [0, step[0]] (causal; params.nPast
    //                and params.mask are ignored); kCache/vCache are the whole (rows, nKvHeads*headDim)
    virtual Status embedAt(const Tensor& out, const Tensor& table, const Tensor& step) = 0;
    virtual Status ropeAt(const Tensor& x, int nHeads, int headDim, const Tensor& step, double theta) = 0;
    virtual Status writeRowAt(const Tensor& cache, const Tensor& src, const Tensor& step) = 0;
    virtual Status ropeWriteRowAt(const Tensor& cache, const Tensor& src, int nHeads, int headDim, const Tensor& step,
                                  double theta) = 0;
    virtual Status attentionAt(const Tensor& out, const Tensor& q, const Tensor& kCache, const Tensor& vCache,
                               const AttentionParams& params, const Tensor& step) = 0;
    // Runs `body` or replays what an earlier call with the same key recorded. `body` may only issue ops
    // (no upload, download, argmax, allocate, release, synchronize) and must issue the same ops with the
    // same arguments every time: only tensor contents (the step tensor) may differ between calls. A
    // backend may run the body eagerly whenever it likes (the CPU backend always does; the CUDA backend
    // runs it eagerly once, then records a graph and replays it). release() forgets every recording.
    virtual Status runRecorded(std::string_view key, const std::function<Status()>& body) = 0;
};

// ---- views (no data movement, any backend) ------------------------------------------------------
// Rows [rowBegin, rowBegin + rowCount) of a tensor seen as (rows, cols); F32/F16/BF16/I32 only.
Result<Tensor> rowView(const Tensor& tensor, std::int64_t rowBegin, std::int64_t rowCount);
// Same bytes, new shape with the same element count.
Result<Tensor> reshaped(const Tensor& tensor, const Shape& shape);
// The same two views for tensors whose shape the caller fixed itself at allocation (the model's scratch
// buffers and KV cache, sized from the validated config and context): a bad range there is a bug in that
// caller, never bad input, so instead of an error value they stop the program (std::abort, in release
// builds too) with the message rowView/reshaped would have returned. Never use them on a range or shape that
// comes from input (files, requests, device step tensors); use rowView / reshaped there.
Tensor ownedRowView(const Tensor& tensor, std::int64_t rowBegin, std::int64_t rowCount);
Tensor ownedReshaped(const Tensor& tensor, const Shape& shape);

// ---- weight upload plan (shared by every backend so the format choice cannot drift) -------------------
struct WeightUploadPlan {
    Shape shape;              // the view's shape; a 0-d tensor becomes (1)
    StorageFormat stored;     // how the checkpoint holds it: F32 / F16 / BF16
    StorageFormat target;     // what the backend keeps: stored, F16, Q8PerChannel or Q4Group128 (matrices only;
                              // Q4 falls back to Q8 when cols % 128 != 0)
};
// Unsupported for other dtypes, ShapeMismatch when byteSize != elements x dtype size; messages start with
// "<backendName>: weight <name>". Q8/Q4 apply only where isQuantisableWeight(view.name).
Result<WeightUploadPlan> planWeightUpload(const TensorView& view, WeightPrecision precision,
                                          std::string_view backendName);

// False for the 2-D weights that no matmul or embed reads (canonical names, checkpoint.h): the CLIP
// position embedding is added to the patch rows (Backend::add takes float operands only), so Q8/Q4 keep it
// as stored (577 x 1024: 1.2 MB as F16).
bool isQuantisableWeight(std::string_view canonicalName);

// Device bytes the checkpoint's weights take after conversion to `precision` (planWeightUpload per
// tensor): what a backend that copies weights needs, for the memory check before loading.
std::uint64_t plannedWeightBytes(const Checkpoint& checkpoint, WeightPrecision precision);
// The same for any list of tensors (only dtype, shape and byteSize are read; data may be null): the
// memory plan (memoryplan.h) uses it for presets and for folders it has not opened.
std::uint64_t plannedWeightBytes(const std::vector<const TensorView*>& tensors, WeightPrecision precision);

// ---- selection -----------------------------------------------------------------------------------
enum class BackendKind : std::uint8_t { Auto, Cpu, Cuda };
std::string_view backendKindName(BackendKind kind);  // "auto" | "cpu" | "cuda"

// Whether the registry compares a CUDA backend with the CPU reference before handing it out (selfcheck.h).
enum class SelfCheck : std::uint8_t { Run, Skip };

struct BackendRequest {
    int threads = 0;                  // CPU: 0 = all hardware threads
    int deviceIndex = 0;              // CUDA device ordinal
    std::uint64_t requiredBytes = 0;  // estimated weights + KV cache + scratch, for a memory check
    SelfCheck selfCheck = SelfCheck::Run;  // Skip: --no-selfcheck (benchmarks)
};

using BackendFactory = std::function<Result<std::unique_ptr<Backend>>(const BackendRequest&)>;

struct BackendChoice {
    std::unique_ptr<Backend> backend;
    std::string fallbackReason;       // empty unless Auto fell back to the CPU ("no CUDA device found")
    // The CUDA self-check's full text (every op, NMSE vs bound) when one ran, for a bug report; empty otherwise.
    std::string selfCheckReport;
};

// Which backends exist in this process. The CPU backend is always registered; the app registers the
// CUDA factory when it is built with CUDA. The factory returns an error whose message says why not
// ("no NVIDIA driver", "no CUDA device", "not enough memory: requires 15.2 GB, 7.9 GB free").
// Owned by whoever creates engines (no global instance).
class BackendRegistry {
public:
    BackendRegistry();
    void registerFactory(BackendKind kind, BackendFactory factory);  // kind Cpu or Cuda; replaces
    bool has(BackendKind kind) const;
    // Auto: CUDA if registered, its factory succeeds and (unless request.selfCheck is Skip) it passes the
    // self-check against a CPU backend (selfcheck.h); else CPU with the reason ("CUDA self-check failed:
    // matmul Q4 ..."). Cpu: exactly that one. Cuda: that one, or its error (Unsupported when not registered;
    // Internal naming the op when the self-check fails: use --no-selfcheck to run it anyway).
    Result<BackendChoice> create(BackendKind kind, const BackendRequest& request) const;

private:
    BackendFactory m_cpu;
    BackendFactory m_cuda;
};

// The built-in CPU backend (fp32 compute, own thread pool). threads <= 0: every usable CPU; more than
// usableCpuCount() (threadpool.h) are clamped to it, with BackendInfo::notice saying so.
// On AVX2, its Q8/Q4 matrix-vector products (decode, <= 4 rows) round the activations to int8 in blocks of 32
// and use integer dot products (docs/perf/cpu-kernels.md: error <= sum |w| * block max|x| / 254).
std::unique_ptr<Backend> createCpuBackend(int threads);
// The same backend with every product in fp32 activations: the reference other backends are compared with
// (the CUDA self-check, the GPU parity tests), whose decode bounds (NMSE 1e-7) assume exact activations.
std::unique_ptr<Backend> createCpuReferenceBackend(int threads);

}  // namespace llava
