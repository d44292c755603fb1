// `tokenize`: ids and pieces of a text with a model's sentencepiece tokenizer. With --template the
// text is first rendered as a single user turn; "<image>" markers (from --images N or written in the
// text) become the ORIG placeholder -200, exactly what the model's prompt builder produces (spec §5.4).
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "llava/chattemplate.h"
#include "llava/prompt.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& tokenizeOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (tokenizer.model)"},
        {"template", ValueKind::Value, "NAME", "render TEXT as one user turn of this chat template first"},
        {"images", ValueKind::Value, "N", "with --template: \"<image>\\n\" markers in the turn (default 0)"},
        {"no-bos", ValueKind::Flag, "", "do not prepend BOS"},
        {"json", ValueKind::Flag, "", "print one JSON object instead of text"},
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli tokenize --tokenizer FILE [--template NAME [--images N]] [--json] TEXT\n\n"
                 "Prints token ids and pieces. Special tokens written in TEXT (\"</s>\") become their ids;\n"
                 "each \"<image>\" marker becomes the placeholder -200 and text chunks around it are\n"
                 "tokenized separately, as LLaVA does.\n\nTemplates:";
    for (const std::string& name : llava::chatTemplateNames()) std::cout << " " << name;
    std::cout << "\n\nOptions:\n" << formatOptions(tokenizeOptions());
}

int countMarkers(const std::string& text) {
    int n = 0;
    for (auto pos = text.find(llava::kImageMarker); pos != std::string::npos;
         pos = text.find(llava::kImageMarker, pos + llava::kImageMarker.size()))
        ++n;
    return n;
}

std::string pieceOf(const llava::Tokenizer& tokenizer, int id) {
    return id == llava::kImagePlaceholderId ? std::string(llava::kImageMarker) : tokenizer.idToPiece(id);
}

}  // namespace

llava::Status runTokenize(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, tokenizeOptions(), 1));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    if (!args.has("tokenizer")) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --tokenizer FILE");
    if (args.positional().empty()) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing TEXT to tokenize");
    LLAVA_ASSIGN_OR_RETURN(std::optional<llava::Tokenizer> loaded, loadTokenizerFor(args, nullptr));
    const llava::Tokenizer& tokenizer = *loaded;

    std::string text = args.positional().front();
    int nImages = 0;
    if (auto n = args.value("images")) {
        if (!args.has("template"))
            return llava::makeError(llava::ErrorCode::InvalidArgument, "--images needs --template");
        LLAVA_ASSIGN_OR_RETURN(nImages, parseIntOption("images", *n, 0, 16));
    }
    if (auto name = args.value("template")) {
        llava::RenderOptions render;
        render.nImages = nImages;
        LLAVA_ASSIGN_OR_RETURN(text, llava::renderChat(*name, {{llava::ChatRole::User, text}}, render));
    }
    llava::PromptOptions options;
    options.addBos = args.has("no-bos") ? llava::AddBos::No : tokenizer.defaultAddBos();
    // One token per marker: origIds then carries -200 exactly where ORIG splices the image.
    LLAVA_ASSIGN_OR_RETURN(llava::PromptTokens tokens,
                           llava::buildPrompt(tokenizer, text, std::vector<int>(countMarkers(text), 1), options));
    const std::vector<int>& ids = tokens.origIds;

    if (args.has("json")) {
        nlohmann::json pieces = nlohmann::json::array();
        for (int id : ids) pieces.push_back(pieceOf(tokenizer, id));
        nlohmann::json out = {{"text", text}, {"ids", ids}, {"pieces", pieces}, {"count", ids.size()}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return llava::Status::ok();
    }
    std::cout << "text    \"";
    for (char c : text) std::cout << (c == '\n' ? std::string("\\n") : std::string(1, c));
    std::cout << "\"\ncount   " << ids.size() << "\nids    ";
    for (int id : ids) std::cout << " " << id;
    std::cout << "\npieces ";
    for (int id : ids) std::cout << " " << pieceOf(tokenizer, id);
    std::cout << "\n";
    return llava::Status::ok();
}

}  // namespace cli
