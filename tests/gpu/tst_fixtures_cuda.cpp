// The tiny LLaVA-NeXT fixtures (tests/fixtures, HF transformers fp32 goldens) through LlavaModel on the
// CUDA backend, in fp32 (WeightPrecision::F32: fp32 GEMMs and fp32 attention), in fp16 (F16 weights,
// 16-bit tensor-core GEMMs and attention) and quantised (q8 / q4: the same codes as the CPU's, the token
// embedding included; on these 8..64-column fixtures q4 falls back to q8). Per golden file (row = file name):
//   vision  the image tower + projector + merge on CUDA vs the CPU backend on the same synthetic image of
//           the fixture's size (the PNG decoder lives in the Qt app; the CPU side is itself checked
//           against HF in tst_llavaparity): NMSE <= 1e-10 (fp32) / 1e-4 (fp16, q8, q4: bf16-rounded GEMMs);
//   decoder the golden image features and input ids prefilled on CUDA: last-position logits vs HF,
//           |a - b| <= 1e-4 + 1e-3 |ref| everywhere (fp32, as the CPU test) / NMSE <= 1e-4 (fp16) /
//           NMSE <= 5e-3 (q8, q4: the quantisation bound of tests/engine/tst_quantparity);
//   greedy  32 tokens vs HF's: all identical in fp32; in fp16/q8/q4 the first divergence is allowed only at a
//           step whose golden top-2 margin is a near-tie for 16-bit rounding: below max(0.02, 8 x the
//           largest logit error measured at the prompt's last position; q8/q4: below 2 x that error).
// Skips, with the reason, when no CUDA device is usable.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "engine/enginetesthelpers.h"
#include "engine/goldenfixtures.h"
#include "gpu/gpucheck.h"
#include "gpu/paritykit.h"
#include "llava/anyres.h"
#include "llava/checkpoint.h"
#include "llava/preprocess.h"
#include "llava/safetensors.h"
#include "llava_cuda/cuda_backend.h"
#include "model/llavamodel.h"

using namespace llava;
using test::goldenValues;
using gpucheck::Context;

namespace {

const std::filesystem::path kRoot = LLAVA_SOURCE_DIR;
constexpr double kNearTieMargin = 0.02;
constexpr double kQuantNmse = 5e-3;

const char* label(WeightPrecision p) {
    switch (p) {
    case WeightPrecision::F32: return "fp32";
    case WeightPrecision::Q8: return "q8";
    case WeightPrecision::Q4: return "q4";
    default: return "fp16";
    }
}

std::vector<std::filesystem::path> goldenFiles() {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(kRoot / "tests/fixtures/golden", error))
        if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

struct Suite {
    std::unique_ptr<Backend> cuda, cpu;

    void run(Context& ctx, WeightPrecision precision) {
        const bool fp32 = precision == WeightPrecision::F32;
        const auto files = goldenFiles();
        if (!ctx.check(!files.empty(), "golden fixtures exist in tests/fixtures/golden (they are committed)")) return;
        for (const auto& path : files)
            if (ctx.beginRow(path.filename().string())) fixture(ctx, path, precision, fp32);
    }

