// Exact text token counts for the inspector's strip: the model's tokenizer + chat template +
// llava::buildPrompt give the real segment layout of a one-image prompt (e.g. 5 + 2340 + 13). Without
// a tokenizer (presets) it falls back to an estimate the strip marks with "≈".
// The tokenizer is loaded off the GUI thread (loadTokenizer) and then only used through const methods.
#pragma once

#include <QString>
#include <memory>

#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/tokenizer.h"

struct TextTokenCounts {
    int before = 0;   // BOS + template text in front of the image
    int after = 0;    // "\n" + question + template tail
    bool estimated = true;
};

class PromptCounter {
public:
    PromptCounter() = default;
    // tokenizer may be null: estimates only.
    PromptCounter(llava::ModelConfig config, std::shared_ptr<const llava::Tokenizer> tokenizer);

    bool exact() const { return m_tokenizer != nullptr; }
    const llava::Tokenizer* tokenizer() const { return m_tokenizer.get(); }
    // Counts for a first message with one image and `question`; imageTokens only labels the image run.
    TextTokenCounts count(const QString& question, const QString& systemPrompt = {}) const;

    // <dir>/tokenizer.model + tokenizer_config.json. Blocking: call from a worker thread.
    static llava::Result<std::shared_ptr<const llava::Tokenizer>> loadTokenizer(const QString& modelDir);

private:
    llava::ModelConfig m_config;
    std::shared_ptr<const llava::Tokenizer> m_tokenizer;
};
