// config.json -> ModelConfig for the original (liuhaotian) and llava-hf layouts (docs/spec.md §2.2, §2.3).
// HF sub-configs omit every field equal to its class default (transformers' to_diff_dict), so the
// defaults of MistralConfig / LlamaConfig / CLIPVisionConfig are spelled out below. The re-saved
// layout has the same config as llava-hf; Checkpoint::open decides the layout from tensor names.
#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>

#include "io/config.h"
#include "io/json.h"
#include "llava/checkedfile.h"

namespace llava {
namespace {

using io::Json;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}
bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

constexpr int kMaxPinpointSide = 1 << 14;  // 16384 px: far above any anyres canvas
// The CLIP pass runs every crop of an image at once, so LlavaModel::allocateActivations sizes its vision
// scratch for 1 + the largest pinpoint's tiles. That plan must fit this budget: LLaVA v1.6 (CLIP-L/336,
// at most 4 tiles) needs 231 MB; a 4x4 grid fits; 16128x16128 pinpoints (2304 tiles) asked for GBs.
constexpr std::uint64_t kMaxVisionScratchBytes = 1ull << 30;
constexpr std::size_t kMaxPinpoints = 64;       // real lists have 5 entries
constexpr int kMaxPatchesPerSide = 64;          // CLIP-L/336: 24; 4096 patches per crop at most

Status unsupported(const std::string& what, const std::string& field, const std::string& found,
                   const std::string& supported) {
    return makeError(ErrorCode::Unsupported, what + ": " + field + " \"" + found + "\" is not supported (supported: " +
                                                 supported + ")");
}

// A string field that must equal one accepted value (absent -> `fallback`, as the reference defaults).
Status requireString(const Json& root, const char* key, const std::string& fallback, const std::string& accepted,
                     const std::string& what) {
    std::string value = fallback;
    LLAVA_TRY(io::readString(root, key, &value, what));
    if (value != accepted) return unsupported(what, key, value, accepted);
    return Status::ok();
}

Result<std::vector<std::array<int, 2>>> readPinpoints(const Json& root, const std::string& what) {
    auto it = root.find("image_grid_pinpoints");
    if (it == root.end() || it->is_null())
        return makeError(ErrorCode::ParseError, what + ": missing \"image_grid_pinpoints\"");
    if (!it->is_array() || it->empty())
        return makeError(ErrorCode::ParseError, what + ": \"image_grid_pinpoints\" must be a non-empty array of pairs");
    std::vector<std::array<int, 2>> out;
    for (const Json& pair : *it) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() || !pair[1].is_number_unsigned())
            return makeError(ErrorCode::ParseError, what + ": image_grid_pinpoints entry " + pair.dump() +
                                                        " is not a pair of positive integers");
        std::uint64_t a = pair[0].get<std::uint64_t>(), b = pair[1].get<std::uint64_t>();
        if (a == 0 || b == 0 || a > kMaxPinpointSide || b > kMaxPinpointSide)
            return makeError(ErrorCode::OutOfRange, what + ": image_grid_pinpoints entry " + pair.dump() +
                                                        " is outside 1.." + std::to_string(kMaxPinpointSide));
        out.push_back({static_cast<int>(a), static_cast<int>(b)});
    }
    return out;
}

