// explainAnswer: reply, then one more prefill of prompt + answer with attention capture (see explain.h).
// The prompt is rendered and tokenised exactly as ChatSessionImpl does for a first message with one image
// (the check against the session's context length catches a divergence).
#include "llava/explain.h"

#include <algorithm>

#include "engine/engineimpl.h"
#include "llava/preprocess.h"
#include "llava/prompt.h"

namespace llava {
namespace {

Status checkRange(const char* what, int first, int last, int count) {
    if (first < 0 || last < first || last >= count)
        return makeError(ErrorCode::OutOfRange, std::string(what) + " range " + std::to_string(first) + ".." +
                                                    std::to_string(last) + " is outside 0.." + std::to_string(count - 1));
    return Status::ok();
}

}  // namespace

Result<AttentionExplanation> explainAnswer(Engine& engine, const UserMessage& message, const SamplingParams& sampling,
                                           const ExplainOptions& options, const CancelPredicate& cancel) {
    auto* impl = dynamic_cast<EngineImpl*>(&engine);
    if (!impl) return makeError(ErrorCode::Unsupported, "explain needs the built-in engine");
    if (message.images.size() != 1)
        return makeError(ErrorCode::InvalidArgument, "explain takes exactly one image (got " +
                                                         std::to_string(message.images.size()) + ")");
    const ModelConfig& config = engine.config();
    const Tokenizer& tokenizer = *impl->m_tokenizer;
    LlavaModel& model = *impl->m_model;
    ChatSession& session = engine.session();
    const std::string systemPrompt = session.systemPrompt();

    AttentionExplanation out;
    session.clear();
    auto stats = session.reply(message, sampling, [&](const TokenEvent& e) {
        if (e.id >= 0) out.answerIds.push_back(e.id);
        out.answerText += e.piece;
        return true;
    }, cancel);
    if (!stats.isOk()) return stats.status();
    if (stats->stopReason == StopReason::Cancelled) {
        session.clear();
        return makeError(ErrorCode::Cancelled, "explain was cancelled");
    }
    const int contextAfterReply = session.contextUsed();
    session.clear();  // the capture prefill below overwrites the cache
    const int nAnswer = static_cast<int>(out.answerIds.size());
    if (nAnswer == 0) return makeError(ErrorCode::InvalidArgument, "the answer is empty: nothing to explain");
    const int lastToken = options.lastToken < 0 ? nAnswer - 1 : options.lastToken;
    LLAVA_TRY(checkRange("answer token", options.firstToken, lastToken, nAnswer));
    const int nLayers = config.text.nLayers;
    const int lastLayer = options.lastLayer < 0 ? nLayers - 1 : options.lastLayer;
    LLAVA_TRY(checkRange("layer", options.firstLayer, lastLayer, nLayers));

    // The first message's prompt, as the session rendered it.
    const RgbImage& image = message.images.front();
    LLAVA_ASSIGN_OR_RETURN(out.layout, engine.planImage(image.width, image.height));
    RenderOptions render;
    render.flavour = engine.reference() == Reference::Original ? TemplateFlavour::Original : TemplateFlavour::Transformers;
    render.nImages = 1;
    render.systemPrompt = systemPrompt;
    ChatTurn turn;  // members set by name: ChatTurn may grow
    turn.role = ChatRole::User;
    turn.text = message.text;
    LLAVA_ASSIGN_OR_RETURN(std::string rendered, renderChat(impl->m_template.name, {turn}, render));
    PromptOptions promptOptions;
    promptOptions.addBos = tokenizer.defaultAddBos();
    LLAVA_ASSIGN_OR_RETURN(PromptTokens prompt, buildPrompt(tokenizer, rendered, {out.layout.imageTokens}, promptOptions));
    out.promptLength = prompt.totalLength();
    if (out.promptLength + nAnswer != contextAfterReply)
        return makeError(ErrorCode::Internal, "explain: re-rendered prompt has " + std::to_string(out.promptLength) +
                                                  " positions but the session used " +
                                                  std::to_string(contextAfterReply - nAnswer));
    std::vector<std::int32_t> ids(prompt.hfIds.begin(), prompt.hfIds.end());  // (promptLength + lastToken)
    for (const auto& seg : prompt.segments) {
        if (seg.kind != SegmentKind::Image) continue;
        out.imageBegin = seg.begin;
        std::fill(ids.begin() + seg.begin, ids.begin() + seg.begin + seg.length, -1);
    }
    ids.insert(ids.end(), out.answerIds.begin(), out.answerIds.begin() + lastToken);

    LLAVA_ASSIGN_OR_RETURN(PreprocessedImage pre, preprocessImage(image, out.layout, config.vision));
    LLAVA_ASSIGN_OR_RETURN(std::vector<float> features, model.encodeImage(pre.pixels, out.layout, cancel));
    AttentionCapture capture;
    for (int k = options.firstToken; k <= lastToken; ++k) capture.positions.push_back(out.promptLength - 1 + k);
    model.setAttentionCapture(&capture);
    Status s = model.prefill(ids, {ImageSlot{out.imageBegin, features}}, 0, cancel);
    model.setAttentionCapture(nullptr);
    LLAVA_TRY(s);

    // Mean over the explained rows, the chosen layers and every head; keys past a row's end count 0.
    const int nHeads = config.text.nHeads;
    std::vector<double> mean(ids.size(), 0.0);  // (positions)
    int rowsUsed = 0;
    for (std::size_t i = 0; i < capture.positions.size(); ++i)
        for (int l = options.firstLayer; l <= lastLayer; ++l)
            for (int h = 0; h < nHeads; ++h) {
                const auto& row = capture.rows[(i * nLayers + static_cast<std::size_t>(l)) * nHeads + h];
                for (std::size_t j = 0; j < row.size(); ++j) mean[j] += row[j];
                ++rowsUsed;
            }
    for (double& m : mean) m /= std::max(1, rowsUsed);
    const int imageEnd = out.imageBegin + out.layout.imageTokens;
    for (std::size_t j = 0; j < mean.size(); ++j) {
        const int p = static_cast<int>(j);
        (p < out.imageBegin ? out.massTextBefore : p < imageEnd ? out.massImage : p < out.promptLength ? out.massTextAfter
                                                                                                        : out.massAnswer) += mean[j];
    }
    std::vector<float> imageWeights(mean.begin() + out.imageBegin, mean.begin() + imageEnd);  // (imageTokens)
    LLAVA_ASSIGN_OR_RETURN(out.map, projectImageAttention(out.layout, imageWeights, config.vision.patchesPerSide()));
    return out;
}

}  // namespace llava
