// Prompt building (docs/spec.md §7.2, §8.1): a rendered prompt with "<image>" markers becomes token ids.
// Each text chunk between markers is tokenized independently (dummy prefix per chunk), BOS once.
// Two outputs from one pass: the ORIG sequence with one -200 placeholder per image, and the HF
// sequence where each image becomes imageTokenId repeated N_i times; plus a segment list so the
// inspector can print the layout ([5, 2340, 13]). Not here: embedding the image features.
#pragma once

#include <string_view>
#include <vector>

#include "llava/chattemplate.h"
#include "llava/status.h"
#include "llava/tokenizer.h"

namespace llava {

inline constexpr std::string_view kImageMarker = "<image>";
inline constexpr int kImagePlaceholderId = -200;  // ORIG IMAGE_TOKEN_INDEX

enum class SegmentKind { Text, Image };

// A run of positions in the spliced (expanded) sequence = HF ids = what the LLM consumes.
struct PromptSegment {
    SegmentKind kind = SegmentKind::Text;
    int begin = 0;
    int length = 0;
    int imageIndex = -1;  // 0-based image number for Image segments, -1 for Text
};

struct PromptTokens {
    std::vector<int> origIds;  // (nText + nImages): text ids with kImagePlaceholderId per image
    std::vector<int> hfIds;    // (nText + sum N_i): image token id repeated N_i times per image
    std::vector<PromptSegment> segments;  // cover hfIds in order; empty text runs are omitted
    int nTextTokens = 0;
    int nImageTokens = 0;

    int totalLength() const { return static_cast<int>(hfIds.size()); }
    std::vector<int> layout() const;  // segment lengths, e.g. {5, 2340, 13}
};

struct PromptOptions {
    AddBos addBos = AddBos::Yes;  // usually tokenizer.defaultAddBos()
    int imageTokenId = 32000;     // HF image_token_index (32000 mistral/vicuna, 64000 34b)
};

// imageTokenCounts[i] = N_i for image i (from anyres computeImageLayout). Each chunk of `chat` is
// tokenised on its own (dummy prefix per chunk, BOS once), exactly as ORIG tokenizer_image_token treats
// the pieces between "<image>" markers; a literal "<image>" inside a chunk is ordinary text.
// Errors: chat.imageCount() != imageTokenCounts.size(), N_i <= 0.
Result<PromptTokens> buildPrompt(const Tokenizer& tokenizer, const RenderedChat& chat,
                                 const std::vector<int>& imageTokenCounts, const PromptOptions& options = {});
// The string form: `prompt` is split on every "<image>" (ORIG's split), so any "<image>" in it is an
// image. For prompts a person wrote with markers (CLI tokenize/inspect), not for chat text.
Result<PromptTokens> buildPrompt(const Tokenizer& tokenizer, std::string_view prompt,
                                 const std::vector<int>& imageTokenCounts, const PromptOptions& options = {});

// ORIG truncates the spliced sequence to tokenizer_model_max_length (docs/spec.md §7.4). Made explicit:
// callers show the report instead of losing tokens silently.
struct TruncationReport {
    bool truncated = false;
    int originalLength = 0;
    int keptLength = 0;
    int droppedTextTokens = 0;
    int droppedImageTokens = 0;
};
// Cuts prompt.hfIds/segments to maxLength positions (origIds is left as is: ORIG cuts embeddings,
// not ids). Error: maxLength <= 0.
Result<TruncationReport> truncatePrompt(PromptTokens& prompt, int maxLength);

}  // namespace llava