// LLM fields shared by the original top level and the HF text_config. `family` picks the defaults.
Status readTextFields(const Json& obj, TextConfig* text, const std::string& what) {
    if (text->family == LlmFamily::Mistral) {  // transformers MistralConfig defaults
        text->dFfn = 14336; text->nKvHeads = 8; text->maxPositions = 4096 * 32;
    } else {                                   // transformers LlamaConfig defaults
        text->dFfn = 11008; text->nKvHeads = -1; text->maxPositions = 2048;
    }
    text->dModel = 4096; text->nLayers = 32; text->nHeads = 32; text->nVocab = 32000;
    text->rmsNormEps = 1e-6f; text->ropeTheta = 10000.0; text->tieWordEmbeddings = false;
    text->bosId = 1; text->eosId = 2; text->headDim = -1;

    LLAVA_TRY(io::readInt(obj, "hidden_size", &text->dModel, what));
    LLAVA_TRY(io::readInt(obj, "num_hidden_layers", &text->nLayers, what));
    LLAVA_TRY(io::readInt(obj, "num_attention_heads", &text->nHeads, what));
    LLAVA_TRY(io::readInt(obj, "num_key_value_heads", &text->nKvHeads, what));
    LLAVA_TRY(io::readInt(obj, "head_dim", &text->headDim, what));
    LLAVA_TRY(io::readInt(obj, "intermediate_size", &text->dFfn, what));
    LLAVA_TRY(io::readInt(obj, "vocab_size", &text->nVocab, what));
    LLAVA_TRY(io::readFloat(obj, "rms_norm_eps", &text->rmsNormEps, what));
    LLAVA_TRY(io::readDouble(obj, "rope_theta", &text->ropeTheta, what));
    LLAVA_TRY(io::readInt(obj, "max_position_embeddings", &text->maxPositions, what));
    LLAVA_TRY(io::readBool(obj, "tie_word_embeddings", &text->tieWordEmbeddings, what));
    LLAVA_TRY(io::readInt(obj, "bos_token_id", &text->bosId, what));
    LLAVA_TRY(io::readInt(obj, "eos_token_id", &text->eosId, what));
    if (text->nKvHeads == -1) text->nKvHeads = text->nHeads;  // Llama: None means MHA
    if (text->headDim == -1 && text->nHeads > 0) text->headDim = text->dModel / text->nHeads;
    auto scaling = obj.find("rope_scaling");
    if (scaling != obj.end() && !scaling->is_null())
        return unsupported(what, "rope_scaling", scaling->dump(), "null");
    return Status::ok();
}

// "torch_dtype"; transformers >= 4.56 saves it as "dtype".
Status readStorageDtype(const Json& root, std::string* out, const std::string& what) {
    LLAVA_TRY(io::readString(root, "torch_dtype", out, what));
    if (out->empty()) LLAVA_TRY(io::readString(root, "dtype", out, what));
    return Status::ok();
}

LlmFamily familyFor(bool mistral, int nVocabText, const std::string& lowerName) {
    if (mistral) return LlmFamily::Mistral;
    if (nVocabText >= 64000 || contains(lowerName, "34b")) return LlmFamily::Yi;
    return LlmFamily::Llama;
}

Status readVision(const Json& root, VisionConfig* vision, const std::string& what);

// ---- original layout (docs/spec.md §2.2) ---------------------------------------------------------------

Result<ModelConfig> parseOriginal(const Json& root, const std::string& modelType, const std::string& name,
                                  const std::string& what) {
    ModelConfig config;
    config.name = name;
    config.layout = CheckpointLayout::Original;
    config.defaultReference = Reference::Original;
    config.imageTokenId = -200;

    bool mistral = modelType == "llava_mistral";
    auto arch = root.find("architectures");
    if (arch != root.end() && !arch->is_null()) {
        if (!arch->is_array() || arch->size() != 1 || !(*arch)[0].is_string())
            return makeError(ErrorCode::ParseError, what + ": \"architectures\" must be a one-string array");
        std::string a = (*arch)[0].get<std::string>();
        if (a != "LlavaLlamaForCausalLM" && a != "LlavaMistralForCausalLM")
            return unsupported(what, "architecture", a, "LlavaLlamaForCausalLM, LlavaMistralForCausalLM");
        mistral = a == "LlavaMistralForCausalLM";
    }
    config.text.family = mistral ? LlmFamily::Mistral : LlmFamily::Llama;
    LLAVA_TRY(readTextFields(root, &config.text, what));
    config.text.nVocabText = config.text.nVocab;
    config.text.family = familyFor(mistral, config.text.nVocabText, lower(name));

    // Multimodal fields; fallbacks are the getattr defaults of haotian-liu/LLaVA.
    // Real original configs only name the tower; its shape is CLIP-L/336 (VisionConfig defaults).
    // Extension for tiny test/demo models: an HF-style "vision_config" object replaces the name.
    if (root.contains("vision_config")) {
        LLAVA_TRY(readVision(root, &config.vision, what));
    } else {
        std::string tower;
        LLAVA_TRY(io::readString(root, "mm_vision_tower", &tower, what));
        if (!contains(tower, "clip-vit-large-patch14-336"))
            return unsupported(what, "mm_vision_tower", tower, "openai/clip-vit-large-patch14-336");
    }
    LLAVA_TRY(requireString(root, "mm_projector_type", "linear", "mlp2x_gelu", what));
    LLAVA_TRY(requireString(root, "mm_patch_merge_type", "flat", "spatial_unpad", what));
    LLAVA_TRY(requireString(root, "image_aspect_ratio", "square", "anyres", what));
    LLAVA_TRY(requireString(root, "mm_vision_select_feature", "patch", "patch", what));
    bool startEnd = false;
    LLAVA_TRY(io::readBool(root, "mm_use_im_start_end", &startEnd, what));
    if (startEnd) return unsupported(what, "mm_use_im_start_end", "true", "false");
    LLAVA_TRY(io::readInt(root, "mm_vision_select_layer", &config.vision.selectLayer, what));
    int mmHidden = config.vision.dVision;
    LLAVA_TRY(io::readInt(root, "mm_hidden_size", &mmHidden, what));
    if (mmHidden != config.vision.dVision)
        return unsupported(what, "mm_hidden_size", std::to_string(mmHidden), std::to_string(config.vision.dVision));
    LLAVA_ASSIGN_OR_RETURN(config.gridPinpoints, readPinpoints(root, what));
    LLAVA_TRY(io::readInt(root, "tokenizer_model_max_length", &config.tokenizerMaxLength, what));
    LLAVA_TRY(readStorageDtype(root, &config.torchDtype, what));
    config.dProjector = config.text.dModel;
    config.templateName = io::chooseTemplateName(name, config.text.family);
    return config;
}