    void fixture(Context& ctx, const std::filesystem::path& path, WeightPrecision precision, bool fp32) {
        auto golden = SafetensorsFile::open(path);
        if (!ctx.ok(golden.status())) return;
        std::map<std::string, std::string> meta(golden->metadata().begin(), golden->metadata().end());
        auto checkpoint = Checkpoint::open(kRoot / meta["model_folder"]);
        if (!ctx.ok(checkpoint.status())) return;
        const ModelConfig& config = (*checkpoint)->config();
        const Reference reference = meta["flavour"] == "hf" ? Reference::Transformers : Reference::Original;

        // vision: CUDA vs CPU on a synthetic image of the fixture's size (image_sizes = (height, width)).
        const auto size = goldenValues<std::int64_t>(*golden, "image_sizes");
        if (!ctx.check(size.size() == 2, "golden has image_sizes")) return;
        const RgbImage image = test::patternImage(static_cast<int>(size[1]), static_cast<int>(size[0]));
        AnyresParams params;
        params.candidates = candidateResolutions(config, reference);
        params.reference = reference;
        auto layout = computeImageLayout(image.width, image.height, params);
        if (!ctx.ok(layout.status())) return;
        auto pre = preprocessImage(image, *layout, config.vision);
        if (!ctx.ok(pre.status())) return;

        const auto ids64 = goldenValues<std::int64_t>(*golden, "input_ids");
        const int context = static_cast<int>(ids64.size()) + layout->imageTokens + 40;
        auto onCuda = LlavaModel::create(*cuda, **checkpoint, precision, context, {});
        auto onCpu = LlavaModel::create(*cpu, **checkpoint, precision, context, {});
        if (!ctx.ok(onCuda.status()) || !ctx.ok(onCpu.status())) return;
        auto mergedCuda = (*onCuda)->encodeImage(pre->pixels, *layout, {});
        auto mergedCpu = (*onCpu)->encodeImage(pre->pixels, *layout, {});
        if (!ctx.ok(mergedCuda.status()) || !ctx.ok(mergedCpu.status())) return;
        if (!ctx.check(mergedCuda->size() == mergedCpu->size(), "same merged feature count")) return;
        const test::Error vision = test::errorOf(*mergedCuda, *mergedCpu);
        const double visionTolerance = fp32 ? 1e-10 : 1e-4;
        Context::info("FIXTURE %s %s vision (%d crops) NMSE %.3e maxabs %.3e (tolerance %.0e)", ctx.row().c_str(),
                      label(precision), layout->cropCount(), vision.nmse, vision.maxAbs, visionTolerance);
        ctx.check(vision.nmse <= visionTolerance, "vision tower + projector + merge: CUDA vs CPU");

        // decoder: golden image features + ids (ORIG: one -200; HF: imageTokenId repeated) prefilled on CUDA.
        std::vector<std::int32_t> ids;
        int slot = -1;
        const auto features = goldenValues<float>(*golden, "image_features");
        const std::size_t featureRows = features.size() / static_cast<std::size_t>(config.text.dModel);
        for (auto id : ids64) {
            if (id == -200 || id == config.imageTokenId) {
                if (slot < 0) slot = static_cast<int>(ids.size());
                if (id == -200) ids.insert(ids.end(), featureRows, -1);
                else ids.push_back(-1);
            } else {
                ids.push_back(static_cast<std::int32_t>(id));
            }
        }
        if (!ctx.check(slot >= 0, "the prompt has an image slot")) return;
        if (!ctx.ok((*onCuda)->prefill(ids, {ImageSlot{slot, features}}, 0, {}), "prefill")) return;
        const auto logitsRef = goldenValues<float>(*golden, "logits_last");
        const auto& logits = (*onCuda)->logits();
        if (!ctx.check(logits.size() >= logitsRef.size(), "logits cover the golden vocabulary")) return;
        const std::vector<float> got(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(logitsRef.size()));
        const test::Error le = test::errorOf(got, logitsRef);
        std::size_t outside = 0;
        for (std::size_t i = 0; i < logitsRef.size(); ++i)
            outside += !(std::fabs(double(got[i]) - logitsRef[i]) <= 1e-4 + 1e-3 * std::fabs(logitsRef[i]));
        Context::info("FIXTURE %s %s logits vs HF NMSE %.3e maxabs %.3e, %zu outside 1e-4 + 1e-3|ref|", ctx.row().c_str(),
                      label(precision), le.nmse, le.maxAbs, outside);
        if (fp32) ctx.check(outside == 0, "fp32 logits within 1e-4 + 1e-3|ref| of HF everywhere");
        else if (precision == WeightPrecision::F16) ctx.check(le.nmse <= 1e-4, "fp16 logits NMSE vs HF <= 1e-4");
        else ctx.check(le.nmse <= kQuantNmse, "quantised logits NMSE vs HF <= 5e-3");

        const auto greedyRef = goldenValues<std::int64_t>(*golden, "greedy_tokens");
        const auto margins = goldenValues<float>(*golden, "greedy_margin");
        const int nValid = config.text.nVocabText;
        int position = static_cast<int>(ids.size());
        std::size_t same = 0;
        for (; same < greedyRef.size(); ++same) {
            const auto& l = (*onCuda)->logits();
            const auto id = static_cast<std::int32_t>(std::max_element(l.begin(), l.begin() + nValid) - l.begin());
            if (id != greedyRef[same]) break;
            if (!ctx.ok((*onCuda)->decode(id, position++), "decode")) return;
        }
        const double margin = same < margins.size() ? margins[same] : 0.0;
        // q8/q4: two logits each off by at most maxAbs can swap only below 2 x maxAbs (tst_quantparity's rule).
        const bool quantised = precision == WeightPrecision::Q8 || precision == WeightPrecision::Q4;
        const double nearTie = quantised ? 2.0 * le.maxAbs : std::max(kNearTieMargin, 8.0 * le.maxAbs);
        Context::info("FIXTURE %s %s greedy: %zu of %zu tokens identical to HF%s", ctx.row().c_str(), label(precision),
                      same, greedyRef.size(),
                      same < greedyRef.size() ? (", diverged at a golden margin of " + std::to_string(margin) +
                                                 " (near-tie bound " + std::to_string(nearTie) + ")").c_str()
                                              : "");
        if (fp32) ctx.check(same == greedyRef.size(), "fp32: every greedy token identical to HF");
        else ctx.check(same == greedyRef.size() || margin < nearTie, "fp16/q8/q4: a divergence only at a near-tie");
    }
};

}  // namespace

int main(int argc, char** argv) {
    Suite suite;
    const auto setup = [&]() -> std::string {
        if (gpucheck::dryRun()) {
            suite.cuda = createCpuReferenceBackend(0);
        } else {
            auto cuda = cuda::createCudaBackend(BackendRequest{});
            if (!cuda.isOk()) return "no usable CUDA device: " + cuda.status().message();
            suite.cuda = std::move(cuda).value();
        }
        suite.cpu = createCpuReferenceBackend(0);  // fp32 activations: the decode bounds are 1e-7
        return {};
    };
    const std::vector<gpucheck::Case> cases = {
        {"fp32", [&](Context& ctx) { suite.run(ctx, WeightPrecision::F32); }},
        {"fp16", [&](Context& ctx) { suite.run(ctx, WeightPrecision::F16); }},
        {"q8", [&](Context& ctx) { suite.run(ctx, WeightPrecision::Q8); }},
        {"q4", [&](Context& ctx) { suite.run(ctx, WeightPrecision::Q4); }},
    };
    return gpucheck::runCases(argc, argv, setup, cases);
}
