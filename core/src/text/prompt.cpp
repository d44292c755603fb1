// buildPrompt / truncatePrompt: ORIG tokenizer_image_token and the HF expansion (docs/spec.md §7.2,
// truncation §7.4) computed together, so the inspector can show both sequences and their layout.
#include "llava/prompt.h"

#include <algorithm>

namespace llava {

namespace {

RenderedChat splitOnMarker(std::string_view prompt) {
    RenderedChat chat;
    chat.chunks.clear();
    std::size_t begin = 0;
    for (std::size_t pos = prompt.find(kImageMarker); pos != std::string_view::npos;
         pos = prompt.find(kImageMarker, begin)) {
        chat.chunks.emplace_back(prompt.substr(begin, pos - begin));
        begin = pos + kImageMarker.size();
    }
    chat.chunks.emplace_back(prompt.substr(begin));
    return chat;
}

void appendSegment(PromptTokens& out, SegmentKind kind, int length, int imageIndex) {
    if (length <= 0) return;
    out.segments.push_back({kind, out.totalLength() - length, length, imageIndex});
}

}  // namespace

std::vector<int> PromptTokens::layout() const {
    std::vector<int> lengths;
    lengths.reserve(segments.size());
    for (const auto& segment : segments) lengths.push_back(segment.length);
    return lengths;
}

Result<PromptTokens> buildPrompt(const Tokenizer& tokenizer, std::string_view prompt,
                                 const std::vector<int>& imageTokenCounts, const PromptOptions& options) {
    return buildPrompt(tokenizer, splitOnMarker(prompt), imageTokenCounts, options);
}

Result<PromptTokens> buildPrompt(const Tokenizer& tokenizer, const RenderedChat& chat,
                                 const std::vector<int>& imageTokenCounts, const PromptOptions& options) {
    const std::vector<std::string>& chunks = chat.chunks;
    if (chunks.empty()) return makeError(ErrorCode::InvalidArgument, "rendered prompt has no text chunk");
    const std::size_t nImages = chunks.size() - 1;
    if (nImages != imageTokenCounts.size())
        return makeError(ErrorCode::InvalidArgument, "prompt has " + std::to_string(nImages) + " images but " +
                                                         std::to_string(imageTokenCounts.size()) + " image token counts were given");
    for (std::size_t i = 0; i < imageTokenCounts.size(); ++i) {
        if (imageTokenCounts[i] <= 0)
            return makeError(ErrorCode::InvalidArgument, "image " + std::to_string(i) + " has token count " +
                                                             std::to_string(imageTokenCounts[i]));
    }

    PromptTokens out;
    // ORIG: every chunk is tokenized with BOS, then BOS is kept once (docs/spec.md §7.2 step 2). Tokenizing
    // without BOS and prepending it once gives the same ids.
    if (options.addBos == AddBos::Yes && tokenizer.bosId() >= 0) {
        out.origIds.push_back(tokenizer.bosId());
        out.hfIds.push_back(tokenizer.bosId());
    }
    int pendingText = static_cast<int>(out.hfIds.size());
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const auto ids = tokenizer.encode(chunks[c], AddBos::No);
        out.origIds.insert(out.origIds.end(), ids.begin(), ids.end());
        out.hfIds.insert(out.hfIds.end(), ids.begin(), ids.end());
        pendingText += static_cast<int>(ids.size());
        if (c + 1 == chunks.size()) break;
        appendSegment(out, SegmentKind::Text, pendingText, -1);
        out.nTextTokens += pendingText;
        pendingText = 0;
        const int n = imageTokenCounts[c];
        out.origIds.push_back(kImagePlaceholderId);
        out.hfIds.insert(out.hfIds.end(), static_cast<std::size_t>(n), options.imageTokenId);
        appendSegment(out, SegmentKind::Image, n, static_cast<int>(c));
        out.nImageTokens += n;
    }
    appendSegment(out, SegmentKind::Text, pendingText, -1);
    out.nTextTokens += pendingText;
    return out;
}

Result<TruncationReport> truncatePrompt(PromptTokens& prompt, int maxLength) {
    if (maxLength <= 0) return makeError(ErrorCode::InvalidArgument, "maximum length " + std::to_string(maxLength));
    TruncationReport report;
    report.originalLength = prompt.totalLength();
    report.keptLength = std::min(report.originalLength, maxLength);
    report.truncated = report.keptLength < report.originalLength;
    if (!report.truncated) return report;

    std::vector<PromptSegment> kept;
    for (auto segment : prompt.segments) {
        const int end = segment.begin + segment.length;
        const int cut = std::max(0, end - std::max(segment.begin, maxLength));
        (segment.kind == SegmentKind::Text ? report.droppedTextTokens : report.droppedImageTokens) += cut;
        segment.length -= cut;
        if (segment.length > 0) kept.push_back(segment);
    }
    prompt.segments = std::move(kept);
    prompt.hfIds.resize(static_cast<std::size_t>(maxLength));
    prompt.nTextTokens -= report.droppedTextTokens;
    prompt.nImageTokens -= report.droppedImageTokens;
    return report;
}

}  // namespace llava
