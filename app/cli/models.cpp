// `models`: the model library (hub cache, the app's models folder, recent folders) with each model's
// layout, template, dtype, size, completeness and memory plan for this machine.
#include <iostream>

#include <QDir>
#include <nlohmann/json.hpp>

#include "args.h"
#include "backends.h"
#include "commands.h"
#include "librarylocations.h"
#include "memorycheck.h"
#include "llava/weights.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& modelsOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"hf-cache", ValueKind::Value, "DIR", "hub cache to scan (default: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)"},
        {"folder", ValueKind::Value, "DIR", "also list the model folders inside DIR (repeatable)", true},
        {"backend", ValueKind::Value, "B", "plan for cpu | cuda | auto (default auto)"},
        {"context", ValueKind::Value, "N", "context length the plan assumes (default 4096)"},
        {"json", ValueKind::Flag, "", "print one JSON array"},
    };
    return kOptions;
}

std::string layoutText(const llava::LibraryEntry& e) {
    return e.layout ? std::string(llava::layoutName(*e.layout)) : std::string("unknown");
}

std::string fitsText(const llava::MemoryPlan& plan) {
    std::string text;
    for (const auto& row : plan.rows)
        if (row.fits) text += (text.empty() ? "" : ", ") + std::string(llava::weightPrecisionName(row.precision));
    return text.empty() ? "none" : text;
}

}  // namespace

llava::Status runModels(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, modelsOptions(), 0));
    if (args.has("help")) {
        std::cout << "Usage: llava-insight-cli models [--hf-cache DIR] [--folder DIR]... [--backend B] [--context N] [--json]\n\n"
                     "Lists the models on this machine: the Hugging Face hub cache, the app's models folder\n("
                  << hub::appModelsDir().toStdString()
                  << "), recent folders of the app, and --folder DIRs.\nFor each: layout, template, stored dtype, size, "
                     "whether it is complete (config, tokenizer, every\nshard of the index present and of its declared "
                     "size) and the memory plan (which precisions fit).\nNothing is downloaded.\n\nOptions:\n"
                  << formatOptions(modelsOptions());
        return llava::Status::ok();
    }
    int context = 4096;
    if (auto v = args.value("context")) {
        LLAVA_ASSIGN_OR_RETURN(context, parseIntOption("--context", *v, 16, 1 << 20));
    }
    llava::BackendKind kind = llava::BackendKind::Auto;
    if (auto v = args.value("backend")) {
        LLAVA_ASSIGN_OR_RETURN(kind, parseBackendKind(*v));
    }
    llava::LibraryLocations where = hub::defaultLibraryLocations(QString::fromStdString(args.value("hf-cache").value_or("")));
    for (const std::string& folder : args.values("folder")) where.appFolders.push_back(folder);
    const std::vector<llava::LibraryEntry> entries = llava::scanLibrary(where);
    const llava::BackendRegistry registry = makeBackendRegistry();
    const PlanTarget target = planTarget(registry, kind);

    nlohmann::json json = nlohmann::json::array();
    for (const llava::LibraryEntry& e : entries) {
        const llava::MemoryPlan plan = planFor(e, target, context, llava::WeightPrecision::AsStored);
        if (args.has("json")) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& r : plan.rows)
                rows.push_back({{"precision", std::string(llava::weightPrecisionName(r.precision))},
                                {"weight_bytes", r.weightBytes}, {"kv_cache_bytes", r.kvCacheBytes},
                                {"scratch_bytes", r.scratchBytes}, {"total_bytes", r.totalBytes()}, {"fits", r.fits}});
            json.push_back({{"name", e.name}, {"dir", e.dir.string()}, {"source", std::string(llava::librarySourceName(e.source))},
                            {"repo_id", e.repoId}, {"commit", e.commit}, {"refs", e.refs}, {"layout", layoutText(e)},
                            {"template", e.templateName}, {"dtype", e.storedDtype}, {"size_bytes", e.sizeOnDisk},
                            {"complete", e.complete}, {"problems", e.problems},
                            {"plan", {{"device", std::string(llava::planDeviceName(plan.device))},
                                      {"context", plan.contextLength}, {"available_bytes", plan.availableBytes},
                                      {"recommended", plan.recommended ? std::string(llava::weightPrecisionName(*plan.recommended)) : ""},
                                      {"rows", rows}}}});
            continue;
        }
        std::cout << e.name << "\n"
                  << "  folder     " << e.dir.string() << "\n"
                  << "  source     " << llava::librarySourceName(e.source)
                  << (e.refs.empty() ? "" : " (refs: " + [&] {
                         std::string r;
                         for (const auto& ref : e.refs) r += (r.empty() ? "" : ", ") + ref;
                         return r;
                     }() + ")")
                  << "\n"
                  << "  layout     " << layoutText(e) << "\n"
                  << "  template   " << (e.templateName.empty() ? "unknown" : e.templateName) << "\n"
                  << "  dtype      " << (e.storedDtype.empty() ? "unknown" : e.storedDtype) << "\n"
                  << "  size       " << llava::formatBytes(e.sizeOnDisk) << "\n"
                  << "  complete   " << (e.complete ? "yes" : "no") << "\n";
        for (const std::string& p : e.problems) std::cout << "    - " << p << "\n";
        std::cout << "  fits       " << fitsText(plan) << "\n";
        std::string table = llava::formatMemoryPlan(plan);
        for (std::size_t pos = 0; pos < table.size();) {
            const std::size_t end = table.find('\n', pos);
            std::cout << "    " << table.substr(pos, end - pos) << "\n";
            pos = end == std::string::npos ? table.size() : end + 1;
        }
        std::cout << "\n";
    }
    if (args.has("json")) std::cout << json.dump(2) << "\n";
    else if (entries.empty()) std::cout << "no models found (download one with: llava-insight-cli pull REPO)\n";
    return llava::Status::ok();
}

}  // namespace cli
