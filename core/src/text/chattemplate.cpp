// Chat templates, ported from the rendering rules in docs/spec.md §6.1-§6.4 (ORIG llava/conversation.py,
// SeparatorStyle LLAMA_2 / TWO / MPT) plus HF's llava-v1.6-mistral chat template spacing.
// One table describes every template; three small renderers implement the separator styles.
#include "llava/chattemplate.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace llava {

namespace {

enum class SepStyle { Llama2, Two, Mpt };

struct TemplateDef {
    std::string_view name;
    SepStyle style;
    std::string_view system;
    std::string_view userRole;       // TWO/MPT role prefixes
    std::string_view assistantRole;
    std::string_view sep;
    std::string_view sep2;
    std::string_view stop;
};

constexpr std::string_view kVicunaSystemLlava =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the human's questions.";
constexpr std::string_view kVicunaSystemV1 =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the user's questions.";
constexpr std::string_view kLlavaLlama2System =
    "You are a helpful language and vision assistant. You are able to understand the visual content that the "
    "user provides, and assist the user with a variety of tasks using natural language.";

constexpr std::array kTemplates = {
    TemplateDef{"mistral_instruct", SepStyle::Llama2, "", "USER", "ASSISTANT", "", "</s>", "</s>"},
    TemplateDef{"chatml_direct", SepStyle::Mpt, "<|im_start|>system\nAnswer the questions.", "<|im_start|>user\n",
                "<|im_start|>assistant\n", "<|im_end|>", "", "<|im_end|>"},
    TemplateDef{"llava_v1", SepStyle::Two, kVicunaSystemLlava, "USER", "ASSISTANT", " ", "</s>", "</s>"},
    TemplateDef{"vicuna_v1", SepStyle::Two, kVicunaSystemV1, "USER", "ASSISTANT", " ", "</s>", "</s>"},
    TemplateDef{"llava_llama_2", SepStyle::Llama2, kLlavaLlama2System, "USER", "ASSISTANT", "<s>", "</s>", "</s>"},
};

struct Alias {
    std::string_view alias;
    std::string_view name;
};
constexpr std::array kAliases = {Alias{"mistral_direct", "chatml_direct"}};

const TemplateDef* lookup(std::string_view name) {
    for (const auto& alias : kAliases) {
        if (alias.alias == name) name = alias.name;
    }
    for (const auto& def : kTemplates) {
        if (def.name == name) return &def;
    }
    return nullptr;
}

std::string knownNamesText() {
    std::string text;
    for (const auto& def : kTemplates) text += (text.empty() ? "" : ", ") + std::string(def.name);
    for (const auto& alias : kAliases) text += ", " + std::string(alias.alias);
    return text;
}

// The ChatML system slot holds "<|im_start|>system\n" + prompt; other templates hold the bare prompt.
std::string systemText(const TemplateDef& def, const RenderOptions& options) {
    if (!options.useSystemPrompt) return def.style == SepStyle::Mpt ? "<|im_start|>system\n" : "";
    if (options.systemPrompt.empty()) return std::string(def.system);
    return def.style == SepStyle::Mpt ? "<|im_start|>system\n" + options.systemPrompt : options.systemPrompt;
}

// Appends text and image positions to a RenderedChat; a user message is its "<image>\n" per image
// followed by the text, as ORIG cli.py builds it ("<image>\n" + question) and the llava-hf chat
// templates render it (images first, then text) — in whichever turn the images belong to.
class ChunkWriter {
public:
    void text(std::string_view s) { m_out.chunks.back() += s; }
    void message(const ChatTurn& turn) {
        for (int i = 0; i < turn.images; ++i) {
            m_out.chunks.emplace_back();  // the image sits between the previous chunk and this new one
            text("\n");
        }
        text(turn.text);
    }
    RenderedChat take() { return std::move(m_out); }

private:
    RenderedChat m_out;
};

// ORIG LLAMA_2: "[INST] " + (<<SYS>> block on the first message) + message + " [/INST]", answers
// " " + text + " " + sep2, user turns preceded by sep, and a leading sep stripped at the end.
RenderedChat renderLlama2(const TemplateDef& def, const std::vector<ChatTurn>& turns, const std::string& system,
                          TemplateFlavour flavour) {
    const std::string sysBlock = system.empty() ? "" : "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
    ChunkWriter out;
    for (std::size_t i = 0; i < turns.size(); ++i) {
        if (turns[i].role == ChatRole::User) {
            out.text((flavour == TemplateFlavour::Original ? std::string(def.sep) : "") + "[INST] " + (i == 0 ? sysBlock : ""));
            out.message(turns[i]);
            out.text(" [/INST]");
        } else if (flavour == TemplateFlavour::Original) {
            out.text(" " + turns[i].text + " " + std::string(def.sep2));
        } else {
            out.text(" " + turns[i].text + std::string(def.sep2) + " ");  // HF: "A1</s> [INST]"
        }
    }
    // Python str.lstrip(sep) strips a character set; every rendering starts with "[INST]" after sep,
    // so removing the literal sep prefix is equivalent.
    RenderedChat chat = out.take();
    std::string& first = chat.chunks.front();
    if (!def.sep.empty() && first.compare(0, def.sep.size(), def.sep) == 0) first.erase(0, def.sep.size());
    return chat;
}

// ORIG TWO: system + sep, then "ROLE: message" + (sep | sep2); pending reply "ASSISTANT:".
RenderedChat renderTwo(const TemplateDef& def, const std::vector<ChatTurn>& turns, const std::string& system) {
    ChunkWriter out;
    out.text(system + std::string(def.sep));
    for (std::size_t i = 0; i < turns.size(); ++i) {
        const bool user = turns[i].role == ChatRole::User;
        out.text(std::string(user ? def.userRole : def.assistantRole) + ": ");
        out.message(turns[i]);
        out.text(i % 2 == 0 ? def.sep : def.sep2);
    }
    return out.take();
}

// ORIG MPT: system + sep, then role + message + sep; pending reply is the bare assistant role.
RenderedChat renderMpt(const TemplateDef& def, const std::vector<ChatTurn>& turns, const std::string& system) {
    ChunkWriter out;
    out.text(system + std::string(def.sep));
    for (const ChatTurn& turn : turns) {
        out.text(turn.role == ChatRole::User ? def.userRole : def.assistantRole);
        out.message(turn);
        out.text(def.sep);
    }
    return out.take();
}

}  // namespace

