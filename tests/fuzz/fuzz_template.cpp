// Fuzz target: chat template rendering (core renderChat) with arbitrary turns, system prompt, template
// name, flavour and image count, as a chat file or a GUI session can supply them.
// Input layout: byte 0 picks the template (and now and then an unknown name), byte 1 the options
// (flavour, images 0-3, built-in system prompt on/off), then NUL-separated strings: the system prompt,
// then the turns (roles alternate from User; byte 1's top bit breaks the alternation on purpose).
// Checks beyond "no crash / UB / leak": a rendering that succeeds contains every turn's text verbatim
// (texts holding the literal "<image>" are exempt: typed markers may be escaped, issue 10 item 5) and
// only grows linearly with the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "llava/chattemplate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static const std::vector<std::string> names = [] {
        auto n = llava::chatTemplateNames();
        n.push_back("mistral_direct");  // an alias
        n.push_back("no-such-template");
        return n;
    }();
    const std::string& name = names[data[0] % names.size()];
    llava::RenderOptions options;
    options.flavour = (data[1] & 1) ? llava::TemplateFlavour::Transformers : llava::TemplateFlavour::Original;
    options.nImages = (data[1] >> 1) & 3;
    options.useSystemPrompt = (data[1] & 8) == 0;
    const bool breakAlternation = (data[1] & 0x80) != 0;

    std::vector<std::string> parts;
    std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    while (true) {
        const std::size_t nul = rest.find('\0');
        parts.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
    }
    options.systemPrompt = parts.front();
    std::vector<llava::ChatTurn> turns;
    std::size_t textBytes = options.systemPrompt.size();
    for (std::size_t i = 1; i < parts.size(); ++i) {
        llava::ChatTurn turn;
        const bool user = breakAlternation ? (parts[i].size() % 2 == 0) : (i % 2 == 1);
        turn.role = user ? llava::ChatRole::User : llava::ChatRole::Assistant;
        turn.text = parts[i];
        textBytes += turn.text.size();
        turns.push_back(std::move(turn));
    }
    auto rendered = llava::renderChat(name, turns, options);
    if (!rendered.isOk()) return 0;
    for (const llava::ChatTurn& turn : turns)
        if (turn.text.find("<image>") == std::string::npos && rendered->find(turn.text) == std::string::npos) std::abort();
    // Fixed markup per turn (a few dozen bytes) plus a built-in system prompt (< 300 bytes): linear.
    if (rendered->size() > 2 * textBytes + 64 * (turns.size() + 1) + 1024) std::abort();
    return 0;
}
