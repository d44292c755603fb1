// Demo tokenizer training with sentencepiece's own trainer on the embedded corpus (demomodel.h).
// Determinism: num_threads 1, all sentences used in file order (input_sentence_size 0, no shuffling);
// training on the same text gives the same serialized model byte for byte.
#include "engine/demotokenizer.h"

#include <sentencepiece_trainer.h>

#include <string_view>
#include <unordered_map>
#include <vector>

#include "llava/demomodel.h"

namespace llava::demo {
namespace {

class LineIterator final : public sentencepiece::SentenceIterator {
public:
    explicit LineIterator(std::string_view text) {
        std::size_t begin = 0;
        while (begin < text.size()) {
            std::size_t end = text.find('\n', begin);
            if (end == std::string_view::npos) end = text.size();
            if (end > begin) m_lines.emplace_back(text.substr(begin, end - begin));
            begin = end + 1;
        }
    }
    bool done() const override { return m_index >= m_lines.size(); }
    void Next() override { ++m_index; }
    const std::string& value() const override { return m_lines[m_index]; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    std::vector<std::string> m_lines;
    std::size_t m_index = 0;
};

}  // namespace

Result<std::string> trainTokenizer(int vocabSize) {
    const std::unordered_map<std::string, std::string> args = {
        {"model_type", "bpe"},
        {"vocab_size", std::to_string(vocabSize)},
        {"byte_fallback", "true"},
        {"character_coverage", "1.0"},
        {"normalization_rule_name", "identity"},
        {"remove_extra_whitespaces", "false"},
        {"split_digits", "true"},
        {"allow_whitespace_only_pieces", "true"},
        {"num_threads", "1"},
        {"input_sentence_size", "0"},
        {"shuffle_input_sentence", "false"},
        {"unk_id", "0"}, {"bos_id", "1"}, {"eos_id", "2"}, {"pad_id", "-1"},
        {"minloglevel", "2"},
    };
    LineIterator lines(demoCorpus());
    std::string model;
    const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines, &model);
    if (!status.ok())
        return makeError(ErrorCode::Internal, std::string("demo tokenizer training failed: ") + status.ToString());
    return model;
}

}  // namespace llava::demo
