// Command-line parsing for llava-insight-cli: a small declarative option table per subcommand.
// Accepts "--name value", "--name=value", boolean flags and repeated options; everything else is a
// positional argument ("--" ends options). Errors are values (llava::Status) so main() prints one line.
// Deliberately not QCommandLineParser: it prints and exits on its own, and we want one error line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llava/status.h"

namespace cli {

enum class ValueKind { Flag, Value };

struct OptionSpec {
    std::string name;  // without the leading "--"
    ValueKind kind = ValueKind::Value;
    std::string valueName;  // shown in help: "FILE", "WxH"
    std::string help;
    bool repeatable = false;
};

class ParsedArgs {
public:
    bool has(const std::string& name) const { return m_values.count(name) != 0; }
    // Last value given (single-valued options), or nullopt.
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    const std::vector<std::string>& positional() const { return m_positional; }

private:
    friend llava::Result<ParsedArgs> parseArgs(const std::vector<std::string>&, const std::vector<OptionSpec>&,
                                               int);
    std::map<std::string, std::vector<std::string>> m_values;
    std::vector<std::string> m_positional;
};

// maxPositional: how many positional arguments the command accepts (0 = none).
// "--help"/"-h" are always accepted as the flag "help".
llava::Result<ParsedArgs> parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                                    int maxPositional);

// "  --name VALUE   help" lines, aligned, for a command's --help text.
std::string formatOptions(const std::vector<OptionSpec>& specs);

// Strict number parsing: the whole string must be consumed; errors name the option.
llava::Result<int> parseIntOption(const std::string& option, const std::string& text, int minValue, int maxValue);
llava::Result<double> parseDoubleOption(const std::string& option, const std::string& text, double minValue,
                                        double maxValue);
llava::Result<unsigned long long> parseUnsignedOption(const std::string& option, const std::string& text);
// "1000x750" -> {1000, 750}; both sides >= 1.
llava::Result<std::pair<int, int>> parseSizeOption(const std::string& option, const std::string& text);

}  // namespace cli
