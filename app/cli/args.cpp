// See args.h.
#include "args.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace cli {
namespace {

llava::Status usageError(const std::string& message) {
    return llava::makeError(llava::ErrorCode::InvalidArgument, message);
}

const OptionSpec* findSpec(const std::vector<OptionSpec>& specs, const std::string& name) {
    for (const OptionSpec& spec : specs)
        if (spec.name == name) return &spec;
    return nullptr;
}

}  // namespace

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

llava::Result<ParsedArgs> parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                                    int maxPositional) {
    ParsedArgs parsed;
    bool optionsEnded = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (optionsEnded || arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && arg != "-h")) {
            if (static_cast<int>(parsed.m_positional.size()) >= maxPositional)
                return usageError(maxPositional == 0 ? "unexpected argument \"" + arg + "\""
                                                     : "too many arguments (unexpected \"" + arg + "\")");
            parsed.m_positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            optionsEnded = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            parsed.m_values["help"].push_back("");
            continue;
        }
        std::string name = arg.substr(2);
        std::optional<std::string> inlineValue;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name.resize(eq);
        }
        const OptionSpec* spec = findSpec(specs, name);
        if (!spec) return usageError("unknown option --" + name + " (see --help)");
        if (spec->kind == ValueKind::Flag) {
            if (inlineValue) return usageError("option --" + name + " takes no value");
            parsed.m_values[name].push_back("");
            continue;
        }
        std::string value;
        if (inlineValue) {
            value = *inlineValue;
        } else {
            if (i + 1 >= args.size()) return usageError("option --" + name + " needs a value (" + spec->valueName + ")");
            value = args[++i];
        }
        auto& slot = parsed.m_values[name];
        if (!spec->repeatable && !slot.empty()) return usageError("option --" + name + " given more than once");
        slot.push_back(std::move(value));
    }
    return parsed;
}

std::string formatOptions(const std::vector<OptionSpec>& specs) {
    std::vector<std::string> heads;
    std::size_t width = 0;
    for (const OptionSpec& spec : specs) {
        std::string head = "  --" + spec.name + (spec.kind == ValueKind::Value ? " " + spec.valueName : "");
        width = std::max(width, head.size());
        heads.push_back(std::move(head));
    }
    std::string out;
    for (std::size_t i = 0; i < specs.size(); ++i)
        out += heads[i] + std::string(width + 2 - heads[i].size(), ' ') + specs[i].help + "\n";
    out += "  --help" + std::string(width > 6 ? width - 6 : 0, ' ') + "  show this help\n";
    return out;
}

llava::Result<int> parseIntOption(const std::string& option, const std::string& text, int minValue, int maxValue) {
    int value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end)
        return usageError("--" + option + ": \"" + text + "\" is not an integer");
    if (value < minValue || value > maxValue)
        return usageError("--" + option + ": " + text + " is outside " + std::to_string(minValue) + ".." +
                          std::to_string(maxValue));
    return value;
}

llava::Result<double> parseDoubleOption(const std::string& option, const std::string& text, double minValue,
                                        double maxValue) {
    char* end = nullptr;
    const double value = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
        return usageError("--" + option + ": \"" + text + "\" is not a number");
    if (value < minValue || value > maxValue)
        return usageError("--" + option + ": " + text + " is outside " + std::to_string(minValue) + ".." +
                          std::to_string(maxValue));
    return value;
}

llava::Result<unsigned long long> parseUnsignedOption(const std::string& option, const std::string& text) {
    unsigned long long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end)
        return usageError("--" + option + ": \"" + text + "\" is not a non-negative integer");
    return value;
}

llava::Result<std::pair<int, int>> parseSizeOption(const std::string& option, const std::string& text) {
    const auto x = text.find_first_of("xX");
    if (x == std::string::npos) return usageError("--" + option + ": \"" + text + "\" is not WIDTHxHEIGHT");
    LLAVA_ASSIGN_OR_RETURN(int width, parseIntOption(option, text.substr(0, x), 1, 1 << 16));
    LLAVA_ASSIGN_OR_RETURN(int height, parseIntOption(option, text.substr(x + 1), 1, 1 << 16));
    return std::pair<int, int>{width, height};
}

}  // namespace cli