// ---- llava-hf layout (docs/spec.md §2.3) ---------------------------------------------------------------

Status readVision(const Json& root, VisionConfig* vision, const std::string& what) {
    auto it = root.find("vision_config");
    if (it == root.end() || it->is_null()) return Status::ok();  // LlavaNextConfig default: CLIP-L/336
    if (!it->is_object()) return makeError(ErrorCode::ParseError, what + ": \"vision_config\" must be an object");
    const Json& v = *it;
    std::string w = what + " vision_config";
    LLAVA_TRY(requireString(v, "model_type", "clip_vision_model", "clip_vision_model", w));
    LLAVA_TRY(requireString(v, "hidden_act", "quick_gelu", "quick_gelu", w));
    // transformers CLIPVisionConfig defaults (ViT-B/32 @224): fields equal to them are not serialized.
    vision->dVision = 768; vision->dFfn = 3072; vision->nLayers = 12; vision->nHeads = 12;
    vision->imageSize = 224; vision->patchSize = 32; vision->layerNormEps = 1e-5f;
    LLAVA_TRY(io::readInt(v, "hidden_size", &vision->dVision, w));
    LLAVA_TRY(io::readInt(v, "intermediate_size", &vision->dFfn, w));
    LLAVA_TRY(io::readInt(v, "num_hidden_layers", &vision->nLayers, w));
    LLAVA_TRY(io::readInt(v, "num_attention_heads", &vision->nHeads, w));
    LLAVA_TRY(io::readInt(v, "image_size", &vision->imageSize, w));
    LLAVA_TRY(io::readInt(v, "patch_size", &vision->patchSize, w));
    LLAVA_TRY(io::readFloat(v, "layer_norm_eps", &vision->layerNormEps, w));
    int channels = 3;
    LLAVA_TRY(io::readInt(v, "num_channels", &channels, w));
    if (channels != 3) return unsupported(w, "num_channels", std::to_string(channels), "3");
    return Status::ok();
}

