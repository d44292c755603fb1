// `make-demo-model`: a tiny random-weight LLaVA-NeXT folder (writeDemoModel, core) for trying the
// app and the CLI without downloading 15 GB. Its answers are meaningless by construction.
#include <iostream>

#include "commands.h"
#include "common.h"

#if __has_include("llava/demomodel.h")
#include "llava/demomodel.h"
#define LLAVA_CLI_HAVE_DEMOMODEL 1
#endif

namespace cli {
namespace {

const std::vector<OptionSpec>& demoOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"out", ValueKind::Value, "DIR", "folder to write (config.json, model.safetensors, tokenizer.model)"},
    };
    return kOptions;
}

}  // namespace

llava::Status runMakeDemoModel(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, demoOptions(), 0));
    if (args.has("help")) {
        std::cout << "Usage: llava-insight-cli make-demo-model --out DIR\n\n"
                     "Writes a tiny LLaVA-NeXT model with random weights: it loads and runs like a real one,\n"
                     "but its answers are meaningless.\n\nOptions:\n"
                  << formatOptions(demoOptions());
        return llava::Status::ok();
    }
    const auto out = args.value("out");
    if (!out) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --out DIR");
#ifdef LLAVA_CLI_HAVE_DEMOMODEL
    LLAVA_ASSIGN_OR_RETURN(llava::DemoModelInfo info, llava::writeDemoModel(*out));
    std::cout << "wrote " << info.name << " to " << info.directory.string() << " (" << info.bytesWritten
              << " bytes, vocabulary " << info.tokenizerVocab << ")\n"
              << "random weights: answers are meaningless\n";
    return llava::Status::ok();
#else
    return llava::makeError(llava::ErrorCode::Unsupported, "this build has no demo-model writer (llava/demomodel.h)");
#endif
}

}  // namespace cli
