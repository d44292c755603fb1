// Helpers for io tests: raw safetensors images built from a literal header string (independent of
// our writer), file writing, and a tiny LLaVA-NeXT checkpoint whose tensor names are spelled out
// here per layout from docs/spec.md §2.4 (not derived from core's name mapping).
#pragma once

#include <QtTest>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "llava/checkpointwriter.h"

namespace iotest {

inline std::vector<std::byte> rawSafetensors(const std::string& header, std::size_t dataBytes, std::uint64_t lengthField) {
    std::vector<std::byte> out(8 + header.size() + dataBytes);
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = std::byte((lengthField >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, header.data(), header.size());
    for (std::size_t i = 0; i < dataBytes; ++i) out[8 + header.size() + i] = std::byte(i & 0xff);
    return out;
}
inline std::vector<std::byte> rawSafetensors(const std::string& header, std::size_t dataBytes) {
    return rawSafetensors(header, dataBytes, header.size());
}

inline void writeFile(const QString& path, const std::string& text) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text.data(), qint64(text.size()));
}
inline void writeFile(const QString& path, const std::vector<std::byte>& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(reinterpret_cast<const char*>(bytes.data()), qint64(bytes.size()));
}

// Tiny model: CLIP width 8, FFN 16, 2 heads, 3 layers, 28 px image / 14 px patch (4 patches + CLS);
// LLM width 16, 2 layers, 2 heads (head dim 8), 1 KV head, FFN 24, vocab 40. Original layout uses
// the "vision_config" extension because real original configs only name CLIP-L/336.
inline std::string tinyConfig(bool original) {
    std::string vision = R"("vision_config": {"model_type": "clip_vision_model", "hidden_size": 8, "intermediate_size": 16,
        "num_attention_heads": 2, "num_hidden_layers": 3, "image_size": 28, "patch_size": 14})";
    std::string text = R"("hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
        "intermediate_size": 24, "vocab_size": 40, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
        "max_position_embeddings": 256)";
    if (original)
        return R"({"architectures": ["LlavaMistralForCausalLM"], "model_type": "llava_mistral", )" + text + ", " + vision +
               R"(, "mm_hidden_size": 8, "mm_projector_type": "mlp2x_gelu", "mm_patch_merge_type": "spatial_unpad",
               "image_aspect_ratio": "anyres", "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
               "image_grid_pinpoints": [[28, 56], [56, 28]], "torch_dtype": "float16"})";
    return R"({"model_type": "llava_next", "image_token_index": 38, "image_grid_pinpoints": [[28, 56], [56, 28]],
        "text_config": {"model_type": "mistral", )" + text + "}, " + vision + "}";
}

enum class Naming { Original, HfLegacy, HfResaved };

struct NamedShape {
    std::string name;
    llava::Shape shape;
};

// File tensor names of the tiny model, in the given naming. Spelled from the spec's tables.
inline std::vector<NamedShape> tinyTensors(Naming naming) {
    std::string llm, lmHead, vis, proj1, proj2, newline;
    switch (naming) {
    case Naming::Original:
        llm = "model."; lmHead = "lm_head.weight"; vis = "model.vision_tower.vision_tower.vision_model.";
        proj1 = "model.mm_projector.0."; proj2 = "model.mm_projector.2."; newline = "model.image_newline";
        break;
    case Naming::HfLegacy:
        llm = "language_model.model."; lmHead = "language_model.lm_head.weight"; vis = "vision_tower.vision_model.";
        proj1 = "multi_modal_projector.linear_1."; proj2 = "multi_modal_projector.linear_2."; newline = "image_newline";
        break;
    case Naming::HfResaved:
        llm = "model.language_model."; lmHead = "lm_head.weight"; vis = "model.vision_tower.vision_model.";
        proj1 = "model.multi_modal_projector.linear_1."; proj2 = "model.multi_modal_projector.linear_2.";
        newline = "model.image_newline";
        break;
    }
    std::vector<NamedShape> t;
    t.push_back({vis + "embeddings.class_embedding", {8}});
    t.push_back({vis + "embeddings.patch_embedding.weight", {8, 3, 14, 14}});
    t.push_back({vis + "embeddings.position_embedding.weight", {5, 8}});
    t.push_back({vis + "pre_layrnorm.weight", {8}});
    t.push_back({vis + "pre_layrnorm.bias", {8}});
    for (int l = 0; l < 3; ++l) {
        std::string p = vis + "encoder.layers." + std::to_string(l) + ".";
        for (std::string n : {"layer_norm1", "layer_norm2"}) {
            t.push_back({p + n + ".weight", {8}});
            t.push_back({p + n + ".bias", {8}});
        }
        for (std::string n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            t.push_back({p + "self_attn." + n + ".weight", {8, 8}});
            t.push_back({p + "self_attn." + n + ".bias", {8}});
        }
        t.push_back({p + "mlp.fc1.weight", {16, 8}});
        t.push_back({p + "mlp.fc1.bias", {16}});
        t.push_back({p + "mlp.fc2.weight", {8, 16}});
        t.push_back({p + "mlp.fc2.bias", {8}});
    }
    t.push_back({vis + "post_layernorm.weight", {8}});
    t.push_back({vis + "post_layernorm.bias", {8}});
    t.push_back({proj1 + "weight", {16, 8}});
    t.push_back({proj1 + "bias", {16}});
    t.push_back({proj2 + "weight", {16, 16}});
    t.push_back({proj2 + "bias", {16}});
    t.push_back({newline, {16}});
    t.push_back({llm + "embed_tokens.weight", {40, 16}});
    for (int l = 0; l < 2; ++l) {
        std::string p = llm + "layers." + std::to_string(l) + ".";
        t.push_back({p + "input_layernorm.weight", {16}});
        t.push_back({p + "self_attn.q_proj.weight", {16, 16}});
        t.push_back({p + "self_attn.k_proj.weight", {8, 16}});
        t.push_back({p + "self_attn.v_proj.weight", {8, 16}});
        t.push_back({p + "self_attn.o_proj.weight", {16, 16}});
        t.push_back({p + "post_attention_layernorm.weight", {16}});
        t.push_back({p + "mlp.gate_proj.weight", {24, 16}});
        t.push_back({p + "mlp.up_proj.weight", {24, 16}});
        t.push_back({p + "mlp.down_proj.weight", {16, 24}});
    }
    t.push_back({llm + "norm.weight", {16}});
    t.push_back({lmHead, {40, 16}});
    return t;
}

// Owns the bytes behind the TensorRecords: tensor i is F16 and filled with the byte value (i + 1).
struct TinyTensors {
    std::vector<std::vector<std::byte>> storage;
    std::vector<llava::TensorRecord> records;
};
inline TinyTensors makeRecords(const std::vector<NamedShape>& tensors, llava::DType dtype = llava::DType::F16) {
    TinyTensors out;
    out.storage.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        std::size_t n = llava::dtypeSize(dtype);
        for (std::int64_t d : tensors[i].shape) n *= std::size_t(d);
        out.storage.emplace_back(n, std::byte((i + 1) & 0xff));
    }
    for (std::size_t i = 0; i < tensors.size(); ++i)
        out.records.push_back({tensors[i].name, dtype, tensors[i].shape, out.storage[i]});
    return out;
}

}  // namespace iotest
