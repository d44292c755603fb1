// Weight table and layout name mapping. The three layouts differ only by prefixes, so each is a short
// ordered list of (canonical prefix, file prefix) rules; exact-name rules come first.
#include "llava/weights.h"

#include <map>
#include <set>
#include <span>

namespace llava {
namespace {

struct NameRule {
    std::string_view canonical;
    std::string_view file;
    bool exact;
};

constexpr NameRule kOriginalRules[] = {
    {"llm.lm_head.weight", "lm_head.weight", true},
    {"image_newline", "model.image_newline", true},
    {"vision.", "model.vision_tower.vision_tower.vision_model.", false},
    {"projector.linear_1.", "model.mm_projector.0.", false},
    {"projector.linear_2.", "model.mm_projector.2.", false},
    {"llm.", "model.", false},
};
constexpr NameRule kHfLegacyRules[] = {
    {"llm.lm_head.weight", "language_model.lm_head.weight", true},
    {"image_newline", "image_newline", true},
    {"vision.", "vision_tower.vision_model.", false},
    {"projector.", "multi_modal_projector.", false},
    {"llm.", "language_model.model.", false},
};
constexpr NameRule kHfResavedRules[] = {
    {"llm.lm_head.weight", "lm_head.weight", true},
    {"image_newline", "model.image_newline", true},
    {"vision.", "model.vision_tower.vision_model.", false},
    {"projector.", "model.multi_modal_projector.", false},
    {"llm.", "model.language_model.", false},
};

std::span<const NameRule> rulesFor(CheckpointLayout layout) {
    switch (layout) {
    case CheckpointLayout::Original: return kOriginalRules;
    case CheckpointLayout::HfLegacy: return kHfLegacyRules;
    case CheckpointLayout::HfResaved: return kHfResavedRules;
    }
    return {};
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void add(std::vector<WeightSpec>& table, std::string name, Shape shape,
         WeightRequirement requirement = WeightRequirement::Required) {
    table.push_back({std::move(name), std::move(shape), requirement});
}

void addVision(std::vector<WeightSpec>& table, const VisionConfig& v) {
    const std::int64_t d = v.dVision, f = v.dFfn;
    const std::int64_t positions = static_cast<std::int64_t>(v.nPatches()) + 1;  // CLS + patches
    add(table, "vision.embeddings.class_embedding", {d});
    add(table, "vision.embeddings.patch_embedding.weight", {d, 3, v.patchSize, v.patchSize});
    add(table, "vision.embeddings.position_embedding.weight", {positions, d});
    add(table, "vision.pre_layrnorm.weight", {d});
    add(table, "vision.pre_layrnorm.bias", {d});
    for (int l = 0; l < v.nLayers; ++l) {
        // Layers after the selected hidden state are stored but never run (docs/spec.md §3.2).
        auto req = l < v.layersToRun() ? WeightRequirement::Required : WeightRequirement::Optional;
        std::string p = "vision.encoder.layers." + std::to_string(l) + ".";
        for (const char* norm : {"layer_norm1", "layer_norm2"}) {
            add(table, p + norm + ".weight", {d}, req);
            add(table, p + norm + ".bias", {d}, req);
        }
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(table, p + "self_attn." + proj + ".weight", {d, d}, req);
            add(table, p + "self_attn." + proj + ".bias", {d}, req);
        }
        add(table, p + "mlp.fc1.weight", {f, d}, req);
        add(table, p + "mlp.fc1.bias", {f}, req);
        add(table, p + "mlp.fc2.weight", {d, f}, req);
        add(table, p + "mlp.fc2.bias", {d}, req);
    }
    add(table, "vision.post_layernorm.weight", {d}, WeightRequirement::Optional);
    add(table, "vision.post_layernorm.bias", {d}, WeightRequirement::Optional);
}

void addText(std::vector<WeightSpec>& table, const TextConfig& t) {
    const std::int64_t d = t.dModel, f = t.dFfn, v = t.nVocab;
    const std::int64_t q = static_cast<std::int64_t>(t.nHeads) * t.headDim;
    const std::int64_t kv = static_cast<std::int64_t>(t.nKvHeads) * t.headDim;
    add(table, "llm.embed_tokens.weight", {v, d});
    for (int l = 0; l < t.nLayers; ++l) {
        std::string p = "llm.layers." + std::to_string(l) + ".";
        add(table, p + "input_layernorm.weight", {d});
        add(table, p + "self_attn.q_proj.weight", {q, d});
        add(table, p + "self_attn.k_proj.weight", {kv, d});
        add(table, p + "self_attn.v_proj.weight", {kv, d});
        add(table, p + "self_attn.o_proj.weight", {d, q});
        add(table, p + "post_attention_layernorm.weight", {d});
        add(table, p + "mlp.gate_proj.weight", {f, d});
        add(table, p + "mlp.up_proj.weight", {f, d});
        add(table, p + "mlp.down_proj.weight", {d, f});
    }
    add(table, "llm.norm.weight", {d});
    add(table, "llm.lm_head.weight", {v, d},
        t.tieWordEmbeddings ? WeightRequirement::Optional : WeightRequirement::Required);
}

std::string expectedText(const WeightSpec& spec) { return "expected F16/BF16/F32 " + shapeToString(spec.shape); }

}  // namespace

bool isAcceptedWeightDtype(DType dtype) {
    return dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F32;
}

std::vector<WeightSpec> buildWeightTable(const ModelConfig& config) {
    std::vector<WeightSpec> table;
    addVision(table, config.vision);
    const std::int64_t dv = config.vision.dVision, dp = config.dProjector;
    add(table, "projector.linear_1.weight", {dp, dv});
    add(table, "projector.linear_1.bias", {dp});
    add(table, "projector.linear_2.weight", {dp, dp});
    add(table, "projector.linear_2.bias", {dp});
    add(table, "image_newline", {dp});
    addText(table, config.text);
    return table;
}

std::string fileTensorName(std::string_view canonicalName, CheckpointLayout layout) {
    for (const NameRule& r : rulesFor(layout)) {
        if (r.exact ? canonicalName == r.canonical : startsWith(canonicalName, r.canonical))
            return std::string(r.file) + std::string(canonicalName.substr(r.canonical.size()));
    }
    return std::string(canonicalName);
}

std::optional<std::string> canonicalTensorName(std::string_view fileName, CheckpointLayout layout) {
    for (const NameRule& r : rulesFor(layout)) {
        if (r.exact ? fileName == r.file : startsWith(fileName, r.file))
            return std::string(r.canonical) + std::string(fileName.substr(r.file.size()));
    }
    return std::nullopt;
}

bool isIgnoredTensor(std::string_view fileName) {
    return endsWith(fileName, ".rotary_emb.inv_freq") || endsWith(fileName, "embeddings.position_ids");
}

Result<CheckpointLayout> detectLayout(const std::vector<std::string>& fileNames) {
    for (const std::string& n : fileNames) {
        if (startsWith(n, "language_model.model.")) return CheckpointLayout::HfLegacy;
        if (startsWith(n, "model.language_model.")) return CheckpointLayout::HfResaved;
        if (startsWith(n, "model.layers.") || startsWith(n, "model.embed_tokens.")) return CheckpointLayout::Original;
    }
    return makeError(ErrorCode::Unsupported,
                     "cannot tell the checkpoint layout: no tensor starts with model.layers. (original), "
                     "language_model.model. (llava-hf) or model.language_model. (re-saved)" +
                         (fileNames.empty() ? std::string("; the checkpoint holds no tensors")
                                            : "; first tensor: " + fileNames.front()));
}

std::string_view layoutName(CheckpointLayout layout) {
    switch (layout) {
    case CheckpointLayout::Original: return "original";
    case CheckpointLayout::HfLegacy: return "llava-hf";
    case CheckpointLayout::HfResaved: return "re-saved (transformers >= 4.52)";
    }
    return "?";
}

std::vector<WeightProblem> validateWeights(const std::vector<WeightSpec>& table,
                                           const std::vector<const TensorView*>& tensors, CheckpointLayout layout) {
    std::map<std::string_view, const WeightSpec*> byName;
    for (const WeightSpec& spec : table) byName.emplace(spec.name, &spec);
    std::vector<WeightProblem> problems;
    std::map<std::string, std::string> seen;  // canonical -> file name
    for (const TensorView* t : tensors) {
        if (isIgnoredTensor(t->name)) continue;
        std::optional<std::string> canonical = canonicalTensorName(t->name, layout);
        auto it = canonical ? byName.find(*canonical) : byName.end();
        if (it == byName.end()) {
            problems.push_back({WeightProblem::Kind::Unexpected, t->name,
                                "not part of a " + std::string(layoutName(layout)) + " LLaVA-NeXT checkpoint with this config"});
            continue;
        }
        const WeightSpec& spec = *it->second;
        if (auto [s, inserted] = seen.emplace(spec.name, t->name); !inserted) {
            problems.push_back({WeightProblem::Kind::Duplicate, t->name, "same weight as " + s->second});
            continue;
        }
        if (t->shape != spec.shape)
            problems.push_back({WeightProblem::Kind::WrongShape, t->name,
                                expectedText(spec) + " got " + shapeToString(t->shape)});
        if (!isAcceptedWeightDtype(t->dtype))
            problems.push_back({WeightProblem::Kind::WrongDtype, t->name,
                                expectedText(spec) + " got " + std::string(dtypeName(t->dtype))});
    }
    for (const WeightSpec& spec : table) {
        if (spec.requirement == WeightRequirement::Required && !seen.count(spec.name)) {
            // Built with append: GCC 12 at -O3 misreports "(" + std::string as an overlapping memcpy.
            std::string detail = "(";
            detail.append(fileTensorName(spec.name, layout)).append(") ").append(expectedText(spec));
            problems.push_back({WeightProblem::Kind::Missing, spec.name, std::move(detail)});
        }
    }
    return problems;
}

std::string formatWeightProblems(const std::vector<WeightProblem>& problems) {
    std::string out;
    for (const WeightProblem& p : problems) {
        const char* kind = "";
        switch (p.kind) {
        case WeightProblem::Kind::Missing: kind = "missing"; break;
        case WeightProblem::Kind::Unexpected: kind = "unexpected"; break;
        case WeightProblem::Kind::WrongShape: kind = "wrong shape"; break;
        case WeightProblem::Kind::WrongDtype: kind = "wrong dtype"; break;
        case WeightProblem::Kind::Duplicate: kind = "duplicate"; break;
        }
        if (!out.empty()) out += "\n";
        out += std::string(kind) + " " + p.tensorName + ": " + p.detail;
    }
    return out;
}

}  // namespace llava