std::vector<std::string> chatTemplateNames() {
    std::vector<std::string> names;
    for (const auto& def : kTemplates) names.emplace_back(def.name);
    return names;
}

Result<ChatTemplateInfo> findChatTemplate(std::string_view name) {
    const TemplateDef* def = lookup(name);
    if (!def)
        return makeError(ErrorCode::InvalidArgument,
                         "unknown chat template '" + std::string(name) + "'; known: " + knownNamesText());
    return ChatTemplateInfo{std::string(def->name), std::string(def->style == SepStyle::Mpt ? "Answer the questions." : def->system),
                            {std::string(def->stop)}};
}

Result<std::string> autoChatTemplateName(std::string_view modelNameOrPath) {
    std::string lower(modelNameOrPath);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto has = [&lower](std::string_view needle) { return lower.find(needle) != std::string::npos; };
    // Same order as ORIG llava/serve/cli.py (docs/spec.md §6.6): the first match wins.
    if (has("llama-2")) return std::string("llava_llama_2");
    if (has("mistral")) return std::string("mistral_instruct");
    if (has("v1.6-34b")) return std::string("chatml_direct");
    if (has("v1")) return std::string("llava_v1");
    const char* origChoice = has("mpt") ? "mpt" : "llava_v0";
    return makeError(ErrorCode::Unsupported, "model '" + std::string(modelNameOrPath) + "' maps to ORIG template '" +
                                                 origChoice + "', which is not supported; choose one of: " +
                                                 knownNamesText());
}

std::string RenderedChat::joined() const {
    std::string out = chunks.front();
    for (std::size_t i = 1; i < chunks.size(); ++i) out += "<image>" + chunks[i];
    return out;
}

Result<RenderedChat> renderChatChunks(std::string_view templateName, const std::vector<ChatTurn>& turns,
                                      const RenderOptions& options) {
    const TemplateDef* def = lookup(templateName);
    if (!def)
        return makeError(ErrorCode::InvalidArgument,
                         "unknown chat template '" + std::string(templateName) + "'; known: " + knownNamesText());
    if (turns.empty()) return makeError(ErrorCode::InvalidArgument, "empty conversation");
    if (options.nImages < 0) return makeError(ErrorCode::InvalidArgument, "negative image count");
    std::vector<ChatTurn> withImages = turns;
    withImages.front().images += options.nImages;  // the one-question shorthand (chattemplate.h)
    for (std::size_t i = 0; i < turns.size(); ++i) {
        const ChatRole expected = i % 2 == 0 ? ChatRole::User : ChatRole::Assistant;
        if (turns[i].role != expected)
            return makeError(ErrorCode::InvalidArgument,
                             "turn " + std::to_string(i) + " must be a " +
                                 (expected == ChatRole::User ? "user" : "assistant") + " turn (turns alternate, user first)");
        if (withImages[i].images < 0 || (expected == ChatRole::Assistant && withImages[i].images != 0))
            return makeError(ErrorCode::InvalidArgument, "turn " + std::to_string(i) + " has " +
                                                             std::to_string(withImages[i].images) +
                                                             " images; only user turns can have images (0 or more)");
    }

    const std::string system = systemText(*def, options);
    RenderedChat out;
    switch (def->style) {
    case SepStyle::Llama2: out = renderLlama2(*def, withImages, system, options.flavour); break;
    case SepStyle::Two: out = renderTwo(*def, withImages, system); break;
    case SepStyle::Mpt: out = renderMpt(*def, withImages, system); break;
    }
    // Pending reply: ORIG appends (assistant, None), which renders as the bare assistant prefix.
    if (turns.back().role == ChatRole::User) {
        if (def->style == SepStyle::Two) out.chunks.back() += std::string(def->assistantRole) + ":";
        if (def->style == SepStyle::Mpt) out.chunks.back() += std::string(def->assistantRole);
    }
    return out;
}

Result<std::string> renderChat(std::string_view templateName, const std::vector<ChatTurn>& turns,
                               const RenderOptions& options) {
    LLAVA_ASSIGN_OR_RETURN(RenderedChat chat, renderChatChunks(templateName, turns, options));
    return chat.joined();
}

}  // namespace llava
