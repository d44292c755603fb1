// The subcommands of llava-insight-cli. Each takes the arguments after its name, writes its results
// to stdout, and returns a non-ok Status for main() to print as one line on stderr (exit code 1).
#pragma once

#include <string>
#include <vector>

#include "llava/status.h"

namespace cli {

using Args = std::vector<std::string>;

llava::Status runInspect(const Args& args);
llava::Status runPreprocess(const Args& args);
llava::Status runTokenize(const Args& args);
llava::Status runChat(const Args& args);
llava::Status runMakeDemoModel(const Args& args);
llava::Status runExplain(const Args& args);
llava::Status runServe(const Args& args);
llava::Status runBatch(const Args& args);
llava::Status runModels(const Args& args);
llava::Status runPull(const Args& args);

}  // namespace cli
