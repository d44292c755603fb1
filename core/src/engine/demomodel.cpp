// writeDemoModel: config.json (llava-hf LlavaNext, tiny widths), model.safetensors with seeded random
// F16 weights for exactly the tensors of the weight table (weights.h, so the loader's own validation
// defines what is written), a freshly trained tokenizer, tokenizer_config.json and a README.txt.
// Weight values: Irwin-Hall(4) approximate normals from splitmix64 seeded by the tensor name, scaled by
// 1/sqrt(fan-in) for matrices (so activations stay O(1) through the random network); norms = 1.
#include "llava/demomodel.h"

#include <cmath>
#include <fstream>

#include "backend/cpu/halfconv.h"
#include "engine/demotokenizer.h"
#include "llava/checkpointwriter.h"
#include "llava/weights.h"

namespace llava {
namespace {

constexpr int kTokenizerVocab = 1024;
constexpr int kModelVocab = kTokenizerVocab + 64;  // <image> = 1024, <pad> = 1025, padding rows (as llava-hf)

// Tiny widths, real topology: CLIP 336/14 with 3 stored layers (feature layer -2 runs 2 of them);
// Mistral decoder with 4 query heads sharing 2 KV heads.
std::string demoConfigJson() {
    return R"json({
  "_name_or_path": "llava-insight-demo (random weights)",
  "llava_insight_note": "RANDOM WEIGHTS: answers are meaningless. Written by Llava Insight for trying the app.",
  "architectures": ["LlavaNextForConditionalGeneration"],
  "model_type": "llava_next",
  "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
  "image_seq_length": 576,
  "image_token_index": 1024,
  "multimodal_projector_bias": true,
  "projector_hidden_act": "gelu",
  "tie_word_embeddings": false,
  "torch_dtype": "float16",
  "use_image_newline_parameter": true,
  "vision_feature_layer": -2,
  "vision_feature_select_strategy": "default",
  "text_config": {
    "model_type": "mistral",
    "hidden_act": "silu",
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-05,
    "rope_theta": 1000000.0,
    "sliding_window": null,
    "tie_word_embeddings": false,
    "vocab_size": 1088,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 1025
  },
  "vision_config": {
    "model_type": "clip_vision_model",
    "hidden_act": "quick_gelu",
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "image_size": 336,
    "patch_size": 14,
    "num_channels": 3,
    "layer_norm_eps": 1e-05,
    "projection_dim": 64
  }
}
)json";
}

const char* kTokenizerConfig = R"({
  "tokenizer_class": "LlamaTokenizer",
  "add_bos_token": true,
  "add_eos_token": false,
  "legacy": true,
  "bos_token": "<s>",
  "eos_token": "</s>",
  "unk_token": "<unk>",
  "pad_token": "<pad>",
  "model_max_length": 8192,
  "added_tokens_decoder": {
    "1024": {"content": "<image>", "special": true, "normalized": false},
    "1025": {"content": "<pad>", "special": true, "normalized": false}
  }
}
)";

const char* kReadme =
    "llava-insight-demo (random weights)\n"
    "===================================\n\n"
    "THIS MODEL HAS RANDOM WEIGHTS: ITS ANSWERS ARE MEANINGLESS.\n\n"
    "Llava Insight wrote this folder so the application can be tried without downloading a real model.\n"
    "It has the layout and topology of a llava-hf LLaVA v1.6 (LLaVA-NeXT) checkpoint - a CLIP vision tower\n"
    "for 336x336 tiles with 14x14 patches, a 2-layer projector and a Mistral-type decoder - but tiny widths\n"
    "and weights drawn from a seeded random generator. The tokenizer was trained by sentencepiece on a few\n"
    "hundred lines of English shipped with the program. Load a real LLaVA v1.6 checkpoint for useful answers.\n";

