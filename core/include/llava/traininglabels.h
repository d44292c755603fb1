// Training-label view: which token positions of a conversation would carry loss in LLaVA training and
// which are masked with IGNORE_INDEX (-100), exactly as the original code's llava/train/train.py does it:
// preprocess_multimodal (the "<image>" marker moved to the front of its message, text stripped), then
// preprocess() dispatching on the template's separator style / version:
//   mistral_instruct, llava_llama_2 -> preprocess_llama_2   (SeparatorStyle.LLAMA_2)
//   llava_v1, vicuna_v1             -> preprocess_v1        (version "v1", SeparatorStyle.TWO)
//   chatml_direct                   -> preprocess_mpt       (version "mpt", SeparatorStyle.MPT)
//   plain                           -> preprocess_plain     (stage 1: "<image>" + caption + "\n")
// including the code's quirks: its round arithmetic re-tokenizes every round separately, and when the sum
// does not equal the tokenized length it masks the whole conversation ("tokenization mismatch").
// Verified id for id and label for label against that code (tests/reference/gen_labels.py).
// Not here: anything about inference prompts (chattemplate.h / prompt.h); the ids here are the training
// sequence, which differs from the inference prompt (no pending "ASSISTANT:", stripped image messages).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "llava/chattemplate.h"
#include "llava/status.h"
#include "llava/tokenizer.h"

namespace llava {

inline constexpr int kIgnoreIndex = -100;  // ORIG IGNORE_INDEX: no loss at this position

// The slow LlamaTokenizer's `legacy` flag of the checkpoint's tokenizer_config.json. It changes how text
// after a special token is tokenized and which length corrections preprocess_v1 / preprocess_mpt apply.
// Legacy::Yes tokenizes like our Tokenizer (and the inference path); Legacy::No reproduces the slow
// tokenizer's non-legacy mode (no "▁" after "</s>", a "▁" before a leading non-special piece).
enum class TokenizerLegacy { Yes, No };

struct TrainingTurn {
    ChatRole role = ChatRole::User;
    std::string text;  // without "<image>" markers
    int images = 0;    // images attached to this message (0 or 1: ORIG keeps one marker per message)
};

struct TrainingLabelOptions {
    std::string templateName;        // a chat template name (chatTemplateNames()) or "plain"
    std::string systemPrompt;        // "" = the template's own (as ChatSession::setSystemPrompt)
    TokenizerLegacy legacy = TokenizerLegacy::Yes;
    int modelMaxLength = 2048;       // training_args.model_max_length (scripts/v1_5/finetune.sh: 2048)
    std::optional<AddBos> addBos;    // nullopt: tokenizer.defaultAddBos() (tokenizer_config.json)
};

struct TrainingLabels {
    std::string preprocess;          // "preprocess_v1", ... (the ORIG function that applies)
    std::string conversation;        // the text the function tokenized (empty for plain: see messages)
    std::vector<int> ids;            // (nIds) ORIG input_ids: one kImagePlaceholderId (-200) per image
    std::vector<int> labels;         // (nIds) kIgnoreIndex where masked, else ids[i]
    bool hasImage = false;
    // ORIG's "WARNING: tokenization mismatch: curLen vs. totalLen. (ignored)": every label is masked.
    bool mismatch = false;
    int mismatchCurLen = 0, mismatchTotalLen = 0;

    int learnedCount() const;        // positions with loss
};

// PRECONDITIONS: turns alternate user/assistant starting with the user and end with an assistant turn
// (a training sample is complete exchanges); every message has text or an image; images only on user
// messages, at most one per message; the text contains no literal "<image>". plain: exactly one exchange
// whose user message has the image. Violations -> InvalidArgument naming the turn.
Result<TrainingLabels> computeTrainingLabels(const Tokenizer& tokenizer, const std::vector<TrainingTurn>& turns,
                                             const TrainingLabelOptions& options);

// What the model trains on after ORIG llava_arch.prepare_inputs_labels_for_multimodal: each -200 becomes
// that image's N_i feature rows with label -100 (ids there: imageTokenId, as HF input_ids), then the
// sequence is cut to tokenizerModelMaxLength when > 0 (config.tokenizer_model_max_length).
struct ExpandedLabels {
    std::vector<int> ids;     // (nPositions)
    std::vector<int> labels;  // (nPositions)
};
// Error: imageTokenCounts.size() != number of -200 placeholders, or a count <= 0.
Result<ExpandedLabels> expandTrainingLabels(const TrainingLabels& labels, const std::vector<int>& imageTokenCounts,
                                            int imageTokenId, int tokenizerModelMaxLength = 0);

}  // namespace llava
