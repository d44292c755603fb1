// Chat templates of LLaVA v1.6 (docs/spec.md §6.1-§6.4, §6.6): turn a conversation into the prompt string that
// is fed to the tokenizer (BOS is added by the tokenizer, never written in the text).
// ORIG (haotian-liu/LLaVA conversation.py) rendering by default; HF chat-template spacing on request.
// Images are positions, never text: renderChatChunks returns the text around them as separate chunks,
// so a user who types the characters "<image>" gets those characters tokenised (docs/chat-session.md).
// Not here: tokenization and image-token expansion (prompt.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llava/status.h"

namespace llava {

enum class ChatRole { User, Assistant };

struct ChatTurn {
    ChatRole role = ChatRole::User;
    std::string text;  // as typed; a literal "<image>" in it is text, never an image
    int images = 0;    // user turns: images attached to this message, rendered as "<image>\n" each at
                       // the start of the message (ORIG cli.py / HF chat templates); assistant turns: 0
};

// Which reference's whitespace to reproduce. Only mistral_instruct differs in multi-turn prompts
// (ORIG "A1 </s>[INST]" vs HF "A1</s> [INST]", docs/spec.md §6.2); other templates render identically.
enum class TemplateFlavour { Original, Transformers };

struct RenderOptions {
    TemplateFlavour flavour = TemplateFlavour::Original;
    int nImages = 1;            // extra "<image>\n" prefixes in the first user turn, added to turns[0].images
                                // (a shorthand for one-question callers; the chat session passes 0)
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
// ORIG cli.py auto-choice from the model name/path (docs/spec.md §6.6): "llama-2", "mistral", "v1.6-34b", "v1"
// (case-insensitive, in this order). mpt / llava_v0 are not supported -> Unsupported error.
Result<std::string> autoChatTemplateName(std::string_view modelNameOrPath);

// A rendered conversation in the form ORIG tokenizer_image_token consumes after its split on "<image>":
// text chunks with exactly one image between consecutive chunks (chunks.size() == images + 1). Image k
// (0-based, in conversation order: turn by turn, then attachment order) sits between chunks[k] and
// chunks[k + 1]. A chunk may be empty (two images in a row) and may contain the literal "<image>".
struct RenderedChat {
    std::vector<std::string> chunks{std::string()};
    int imageCount() const { return static_cast<int>(chunks.size()) - 1; }
    // The chunks joined with "<image>" (what the references feed their tokenizers); for display and the
    // string API only: typed "<image>" text cannot be told apart from an image here.
    std::string joined() const;
};

// Renders alternating turns starting with User. When the last turn is a User turn the result ends
// with the assistant prefix the model continues from ("[/INST]", "ASSISTANT:", "<|im_start|>assistant\n").
// Errors: unknown template, empty conversation, turns not alternating, negative image counts, images on
// an assistant turn.
Result<RenderedChat> renderChatChunks(std::string_view templateName, const std::vector<ChatTurn>& turns,
                                      const RenderOptions& options = {});
// renderChatChunks(...).joined(): the prompt string with "<image>" markers.
Result<std::string> renderChat(std::string_view templateName, const std::vector<ChatTurn>& turns,
                               const RenderOptions& options = {});

}  // namespace llava