Result<ModelConfig> parseHf(const Json& root, const std::string& name, const std::string& what) {
    ModelConfig config;
    config.name = name;
    config.layout = CheckpointLayout::HfLegacy;  // refined from tensor names by Checkpoint::open
    config.defaultReference = Reference::Transformers;
    config.imageTokenId = 32000;

    LLAVA_TRY(readVision(root, &config.vision, what));
    auto fl = root.find("vision_feature_layer");
    if (fl != root.end() && fl->is_array()) return unsupported(what, "vision_feature_layer", fl->dump(), "one integer");
    LLAVA_TRY(io::readInt(root, "vision_feature_layer", &config.vision.selectLayer, what));
    LLAVA_TRY(requireString(root, "vision_feature_select_strategy", "default", "default", what));
    LLAVA_TRY(requireString(root, "projector_hidden_act", "gelu", "gelu", what));
    bool projectorBias = true;
    LLAVA_TRY(io::readBool(root, "multimodal_projector_bias", &projectorBias, what));
    if (!projectorBias) return unsupported(what, "multimodal_projector_bias", "false", "true");
    LLAVA_TRY(io::readInt(root, "image_token_index", &config.imageTokenId, what));
    if (root.contains("image_grid_pinpoints")) {
        LLAVA_ASSIGN_OR_RETURN(config.gridPinpoints, readPinpoints(root, what));
    } else {
        config.gridPinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};  // HF default
    }
    LLAVA_TRY(readStorageDtype(root, &config.torchDtype, what));

    auto tc = root.find("text_config");
    Json empty = Json::object();
    const Json& text = (tc == root.end() || tc->is_null()) ? empty : *tc;
    if (!text.is_object()) return makeError(ErrorCode::ParseError, what + ": \"text_config\" must be an object");
    std::string textType = "llama";  // LlavaNextConfig's default when text_config has no model_type
    LLAVA_TRY(io::readString(text, "model_type", &textType, what + " text_config"));
    if (textType != "mistral" && textType != "llama")
        return unsupported(what, "text_config model_type", textType, "mistral, llama");
    bool mistral = textType == "mistral";
    config.text.family = mistral ? LlmFamily::Mistral : LlmFamily::Llama;
    LLAVA_TRY(readTextFields(text, &config.text, what + " text_config"));
    // Added tokens (<image>, <pad>) start at the image token id; rows above it are padding (docs/spec.md §2.6).
    config.text.nVocabText = (config.imageTokenId > 0 && config.imageTokenId <= config.text.nVocab)
                                 ? config.imageTokenId : config.text.nVocab;
    config.text.family = familyFor(mistral, config.text.nVocabText, lower(name));
    config.dProjector = config.text.dModel;
    config.templateName = io::chooseTemplateName(mistral ? "mistral" : "", config.text.family);
    return config;
}

}  // namespace

