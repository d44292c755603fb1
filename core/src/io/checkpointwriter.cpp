// Safetensors / index / model-folder writer. JSON is produced with nlohmann so names with quotes or
// control characters are escaped correctly.
#include "llava/checkpointwriter.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "io/json.h"

namespace llava {
namespace {

Status writeBytes(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return makeError(ErrorCode::IoError, "cannot create " + path.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return makeError(ErrorCode::IoError, "cannot write " + path.string());
    return Status::ok();
}

std::uint64_t elementCount(const Shape& shape) {
    std::uint64_t n = 1;
    for (std::int64_t d : shape) n *= static_cast<std::uint64_t>(d);
    return n;
}

}  // namespace

Result<std::vector<std::byte>> serializeSafetensors(const std::vector<TensorRecord>& tensors,
                                                    const SafetensorsMetadata& metadata) {
    io::Json header = io::Json::object();
    if (!metadata.empty()) {
        io::Json meta = io::Json::object();
        for (const auto& [k, v] : metadata) meta[k] = v;
        header["__metadata__"] = meta;
    }
    std::set<std::string> names;
    std::uint64_t offset = 0;
    for (const TensorRecord& t : tensors) {
        if (!names.insert(t.name).second)
            return makeError(ErrorCode::InvalidArgument, "duplicate tensor name \"" + t.name + "\"");
        for (std::int64_t d : t.shape)
            if (d < 0) return makeError(ErrorCode::InvalidArgument, t.name + ": negative dimension");
        std::uint64_t bytes = elementCount(t.shape) * dtypeSize(t.dtype);
        if (bytes != t.bytes.size())
            return makeError(ErrorCode::InvalidArgument, t.name + ": " + std::to_string(t.bytes.size()) +
                                                             " bytes given, " + std::to_string(bytes) + " expected for " +
                                                             std::string(dtypeName(t.dtype)) + " " + shapeToString(t.shape));
        header[t.name] = {{"dtype", std::string(dtypeName(t.dtype))},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string json = header.dump(-1, ' ', /*ensure_ascii=*/false, io::Json::error_handler_t::strict);
    json.append((8 - json.size() % 8) % 8, ' ');
    std::vector<std::byte> out(8 + json.size() + offset);
    std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, json.data(), json.size());
    std::byte* data = out.data() + 8 + json.size();
    for (const TensorRecord& t : tensors) {
        if (!t.bytes.empty()) std::memcpy(data, t.bytes.data(), t.bytes.size());
        data += t.bytes.size();
    }
    return out;
}

Status writeSafetensors(const std::filesystem::path& path, const std::vector<TensorRecord>& tensors,
                        const SafetensorsMetadata& metadata) {
    LLAVA_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, serializeSafetensors(tensors, metadata));
    return writeBytes(path, bytes);
}

Status writeShardIndex(const std::filesystem::path& path, const std::map<std::string, std::string>& weightMap,
                       std::uint64_t totalSize) {
    io::Json index = {{"metadata", {{"total_size", totalSize}}}, {"weight_map", weightMap}};
    std::string text = index.dump(2);
    return writeBytes(path, std::as_bytes(std::span(text.data(), text.size())));
}

Status writeModelFolder(const std::filesystem::path& dir, const std::string& configJson,
                        const std::vector<TensorRecord>& tensors, int shardCount) {
    if (shardCount < 1) return makeError(ErrorCode::InvalidArgument, "shardCount must be >= 1");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return makeError(ErrorCode::IoError, "cannot create " + dir.string() + ": " + ec.message());
    LLAVA_TRY(writeBytes(dir / "config.json", std::as_bytes(std::span(configJson.data(), configJson.size()))));
    if (shardCount == 1) return writeSafetensors(dir / "model.safetensors", tensors);

    std::map<std::string, std::string> weightMap;
    std::uint64_t total = 0;
    const std::size_t per = (tensors.size() + static_cast<std::size_t>(shardCount) - 1) / static_cast<std::size_t>(shardCount);
    for (int s = 0; s < shardCount; ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shardCount);
        std::size_t begin = std::min(tensors.size(), static_cast<std::size_t>(s) * per);
        std::size_t end = std::min(tensors.size(), begin + per);
        std::vector<TensorRecord> part(tensors.begin() + static_cast<std::ptrdiff_t>(begin),
                                       tensors.begin() + static_cast<std::ptrdiff_t>(end));
        for (const TensorRecord& t : part) {
            weightMap[t.name] = name;
            total += t.bytes.size();
        }
        LLAVA_TRY(writeSafetensors(dir / name, part));
    }
    return writeShardIndex(dir / "model.safetensors.index.json", weightMap, total);
}

namespace {

io::Json visionJson(const VisionConfig& v) {
    return {{"model_type", "clip_vision_model"}, {"hidden_size", v.dVision}, {"intermediate_size", v.dFfn},
            {"num_hidden_layers", v.nLayers}, {"num_attention_heads", v.nHeads}, {"image_size", v.imageSize},
            {"patch_size", v.patchSize}, {"layer_norm_eps", v.layerNormEps}, {"hidden_act", "quick_gelu"}};
}

// The LLM fields both layouts share (the original layout puts them at the top level, llava-hf in text_config).
void putText(io::Json& j, const TextConfig& t) {
    j.update({{"hidden_size", t.dModel}, {"num_hidden_layers", t.nLayers}, {"num_attention_heads", t.nHeads},
              {"num_key_value_heads", t.nKvHeads}, {"head_dim", t.headDim}, {"intermediate_size", t.dFfn},
              {"vocab_size", t.nVocab}, {"rms_norm_eps", t.rmsNormEps}, {"rope_theta", t.ropeTheta},
              {"max_position_embeddings", t.maxPositions}, {"tie_word_embeddings", t.tieWordEmbeddings},
              {"bos_token_id", t.bosId}, {"eos_token_id", t.eosId}});
}

bool isClipL336(const VisionConfig& v) {
    const VisionConfig clip;
    return v.imageSize == clip.imageSize && v.patchSize == clip.patchSize && v.dVision == clip.dVision &&
           v.dFfn == clip.dFfn && v.nHeads == clip.nHeads && v.nLayers == clip.nLayers &&
           v.layerNormEps == clip.layerNormEps;
}

}  // namespace

std::string serializeModelConfig(const ModelConfig& config, CheckpointLayout layout) {
    const bool mistral = config.text.family == LlmFamily::Mistral;
    io::Json j = io::Json::object();
    j["image_grid_pinpoints"] = config.gridPinpoints;
    if (!config.torchDtype.empty()) j["torch_dtype"] = config.torchDtype;
    if (layout == CheckpointLayout::Original) {
        j["architectures"] = {mistral ? "LlavaMistralForCausalLM" : "LlavaLlamaForCausalLM"};
        j["model_type"] = mistral ? "llava_mistral" : "llava";
        putText(j, config.text);
        j["mm_vision_tower"] = "openai/clip-vit-large-patch14-336";
        if (!isClipL336(config.vision)) j["vision_config"] = visionJson(config.vision);
        j["mm_vision_select_layer"] = config.vision.selectLayer;
        j["mm_vision_select_feature"] = "patch";
        j["mm_projector_type"] = "mlp2x_gelu";
        j["mm_hidden_size"] = config.vision.dVision;
        j["mm_patch_merge_type"] = "spatial_unpad";
        j["image_aspect_ratio"] = "anyres";
        j["mm_use_im_start_end"] = false;
        j["tokenizer_model_max_length"] = config.tokenizerMaxLength;
    } else {
        j["architectures"] = {"LlavaNextForConditionalGeneration"};
        j["model_type"] = "llava_next";
        j["image_token_index"] = config.imageTokenId;
        j["vision_feature_layer"] = config.vision.selectLayer;
        j["vision_feature_select_strategy"] = "default";
        j["projector_hidden_act"] = "gelu";
        io::Json text = {{"model_type", mistral ? "mistral" : "llama"}};
        putText(text, config.text);
        j["text_config"] = text;
        j["vision_config"] = visionJson(config.vision);
    }
    return j.dump(2);
}

}  // namespace llava
