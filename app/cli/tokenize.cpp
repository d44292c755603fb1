// `tokenize`: ids and pieces of a text with a model's sentencepiece tokenizer. With --template the
// text is first rendered as a single user turn; "<image>" markers (from --images N or written in the
// text) become the ORIG placeholder -200, exactly what the model's prompt builder produces (docs/spec.md §7.2).
// With --labels the positional arguments are a conversation and each id is printed with its training
// label as ORIG llava/train/train.py computes it (llava/traininglabels.h).
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "llava/chattemplate.h"
#include "llava/prompt.h"
#include "llava/traininglabels.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& tokenizeOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (tokenizer.model)"},
        {"template", ValueKind::Value, "NAME", "render TEXT as one user turn of this chat template first"},
        {"images", ValueKind::Value, "N", "with --template: \"<image>\\n\" markers in the turn (default 0)"},
        {"no-bos", ValueKind::Flag, "", "do not prepend BOS"},
        {"json", ValueKind::Flag, "", "print one JSON object instead of text"},
        {"labels", ValueKind::Flag, "",
         "training labels: TEXT... are alternating user/assistant turns; prints each id with its ORIG train.py label"},
        {"system", ValueKind::Value, "TEXT", "with --labels: system prompt instead of the template's"},
        {"non-legacy", ValueKind::Flag, "", "with --labels: the checkpoint's tokenizer_config says legacy: false"},
        {"max-length", ValueKind::Value, "N", "with --labels: training model_max_length (default 2048)"},
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli tokenize --tokenizer FILE [--template NAME [--images N]] [--json] TEXT\n"
                 "       llava-insight-cli tokenize --tokenizer FILE --template NAME|plain --labels [--images 0|1]\n"
                 "                                  [--system TEXT] [--non-legacy] [--max-length N] [--json] USER ASSISTANT...\n\n"
                 "Prints token ids and pieces. Special tokens written in TEXT (\"</s>\") become their ids;\n"
                 "each \"<image>\" marker becomes the placeholder -200 and text chunks around it are\n"
                 "tokenized separately, as LLaVA does.\n\n"
                 "--labels: the conversation (turns alternate, user first, ending with an answer; --images puts the\n"
                 "image in the first user turn) as LLaVA stage-2 training sees it, with each id's label exactly as\n"
                 "the original llava/train/train.py preprocess computes it: the id itself where the model learns\n"
                 "(answers and their end separator), -100 where it is masked (BOS, system, user turns, image,\n"
                 "role markers). \"plain\" is stage 1 (image + caption). When the original code's token\n"
                 "arithmetic does not add up it masks everything; that is shown as a mismatch.\n\nTemplates:";
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

// --labels: ids with their training label (see printHelp).
llava::Status runLabels(const ParsedArgs& args, const llava::Tokenizer& tokenizer) {
    const auto name = args.value("template");
    if (!name) return llava::makeError(llava::ErrorCode::InvalidArgument, "--labels needs --template NAME (or plain)");
    std::vector<llava::TrainingTurn> turns;
    for (std::size_t i = 0; i < args.positional().size(); ++i)
        turns.push_back({i % 2 == 0 ? llava::ChatRole::User : llava::ChatRole::Assistant, args.positional()[i], 0});
    if (auto n = args.value("images")) {
        LLAVA_ASSIGN_OR_RETURN(int images, parseIntOption("images", *n, 0, 1));
        if (!turns.empty()) turns[0].images = images;
    }
    llava::TrainingLabelOptions options;
    options.templateName = *name;
    if (auto system = args.value("system")) options.systemPrompt = *system;
    options.legacy = args.has("non-legacy") ? llava::TokenizerLegacy::No : llava::TokenizerLegacy::Yes;
    if (auto n = args.value("max-length")) {
        LLAVA_ASSIGN_OR_RETURN(options.modelMaxLength, parseIntOption("max-length", *n, 1, 1 << 24));
    }
    if (args.has("no-bos")) options.addBos = llava::AddBos::No;
    LLAVA_ASSIGN_OR_RETURN(llava::TrainingLabels labels, llava::computeTrainingLabels(tokenizer, turns, options));

    if (args.has("json")) {
        nlohmann::json pieces = nlohmann::json::array();
        for (int id : labels.ids) pieces.push_back(pieceOf(tokenizer, id));
        nlohmann::json out = {{"preprocess", labels.preprocess}, {"conversation", labels.conversation},
                              {"ids", labels.ids},               {"labels", labels.labels},
                              {"pieces", pieces},                {"count", labels.ids.size()},
                              {"learned", labels.learnedCount()}, {"mismatch", nullptr}};
        if (labels.mismatch) out["mismatch"] = {labels.mismatchCurLen, labels.mismatchTotalLen};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return llava::Status::ok();
    }
    std::cout << "preprocess   " << labels.preprocess << " (template " << *name << ")\n";
    std::cout << "tokens       " << labels.ids.size() << " (learned " << labels.learnedCount() << ", masked "
              << labels.ids.size() - static_cast<std::size_t>(labels.learnedCount()) << ")\n";
    if (labels.mismatch)
        std::cout << "mismatch     the original code counts " << labels.mismatchCurLen << " tokens but the sequence has "
                  << labels.mismatchTotalLen << ": it masks every label (\"tokenization mismatch\")\n";
    std::cout << "pos\tid\tlabel\tpiece\n";
    for (std::size_t i = 0; i < labels.ids.size(); ++i) {
        std::string piece = pieceOf(tokenizer, labels.ids[i]);
        for (auto pos = piece.find('\n'); pos != std::string::npos; pos = piece.find('\n')) piece.replace(pos, 1, "\\n");
        std::cout << i << "\t" << labels.ids[i] << "\t" << labels.labels[i] << "\t" << piece << "\n";
    }
    return llava::Status::ok();
}

}  // namespace

llava::Status runTokenize(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, tokenizeOptions(), 64));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    if (!args.has("tokenizer")) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --tokenizer FILE");
    if (args.positional().empty()) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing TEXT to tokenize");
    LLAVA_ASSIGN_OR_RETURN(std::optional<llava::Tokenizer> loaded, loadTokenizerFor(args, nullptr));
    const llava::Tokenizer& tokenizer = *loaded;
    if (args.has("labels")) return runLabels(args, tokenizer);
    for (const char* option : {"system", "non-legacy", "max-length"}) {
        if (args.has(option))
            return llava::makeError(llava::ErrorCode::InvalidArgument, std::string("--") + option + " needs --labels");
    }
    if (args.positional().size() > 1)
        return llava::makeError(llava::ErrorCode::InvalidArgument, "tokenize takes one TEXT (several only with --labels)");

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
