// libFuzzer target: arbitrary bytes as config.json. Accepted configs must pass the same range checks
// the loaders promise (so later stages can size tables from them) and yield a buildable weight table.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "llava/modelconfig.h"
#include "llava/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    // The name drives template choice; derive it from the input so both paths get exercised.
    std::string name = size > 0 && (data[0] & 1) ? "llava-v1.6-34b" : "llava-v1.6-mistral-7b";
    auto config = llava::parseModelConfig(text, name);
    if (!config.isOk()) return 0;
    const llava::ModelConfig& c = *config;
    if (c.text.nKvHeads < 1 || c.text.nHeads % c.text.nKvHeads != 0) std::abort();
    if (c.vision.layersToRun() < 1 || c.vision.layersToRun() > c.vision.nLayers) std::abort();
    if (c.templateName.empty()) std::abort();
    for (llava::Reference r : {llava::Reference::Original, llava::Reference::Transformers})
        if (llava::candidateResolutions(c, r).size() != c.gridPinpoints.size()) std::abort();
    if (c.text.nLayers <= 64) {  // keep each execution fast; large configs are covered by the checks above
        auto table = llava::buildWeightTable(c);
        if (table.empty()) std::abort();
    }
    return 0;
}