std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h;
}

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// F16 little-endian bytes of one tensor; the canonical name decides the distribution.
std::vector<std::byte> demoTensor(const WeightSpec& spec) {
    std::int64_t count = 1;
    for (auto d : spec.shape) count *= d;
    const std::string& n = spec.name;
    const bool norm = endsWith(n, "norm.weight") || endsWith(n, "layernorm.weight") ||
                      n.find("layer_norm") != std::string::npos || n.find("layrnorm") != std::string::npos;
    float scale = 0.02f, offset = 0.0f;
    if (norm && endsWith(n, ".weight")) scale = 0.0f, offset = 1.0f;
    else if (endsWith(n, ".bias")) scale = 0.02f;
    else if (spec.shape.size() >= 2 && n.find("embed_tokens") == std::string::npos &&
             n.find("position_embedding") == std::string::npos)
        scale = 1.0f / std::sqrt(static_cast<float>(count / spec.shape[0]));  // 1/sqrt(fan-in)
    else scale = 1.0f;                                                       // embeddings, image_newline
    std::vector<std::byte> bytes(static_cast<std::size_t>(count) * 2);
    std::uint64_t state = fnv1a(n);
    for (std::int64_t i = 0; i < count; ++i) {
        float sum = 0;  // Irwin-Hall(4): mean 2, variance 1/3 -> (sum - 2) * sqrt(3) has unit variance
        for (int j = 0; j < 4; ++j) sum += static_cast<float>(splitmix(state) >> 40) * 0x1.0p-24f;
        const std::uint16_t h = cpu::f32ToF16(offset + scale * (sum - 2.0f) * 1.7320508f);
        bytes[static_cast<std::size_t>(2 * i)] = static_cast<std::byte>(h & 0xff);
        bytes[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::byte>(h >> 8);
    }
    return bytes;
}

Status writeText(const std::filesystem::path& path, std::string_view text, std::uint64_t* total) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) return makeError(ErrorCode::IoError, "cannot write " + path.string());
    *total += text.size();
    return Status::ok();
}

}  // namespace

Result<DemoModelInfo> writeDemoModel(const std::filesystem::path& outDir, const DemoProgress& progress) {
    constexpr int kSteps = 3;
    auto step = [&](int i, std::string_view stage) { return !progress || progress(i, kSteps, stage); };
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec) return makeError(ErrorCode::IoError, "cannot create " + outDir.string() + ": " + ec.message());

    if (!step(0, "tokenizer")) return makeError(ErrorCode::Cancelled, "demo model cancelled");
    LLAVA_ASSIGN_OR_RETURN(std::string tokenizer, demo::trainTokenizer(kTokenizerVocab));

    if (!step(1, "weights")) return makeError(ErrorCode::Cancelled, "demo model cancelled");
    const std::string configJson = demoConfigJson();
    LLAVA_ASSIGN_OR_RETURN(ModelConfig config, parseModelConfig(configJson, std::string(kDemoModelName)));
    const std::vector<WeightSpec> table = buildWeightTable(config);
    std::vector<std::vector<std::byte>> storage;
    storage.reserve(table.size());
    std::vector<TensorRecord> records;
    for (const WeightSpec& spec : table) {
        storage.push_back(demoTensor(spec));
        records.push_back({fileTensorName(spec.name, CheckpointLayout::HfLegacy), DType::F16, spec.shape,
                           std::span<const std::byte>(storage.back())});
    }

    if (!step(2, "files")) return makeError(ErrorCode::Cancelled, "demo model cancelled");
    LLAVA_TRY(writeModelFolder(outDir, configJson, records, 1));
    DemoModelInfo info;
    info.directory = outDir;
    info.name = std::string(kDemoModelName);
    info.tokenizerVocab = kTokenizerVocab;
    info.modelVocab = kModelVocab;
    info.bytesWritten = configJson.size();
    for (const auto& s : storage) info.bytesWritten += s.size();
    LLAVA_TRY(writeText(outDir / "tokenizer.model", tokenizer, &info.bytesWritten));
    LLAVA_TRY(writeText(outDir / "tokenizer_config.json", kTokenizerConfig, &info.bytesWritten));
    LLAVA_TRY(writeText(outDir / "README.txt", kReadme, &info.bytesWritten));
    if (!step(3, "done")) return makeError(ErrorCode::Cancelled, "demo model cancelled");
    return info;
}

}  // namespace llava
