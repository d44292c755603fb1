// The JSON form of an anyres image layout, shared by `llava-insight-cli inspect --json` and the server's
// POST /v1/inspect so both print exactly the same fields.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "llava/anyres.h"
#include "llava/types.h"

namespace server {

// canvas, grid, resized, padding, crops, feature map, unpadded map, kept rows/cols, token counts.
nlohmann::json imageLayoutJson(const llava::ImageLayout& layout);

// imageLayoutJson(layout) + model, reference, references_differ and the other reference's layout.
nlohmann::json inspectJson(const std::string& modelName, llava::Reference reference, const llava::ImageLayout& layout,
                           const llava::ImageLayout& other);

}  // namespace server