namespace io {

std::string chooseTemplateName(const std::string& name, LlmFamily family) {
    std::string n = lower(name);
    if (contains(n, "mistral")) return "mistral_instruct";
    if (contains(n, "v1.6-34b") || contains(n, "34b")) return "chatml_direct";
    if (family == LlmFamily::Yi) return "chatml_direct";
    if (contains(n, "v1")) return "llava_v1";
    return family == LlmFamily::Mistral ? "mistral_instruct" : "llava_v1";
}

Status validateModelConfig(const ModelConfig& c, const std::string& what) {
    auto range = [&](const char* field, long long value, long long lo, long long hi) -> Status {
        if (value < lo || value > hi)
            return makeError(ErrorCode::OutOfRange, what + ": " + field + " = " + std::to_string(value) +
                                                        " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
        return Status::ok();
    };
    const TextConfig& t = c.text;
    const VisionConfig& v = c.vision;
    LLAVA_TRY(range("hidden_size", t.dModel, 1, 65536));
    LLAVA_TRY(range("num_hidden_layers", t.nLayers, 1, 512));
    LLAVA_TRY(range("num_attention_heads", t.nHeads, 1, 1024));
    LLAVA_TRY(range("num_key_value_heads", t.nKvHeads, 1, t.nHeads));
    LLAVA_TRY(range("head_dim", t.headDim, 1, 1024));
    LLAVA_TRY(range("intermediate_size", t.dFfn, 1, 1 << 20));
    LLAVA_TRY(range("vocab_size", t.nVocab, 1, 1 << 22));
    LLAVA_TRY(range("max_position_embeddings", t.maxPositions, 1, 1 << 24));
    if (t.nHeads % t.nKvHeads != 0)
        return makeError(ErrorCode::InvalidArgument, what + ": num_attention_heads " + std::to_string(t.nHeads) +
                                                         " is not a multiple of num_key_value_heads " +
                                                         std::to_string(t.nKvHeads));
    // Norm epsilons are added to mean(x^2) / the variance of activations of order 1: real checkpoints use
    // 1e-6..1e-5. Above 1 the normalisation is flattened; 1e308 becomes inf in fp32 and every norm output 0
    // (the decoder then emits one token forever), so (0, 1] is the accepted range.
    const auto epsOk = [](float eps) { return eps > 0.0f && eps <= 1.0f; };
    if (!epsOk(t.rmsNormEps))
        return makeError(ErrorCode::InvalidArgument, what + ": rms_norm_eps " + std::to_string(t.rmsNormEps) +
                                                         " is outside (0, 1] (as fp32; real models use 1e-6..1e-5)");
    if (!(t.ropeTheta > 0.0) || !std::isfinite(t.ropeTheta))
        return makeError(ErrorCode::InvalidArgument, what + ": rope_theta must be positive and finite");
    LLAVA_TRY(range("vision hidden_size", v.dVision, 1, 16384));
    LLAVA_TRY(range("vision intermediate_size", v.dFfn, 1, 1 << 18));
    LLAVA_TRY(range("vision num_hidden_layers", v.nLayers, 1, 256));
    LLAVA_TRY(range("vision num_attention_heads", v.nHeads, 1, 256));
    LLAVA_TRY(range("vision patch_size", v.patchSize, 1, 1024));
    LLAVA_TRY(range("vision image_size", v.imageSize, v.patchSize, 4096));
    if (v.imageSize % v.patchSize != 0 || v.dVision % v.nHeads != 0)
        return makeError(ErrorCode::InvalidArgument, what + ": vision image_size " + std::to_string(v.imageSize) +
                                                         " must be a multiple of patch_size and hidden_size of heads");
    if (v.layersToRun() < 1 || v.layersToRun() > v.nLayers)
        return makeError(ErrorCode::OutOfRange, what + ": vision feature layer " + std::to_string(v.selectLayer) +
                                                    " does not select one of " + std::to_string(v.nLayers) + " layers");
    if (!epsOk(v.layerNormEps))
        return makeError(ErrorCode::InvalidArgument, what + ": vision layer_norm_eps " + std::to_string(v.layerNormEps) +
                                                         " is outside (0, 1] (as fp32; real models use 1e-6..1e-5)");
    LLAVA_TRY(range("vision patches per side (image_size / patch_size)", v.patchesPerSide(), 1, kMaxPatchesPerSide));
    return validatePinpoints(c, what);
}

std::uint64_t visionScratchBytesPerCrop(const ModelConfig& c) {
    // Mirrors LlavaModel::allocateActivations (fp32): pixels (3, s, s), patches (nP, dV), six (nP + 1, dV)
    // activations (h, hn, q, k, v, att), fc1 (nP + 1, dFfnV), two projector outputs (nP, dModel).
    const std::uint64_t s = std::uint64_t(c.vision.imageSize), nP = std::uint64_t(c.vision.nPatches());
    const std::uint64_t dv = std::uint64_t(c.vision.dVision), ffn = std::uint64_t(c.vision.dFfn);
    const std::uint64_t floats = 3 * s * s + nP * dv + (nP + 1) * (6 * dv + ffn) + 2 * nP * std::uint64_t(c.text.dModel);
    return floats * 4;
}

Status validatePinpoints(const ModelConfig& c, const std::string& what) {
    const auto& pinpoints = c.gridPinpoints;
    const int tileSize = c.vision.imageSize;
    if (pinpoints.size() > kMaxPinpoints)
        return makeError(ErrorCode::OutOfRange, what + ": image_grid_pinpoints has " + std::to_string(pinpoints.size()) +
                                                    " entries; at most " + std::to_string(kMaxPinpoints) + " are allowed");
    for (const auto& [a, b] : pinpoints) {
        const std::string entry = "image_grid_pinpoints entry [" + std::to_string(a) + ", " + std::to_string(b) + "]";
        // Every canvas is cut into whole tiles (docs/spec.md §4.4); anything else would fail at the first image.
        if (a < tileSize || b < tileSize || a % tileSize != 0 || b % tileSize != 0)
            return makeError(ErrorCode::InvalidArgument,
                             what + ": " + entry + " is not a multiple of the tile size " + std::to_string(tileSize) +
                                 " (vision image_size): each side must be k x " + std::to_string(tileSize) +
                                 " with k >= 1");
        const std::uint64_t crops = 1 + std::uint64_t(a / tileSize) * std::uint64_t(b / tileSize);
        const std::uint64_t bytes = crops * visionScratchBytesPerCrop(c);
        if (bytes > kMaxVisionScratchBytes) {
            char gib[32];
            std::snprintf(gib, sizeof gib, "%.1f", double(bytes) / double(1ull << 30));
            return makeError(ErrorCode::OutOfRange,
                             what + ": " + entry + " is a " + std::to_string(a / tileSize) + "x" +
                                 std::to_string(b / tileSize) + " grid of " + std::to_string(tileSize) +
                                 "-px tiles: with the base crop " + std::to_string(crops) +
                                 " crops, whose vision scratch (every crop of an image at once) would take " + gib +
                                 " GiB, above the limit of 1 GiB");
        }
    }
    return Status::ok();
}

}  // namespace io

std::vector<std::array<int, 2>> candidateResolutions(const ModelConfig& config, Reference reference) {
    std::vector<std::array<int, 2>> out;
    out.reserve(config.gridPinpoints.size());
    for (const auto& p : config.gridPinpoints) {
        // ORIG: pair = (width, height); HF select_best_resolution: pair = (height, width).
        out.push_back(reference == Reference::Original ? p : std::array<int, 2>{p[1], p[0]});
    }
    return out;
}

Result<ModelConfig> parseModelConfig(const std::string& configJson, const std::string& name) {
    const std::string what = name.empty() ? std::string("config.json") : name + "/config.json";
    Json root;
    LLAVA_TRY(io::parseJsonStrict(configJson, &root, what));
    if (!root.is_object()) return makeError(ErrorCode::ParseError, what + ": must be a JSON object");
    auto mt = root.find("model_type");
    if (mt == root.end() || !mt->is_string())
        return makeError(ErrorCode::ParseError, what + ": missing string \"model_type\"");
    std::string modelType = mt->get<std::string>();
    Result<ModelConfig> config = makeError(ErrorCode::Internal, "unset");
    if (modelType == "llava" || modelType == "llava_mistral") {
        config = parseOriginal(root, modelType, name, what);
    } else if (modelType == "llava_next") {
        config = parseHf(root, name, what);
    } else {
        return unsupported(what, "model_type", modelType,
                           "llava, llava_mistral (original LLaVA v1.6), llava_next (llava-hf)");
    }
    if (!config.isOk()) return config.status();
    LLAVA_TRY(io::validateModelConfig(config.value(), what));
    return config;
}

namespace {

// llava-hf folders carry the CLIP normalisation in preprocessor_config.json; original folders have
// none (docs/spec.md §2.1) and keep the CLIP defaults of VisionConfig.
Status readPreprocessorConfig(const std::filesystem::path& path, VisionConfig* vision) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::ok();
    LLAVA_ASSIGN_OR_RETURN(std::string text, readCheckedFile(path, "preprocessor config", kMaxConfigFileBytes));
    const std::string what = path.filename().string();
    Json root;
    LLAVA_TRY(io::parseJsonStrict(text, &root, what));
    if (!root.is_object()) return makeError(ErrorCode::ParseError, what + ": must be a JSON object");
    for (auto [key, target] : {std::pair{"image_mean", &vision->imageMean}, std::pair{"image_std", &vision->imageStd}}) {
        auto it = root.find(key);
        if (it == root.end() || it->is_null()) continue;
        if (!it->is_array() || it->size() != 3)
            return makeError(ErrorCode::ParseError, what + ": \"" + key + "\" must be an array of 3 numbers");
        for (std::size_t c = 0; c < 3; ++c) {
            const Json& v = (*it)[c];
            if (!v.is_number() || (std::string_view(key) == "image_std" && !(v.get<double>() > 0.0)))
                return makeError(ErrorCode::ParseError, what + ": \"" + key + "\" entry " + v.dump() + " is not valid");
            (*target)[c] = v.get<float>();
        }
    }
    return Status::ok();
}

}  // namespace

Result<ModelConfig> loadModelConfig(const std::filesystem::path& modelDir) {
    std::filesystem::path dir = modelDir;
    if (!dir.has_filename()) dir = dir.parent_path();  // "models/llava/" -> "llava"
    LLAVA_ASSIGN_OR_RETURN(std::string text, readCheckedFile(dir / "config.json", "model config", kMaxConfigFileBytes));
    LLAVA_ASSIGN_OR_RETURN(ModelConfig config, parseModelConfig(text, dir.filename().string()));
    LLAVA_TRY(readPreprocessorConfig(dir / "preprocessor_config.json", &config.vision));
    return config;
}

}  // namespace llava
