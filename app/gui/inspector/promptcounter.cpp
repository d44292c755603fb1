// See promptcounter.h.
#include "promptcounter.h"

#include <QDir>

#include "llava/chattemplate.h"
#include "llava/prompt.h"

PromptCounter::PromptCounter(llava::ModelConfig config, std::shared_ptr<const llava::Tokenizer> tokenizer)
    : m_config(std::move(config)), m_tokenizer(std::move(tokenizer)) {}

TextTokenCounts PromptCounter::count(const QString& question, const QString& systemPrompt) const {
    // Estimate (mistral_instruct-like): BOS "[INST]" before the image, "\n<question> [/INST]" after it.
    TextTokenCounts estimate{5, 5 + int((question.toUtf8().size() + 3) / 4), true};
    if (!m_tokenizer) return estimate;
    std::string name = m_config.templateName;
    if (name.empty()) {
        auto chosen = llava::autoChatTemplateName(m_config.name);
        if (!chosen.isOk()) return estimate;
        name = *chosen;
    }
    llava::RenderOptions render;
    render.nImages = 1;
    render.systemPrompt = systemPrompt.toStdString();
    auto rendered = llava::renderChat(name, {{llava::ChatRole::User, question.toStdString()}}, render);
    if (!rendered.isOk()) return estimate;
    llava::PromptOptions options;
    options.addBos = m_tokenizer->defaultAddBos();
    options.imageTokenId = m_config.imageTokenId >= 0 ? m_config.imageTokenId : m_tokenizer->vocabSize();
    auto prompt = llava::buildPrompt(*m_tokenizer, *rendered, {1}, options);
    if (!prompt.isOk()) return estimate;
    TextTokenCounts exact{0, 0, false};
    bool seenImage = false;
    for (const llava::PromptSegment& s : prompt->segments) {
        if (s.kind == llava::SegmentKind::Image) seenImage = true;
        else (seenImage ? exact.after : exact.before) += s.length;
    }
    return exact;
}

llava::Result<std::shared_ptr<const llava::Tokenizer>> PromptCounter::loadTokenizer(const QString& modelDir) {
    const std::filesystem::path dir(QDir(modelDir).absolutePath().toStdString());
    LLAVA_ASSIGN_OR_RETURN(llava::Tokenizer tokenizer, llava::Tokenizer::loadFile(dir / "tokenizer.model"));
    LLAVA_TRY(tokenizer.applyTokenizerConfig(dir));
    return std::shared_ptr<const llava::Tokenizer>(std::make_shared<llava::Tokenizer>(std::move(tokenizer)));
}
