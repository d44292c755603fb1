// Built-in presets: configs without weights, parsed with the same parser as a config.json on disk so
// a preset can never drift from what a real folder would give.
#include "io/presetdata.h"
#include "llava/modelconfig.h"

namespace llava {

std::vector<std::string> presetNames() {
    std::vector<std::string> names;
    for (const io::PresetData& p : io::presetData()) names.emplace_back(p.name);
    return names;
}

Result<ModelConfig> loadPreset(const std::string& name) {
    for (const io::PresetData& p : io::presetData()) {
        if (p.name == name) return parseModelConfig(std::string(p.json), name);
    }
    std::string known;
    for (const io::PresetData& p : io::presetData()) known += (known.empty() ? "" : ", ") + std::string(p.name);
    return makeError(ErrorCode::InvalidArgument, "unknown preset \"" + name + "\" (known: " + known + ")");
}

}  // namespace llava
