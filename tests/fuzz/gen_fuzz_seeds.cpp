// Writes seed corpora for the fuzz targets from valid inputs: safetensors images produced by the
// checkpoint writer, a shard index, every preset config (as shipped and re-serialised in both
// layouts) and llava-hf style configs.
// Usage: gen_fuzz_seeds <out dir> <resources/presets dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "llava/checkpointwriter.h"

namespace {

void writeFile(const std::filesystem::path& path, const void* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <out dir> <presets dir>\n", argv[0]);
        return 2;
    }
    namespace fs = std::filesystem;
    fs::path out = argv[1];
    fs::create_directories(out / "safetensors");
    fs::create_directories(out / "config");

    std::vector<std::byte> f32(24, std::byte{0x3f}), f16(8, std::byte{0x3c}), empty;
    std::vector<std::vector<llava::TensorRecord>> sets = {
        {{"model.norm.weight", llava::DType::F32, {6}, f32}},
        {{"a", llava::DType::F16, {2, 2}, f16}, {"b", llava::DType::F32, {2, 3}, f32}, {"z", llava::DType::BF16, {0}, empty}},
        {{"lm_head.weight", llava::DType::F16, {1, 4}, f16}},
    };
    int n = 0;
    for (const auto& set : sets) {
        auto bytes = llava::serializeSafetensors(set, {{"format", "pt"}});
        if (!bytes.isOk()) return 1;
        writeFile(out / "safetensors" / ("seed" + std::to_string(n++)), bytes->data(), bytes->size());
    }
    const std::string index =
        R"({"metadata": {"total_size": 32}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})";
    writeFile(out / "safetensors" / "index", index.data(), index.size());

    for (const auto& entry : fs::directory_iterator(argv[2])) {
        if (entry.path().extension() != ".json") continue;
        fs::copy_file(entry.path(), out / "config" / entry.path().filename(), fs::copy_options::overwrite_existing);
    }
    // Every preset re-serialised in both layouts (llava-hf style text_config/vision_config objects).
    for (const std::string& name : llava::presetNames()) {
        auto config = llava::loadPreset(name);
        if (!config.isOk()) return 1;
        for (auto layout : {llava::CheckpointLayout::Original, llava::CheckpointLayout::HfLegacy}) {
            std::string text = llava::serializeModelConfig(*config, layout);
            std::string file = name + (layout == llava::CheckpointLayout::Original ? "-orig.json" : "-hf.json");
            writeFile(out / "config" / file, text.data(), text.size());
        }
    }
    const std::string hf =
        R"({"model_type": "llava_next", "image_token_index": 32000, "image_grid_pinpoints": [[336, 672], [672, 336]],)"
        R"( "text_config": {"model_type": "mistral", "intermediate_size": 14336, "vocab_size": 32064, "rope_theta": 1000000.0},)"
        R"( "vision_config": {"model_type": "clip_vision_model", "hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,)"
        R"( "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14}, "vision_feature_layer": -2})";
    writeFile(out / "config" / "hf-mistral.json", hf.data(), hf.size());
    const std::string tiny =
        R"({"model_type": "llava_next", "text_config": {"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,)"
        R"( "num_attention_heads": 2, "vocab_size": 40}, "vision_config": {"hidden_size": 8, "num_hidden_layers": 3,)"
        R"( "num_attention_heads": 2, "image_size": 28, "patch_size": 14, "intermediate_size": 16}})";
    writeFile(out / "config" / "hf-tiny.json", tiny.data(), tiny.size());
    std::printf("seeds written to %s\n", out.c_str());
    return 0;
}
