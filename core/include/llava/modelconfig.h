// One model description for every supported checkpoint layout (docs/spec.md §2): the original
// liuhaotian/llava-v1.6-* folders, llava-hf/*-hf folders, and checkpoints re-saved by newer
// transformers. Loaders in core/src/io fill it from config.json (+ tokenizer_config.json etc.);
// presets (compiled in) fill it without any files.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "llava/status.h"
#include "llava/types.h"

namespace llava {

// How tensor names are spelled in the shards (docs/spec.md §2.4).
enum class CheckpointLayout {
    Original,     // model.layers.L..., model.vision_tower.vision_tower.vision_model..., model.mm_projector.0
    HfLegacy,     // language_model.model.layers.L..., vision_tower.vision_model..., multi_modal_projector.linear_1
    HfResaved,    // model.language_model.layers.L..., model.vision_tower.vision_model..., lm_head.weight
};

enum class LlmFamily { Mistral, Llama, Yi };  // Yi is Llama-architecture with ChatML + 64k vocab

struct VisionConfig {
    int imageSize = 336;
    int patchSize = 14;
    int dVision = 1024;          // hidden_size
    int dFfn = 4096;             // intermediate_size
    int nHeads = 16;
    int nLayers = 24;            // layers stored in the checkpoint
    float layerNormEps = 1e-5f;
    int selectLayer = -2;        // index into the (nLayers + 1)-entry hidden-state list
    bool dropCls = true;         // select_feature "patch" / strategy "default"
    std::array<float, 3> imageMean{0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> imageStd{0.26862954f, 0.26130258f, 0.27577711f};

    int patchesPerSide() const { return imageSize / patchSize; }       // 24
    int nPatches() const { return patchesPerSide() * patchesPerSide(); }  // 576
    // Encoder layers actually run: hidden state index selectLayer (negative from the end).
    int layersToRun() const { return selectLayer < 0 ? nLayers + 1 + selectLayer : selectLayer; }
};

struct TextConfig {
    LlmFamily family = LlmFamily::Mistral;
    int dModel = 4096;           // hidden_size
    int nLayers = 32;
    int nHeads = 32;
    int nKvHeads = 8;
    int headDim = 128;
    int dFfn = 14336;            // intermediate_size
    int nVocab = 32000;          // rows of embed_tokens / lm_head in the checkpoint (32064 for llava-hf)
    int nVocabText = 32000;      // real tokenizer vocabulary; logits >= this are masked (docs/spec.md §2.6)
    float rmsNormEps = 1e-5f;
    double ropeTheta = 1e6;
    int maxPositions = 32768;    // max_position_embeddings
    bool tieWordEmbeddings = false;
    int bosId = 1;
    int eosId = 2;
};

struct ModelConfig {
    std::string name;                        // folder name or preset name, e.g. "llava-v1.6-mistral-7b"
    CheckpointLayout layout = CheckpointLayout::Original;
    Reference defaultReference = Reference::Original;  // Original layout -> ORIG, hf layouts -> HF
    VisionConfig vision;
    TextConfig text;
    int dProjector = 4096;                   // projector output width == text.dModel
    std::vector<std::array<int, 2>> gridPinpoints;  // as stored in config.json; the reader decides the order
    int imageTokenId = -200;                 // ORIG splice id (-200) or HF image_token_index (32000/64000)
    int tokenizerMaxLength = 4096;           // ORIG truncates the spliced sequence here
    std::string templateName;                // auto-chosen chat template ("mistral_instruct", ...)
    std::string torchDtype;                  // informational: "bfloat16", "float16"
};

// Pinpoints as (width, height) candidates in the order a reference iterates them (docs/spec.md §4.2).
std::vector<std::array<int, 2>> candidateResolutions(const ModelConfig& config, Reference reference);

// Reads <dir>/config.json (+ tokenizer_config.json / preprocessor_config.json when present).
Result<ModelConfig> loadModelConfig(const std::filesystem::path& modelDir);
// Parses config.json text; `name` is used for template auto-choice and messages.
Result<ModelConfig> parseModelConfig(const std::string& configJson, const std::string& name);

// Built-in presets (configs without weights, compiled into the binary).
std::vector<std::string> presetNames();
Result<ModelConfig> loadPreset(const std::string& name);

}  // namespace llava
