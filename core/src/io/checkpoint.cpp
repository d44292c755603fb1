// Checkpoint::open = config.json + shard index + mapped shards + weight table. The layout comes from
// the tensor names (the re-saved layout shares llava-hf's config), then every tensor is validated
// and re-exposed under its canonical name.
#include "llava/checkpoint.h"

#include <unordered_map>

#include "llava/safetensors.h"
#include "llava/weights.h"

namespace llava {
namespace {

class CheckpointImpl final : public Checkpoint {
public:
    CheckpointImpl(ModelConfig config, std::filesystem::path dir, ShardSet shards)
        : m_config(std::move(config)), m_dir(std::move(dir)), m_shards(std::move(shards)) {}

    const ModelConfig& config() const override { return m_config; }
    const std::filesystem::path& directory() const override { return m_dir; }
    const TensorView* find(std::string_view canonicalName) const override {
        auto it = m_canonical.find(std::string(canonicalName));
        return it == m_canonical.end() ? nullptr : &it->second;
    }
    std::uint64_t totalTensorBytes() const override { return m_totalBytes; }
    Status checkFilesUnchanged() const override { return m_shards.checkUnchanged(); }
    std::vector<const TensorView*> tensors() const override {
        std::vector<const TensorView*> out;
        out.reserve(m_canonical.size());
        for (const auto& [name, view] : m_canonical) out.push_back(&view);
        return out;
    }

    // Views of the table's tensors, renamed to canonical names; file-only extras are not exposed.
    void index(const std::vector<WeightSpec>& table) {
        for (const WeightSpec& spec : table) {
            const TensorView* t = m_shards.find(fileTensorName(spec.name, m_config.layout));
            if (!t) continue;
            TensorView view = *t;
            view.name = spec.name;
            m_totalBytes += view.byteSize;
            m_canonical.emplace(spec.name, std::move(view));
        }
    }

private:
    ModelConfig m_config;
    std::filesystem::path m_dir;
    ShardSet m_shards;
    std::unordered_map<std::string, TensorView> m_canonical;
    std::uint64_t m_totalBytes = 0;
};

ErrorCode codeFor(WeightProblem::Kind kind) {
    switch (kind) {
    case WeightProblem::Kind::Missing: return ErrorCode::NotFound;
    case WeightProblem::Kind::WrongShape:
    case WeightProblem::Kind::WrongDtype: return ErrorCode::ShapeMismatch;
    case WeightProblem::Kind::Unexpected:
    case WeightProblem::Kind::Duplicate: return ErrorCode::Unsupported;
    }
    return ErrorCode::Internal;
}

}  // namespace

std::int64_t TensorView::elementCount() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;  // validated against overflow when the header was parsed
    return n;
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::open(const std::filesystem::path& modelDir) {
    LLAVA_ASSIGN_OR_RETURN(ModelConfig config, loadModelConfig(modelDir));
    LLAVA_ASSIGN_OR_RETURN(ShardSet shards, ShardSet::open(modelDir));

    std::vector<std::string> names;
    for (const TensorView* t : shards.allTensors()) names.push_back(t->name);
    LLAVA_ASSIGN_OR_RETURN(CheckpointLayout layout, detectLayout(names));
    bool configIsOriginal = config.layout == CheckpointLayout::Original;
    if (configIsOriginal != (layout == CheckpointLayout::Original))
        return makeError(ErrorCode::Unsupported,
                         modelDir.string() + ": config.json is in the " +
                             std::string(configIsOriginal ? "original" : "llava-hf") +
                             " format but the tensor names are " + std::string(layoutName(layout)));
    config.layout = layout;

    std::vector<WeightSpec> table = buildWeightTable(config);
    std::vector<WeightProblem> problems = validateWeights(table, shards.allTensors(), layout);
    if (!problems.empty())
        return makeError(codeFor(problems.front().kind),
                         modelDir.string() + " (" + std::string(layoutName(layout)) + " layout): " +
                             std::to_string(problems.size()) + " weight problem(s):\n" + formatWeightProblems(problems));

    auto checkpoint = std::make_unique<CheckpointImpl>(std::move(config), modelDir, std::move(shards));
    checkpoint->index(table);
    return std::unique_ptr<Checkpoint>(std::move(checkpoint));
}

}  // namespace llava
