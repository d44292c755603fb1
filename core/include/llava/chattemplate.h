// Chat templates of LLaVA v1.6 (spec §5.1–5.3, §6): turn a conversation into the prompt string that
// is fed to the tokenizer (BOS is added by the tokenizer, never written in the text).
// ORIG (haotian-liu/LLaVA conversation.py) rendering by default; HF chat-template spacing on request.
// Not here: tokenization and "<image>" expansion (prompt.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llava/status.h"

namespace llava {

enum class ChatRole { User, Assistant };

struct ChatTurn {
    ChatRole role = ChatRole::User;
    std::string text;  // without any "<image>" marker: renderChat adds them to the first user turn
};

// Which reference's whitespace to reproduce. Only mistral_instruct differs in multi-turn prompts
// (ORIG "A1 </s>[INST]" vs HF "A1</s> [INST]", spec §5.1); other templates render identically.
enum class TemplateFlavour { Original, Transformers };

struct RenderOptions {
    TemplateFlavour flavour = TemplateFlavour::Original;
    int nImages = 1;            // "<image>\n" prefixes in the first user turn (0 = text-only chat)
    bool useSystemPrompt = true;  // false drops the template's built-in system prompt
    std::string systemPrompt;   // non-empty overrides the built-in one (templates that have a system slot)
};

struct ChatTemplateInfo {
    std::string name;                     // canonical name, e.g. "chatml_direct"
    std::string defaultSystemPrompt;      // "" when the template has none
    std::vector<std::string> stopStrings; // stripped from streamed text ("</s>", "<|im_end|>")
};

// Canonical names in a stable order: mistral_instruct, chatml_direct, llava_v1, vicuna_v1, llava_llama_2.
std::vector<std::string> chatTemplateNames();
// Resolves a name or alias ("mistral_direct" -> chatml_direct). Unknown -> InvalidArgument listing all.
Result<ChatTemplateInfo> findChatTemplate(std::string_view name);
// ORIG cli.py auto-choice from the model name/path (spec §6): "llama-2", "mistral", "v1.6-34b", "v1"
// (case-insensitive, in this order). mpt / llava_v0 are not supported -> Unsupported error.
Result<std::string> autoChatTemplateName(std::string_view modelNameOrPath);

// Renders alternating turns starting with User. When the last turn is a User turn the result ends
// with the assistant prefix the model continues from ("[/INST]", "ASSISTANT:", "<|im_start|>assistant\n").
// Errors: unknown template, empty conversation, turns not alternating.
Result<std::string> renderChat(std::string_view templateName, const std::vector<ChatTurn>& turns,
                               const RenderOptions& options = {});

}  // namespace llava
