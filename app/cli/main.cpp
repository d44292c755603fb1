// llava-insight-cli: the command-line face of Llava Insight (inspect, preprocess, tokenize, chat,
// make-demo-model, serve, batch, models, pull). Dispatch and top-level help only; each subcommand lives in its own file.
// Every failure ends as one line on stderr and exit code 1 (2 for an unknown command); never a crash.
#include <QCoreApplication>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"

namespace {

constexpr const char* kProgram = "llava-insight-cli";

struct Command {
    const char* name;
    llava::Status (*run)(const cli::Args&);
    const char* summary;
};

const std::vector<Command>& commandTable() {
    static const std::vector<Command> kCommands = {
        {"inspect", cli::runInspect, "image -> canvas, tiles, unpadded map, token counts (both references)"},
        {"preprocess", cli::runPreprocess, "write every crop as PNG and the normalised pixel tensor"},
        {"tokenize", cli::runTokenize, "token ids and pieces of a text (optionally inside a chat template)"},
        {"chat", cli::runChat, "answer a prompt about images, or chat interactively"},
        {"make-demo-model", cli::runMakeDemoModel, "write a tiny random-weight model folder for trying things out"},
        {"explain", cli::runExplain, "where the answer looked: attention on the image as heatmap / numbers"},
        {"serve", cli::runServe, "OpenAI-compatible HTTP API for other programs (docs/serving.md)"},
        {"batch", cli::runBatch, "one prompt over a folder of images -> JSON lines, resumable"},
        {"models", cli::runModels, "models on this machine (HF cache, app folder, recent): completeness, memory plan"},
        {"pull", cli::runPull, "download a model from the Hugging Face Hub into the HF cache (resumable, verified)"},
    };
    return kCommands;
}

void printTopHelp(std::ostream& out) {
    out << "Usage: " << kProgram << " <command> [options]\n\n"
              << "Runs LLaVA v1.6 (LLaVA-NeXT) offline and shows how an image becomes tokens.\n\nCommands:\n";
    for (const Command& c : commandTable()) {
        const std::string name = c.name;
        out << "  " << name << std::string(18 - name.size(), ' ') << c.summary << "\n";
    }
    out << "\nRun '" << kProgram << " <command> --help' for a command's options.\n"
              << "Other: --help, --version\n";
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);  // image-format plugins; only serve and batch run its event loop
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {  // a usage error, not a request for help: usage on stderr, exit 2
        printTopHelp(std::cerr);
        return 2;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printTopHelp(std::cout);
        return 0;
    }
    if (args[0] == "--version") {
        std::cout << kProgram << " " << LLAVA_VERSION_STRING << "\n";
        return 0;
    }
    for (const Command& c : commandTable()) {
        if (args[0] != c.name) continue;
        try {
            const llava::Status status = c.run(cli::Args(args.begin() + 1, args.end()));
            if (status.isOk()) return 0;
            std::cerr << kProgram << " " << c.name << ": error: " << cli::oneLine(status.message()) << std::endl;
        } catch (const std::exception& e) {
            std::cerr << kProgram << " " << c.name << ": internal error: " << cli::oneLine(e.what()) << std::endl;
        }
        return 1;
    }
    std::cerr << kProgram << ": error: unknown command \"" << args[0] << "\" (run '" << kProgram << " --help')"
              << std::endl;
    return 2;
}
