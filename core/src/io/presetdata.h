// The compiled-in preset JSON texts (generated presetdata.cpp, see CMakeLists.txt here).
#pragma once

#include <string_view>
#include <vector>

namespace llava::io {

struct PresetData {
    std::string_view name;  // file name without .json, e.g. "llava-v1.6-mistral-7b"
    std::string_view json;
};

const std::vector<PresetData>& presetData();  // sorted by name

}  // namespace llava::io
