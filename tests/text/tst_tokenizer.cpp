// Tokenizer tests against independent references: the sha256 + known ids listed in
// shared/assets/tokenizers/README.md and docs/spec.md §7.3 (hand-checked), and golden ids written by
// Python sentencepiece / HF transformers (tests/text/gen_goldens.py -> golden_tokenizer.json).
#include <QtTest>

#include <future>
#include <vector>

#include "testtokenizers.h"

using llava::AddBos;
using llava::Tokenizer;
using Ids = std::vector<int>;

class TstTokenizer : public QObject {
    Q_OBJECT

private slots:
    void sha256Matches_data();
    void sha256Matches();
    void missingFileNamesThePath();
    void garbageBytesAreAnError();
    void knownMistralIds();
    void literalSpecialTokensBecomeIds();
    void yiChatMlIds();
    void byteValues();
    void encodeFromManyThreadsIsDeterministic();
    void tokenizerConfigJson();
};

void TstTokenizer::sha256Matches_data() {
    QTest::addColumn<int>("which");
    QTest::newRow("mistral") << 0;
    QTest::newRow("llama-2") << 1;
    QTest::newRow("yi-34b") << 2;
}

void TstTokenizer::sha256Matches() {
    QFETCH(int, which);
    const llavatest::TokenizerModelFile models[] = {llavatest::kMistral, llavatest::kLlama2, llavatest::kYi};
    const QString problem = llavatest::checkSha256(models[which]);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// Guards: an error that does not say which file failed is useless in the GUI.
void TstTokenizer::missingFileNamesThePath() {
    auto result = Tokenizer::loadFile("/nonexistent/dir/tokenizer.model");
    QVERIFY(!result.isOk());
    QCOMPARE(result.status().code(), llava::ErrorCode::NotFound);
    QVERIFY(result.status().message().find("/nonexistent/dir/tokenizer.model") != std::string::npos);
}

// Guards: untrusted tokenizer bytes must give a Status, never abort.
void TstTokenizer::garbageBytesAreAnError() {
    auto empty = Tokenizer::loadBytes("", "empty.model");
    QVERIFY(!empty.isOk());
    QVERIFY(empty.status().message().find("empty.model") != std::string::npos);
    auto garbage = Tokenizer::loadBytes(std::string(1000, '\xff'), "garbage.model");
    QVERIFY(!garbage.isOk());
    QVERIFY(garbage.status().message().find("garbage.model") != std::string::npos);
}

// Reference: shared/assets/tokenizers/README.md and docs/spec.md §7.3 (ids checked against the real model).
void TstTokenizer::knownMistralIds() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    QCOMPARE(tok->vocabSize(), 32000);
    QCOMPARE(tok->bosId(), 1);
    QCOMPARE(tok->eosId(), 2);
    QVERIFY(tok->addsDummyPrefix());
    QCOMPARE(tok->encode("[INST] ", AddBos::Yes), (Ids{1, 733, 16289, 28793, 28705}));
    QCOMPARE(tok->encode("Is there any person in this photo [/INST]", AddBos::No),
             (Ids{1691, 736, 707, 1338, 297, 456, 8428, 733, 28748, 16289, 28793}));
    QCOMPARE(tok->encode("[/INST]", AddBos::No), (Ids{733, 28748, 16289, 28793}));
    QCOMPARE(tok->encode("<s>[INST] \n\n", AddBos::No), (Ids{1, 733, 16289, 28793, 28705, 13, 13}));
    QCOMPARE(tok->idToPiece(13), std::string("<0x0A>"));
    QCOMPARE(tok->idToPiece(28705), std::string("\xE2\x96\x81"));
    QCOMPARE(tok->pieceToId("INST"), std::optional<int>(16289));
    QCOMPARE(tok->pieceToId("no-such-piece-xyz"), std::optional<int>());
    QCOMPARE(tok->idToPiece(-1), std::string());
    QCOMPARE(tok->idToPiece(32000), std::string());
}

// Guards: sentencepiece alone turns "</s>" into "<", "/", "s", ">" pieces (docs/spec.md §6.2 needs id 2).
void TstTokenizer::literalSpecialTokensBecomeIds() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    const Ids plain = tok->encodePlain("</s>");
    QVERIFY(plain.size() > 1);
    QCOMPARE(tok->encode("</s>", AddBos::No), (Ids{2}));
    // Text after a special token is a fresh chunk: "[INST]" gets its dummy prefix ("▁[" = 733).
    Ids expected = tok->encodePlain(" A1 ");
    expected.insert(expected.end(), {2, 733, 16289, 28793});
    QCOMPARE(tok->encode(" A1 </s>[INST]", AddBos::No), expected);
}

// Reference: shared/assets/tokenizers/README.md (<|im_start|> = 6, <|im_end|> = 7) and Yi's
// vocabulary (<|startoftext|> 1, <|endoftext|> 2, docs/spec.md §7.1).
void TstTokenizer::yiChatMlIds() {
    auto tok = llavatest::loadVerified(llavatest::kYi);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    QCOMPARE(tok->vocabSize(), 64000);
    QVERIFY(!tok->addsDummyPrefix());
    QCOMPARE(tok->encode("<|im_start|>", AddBos::No), (Ids{6}));
    QCOMPARE(tok->encode("<|im_end|>", AddBos::No), (Ids{7}));
    QCOMPARE(tok->encode("<|startoftext|>", AddBos::No), (Ids{1}));
    QCOMPARE(tok->encode("<|endoftext|>", AddBos::No), (Ids{2}));
    const Ids ids = tok->encode("<|im_end|><|im_start|>user\n", AddBos::No);
    QVERIFY(ids.size() >= 3);
    QCOMPARE(ids[0], 7);
    QCOMPARE(ids[1], 6);
}

void TstTokenizer::byteValues() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    QCOMPARE(tok->byteValue(13), std::optional<std::uint8_t>(0x0A));
    QCOMPARE(tok->byteValue(3 + 0xE4), std::optional<std::uint8_t>(0xE4));
    QCOMPARE(tok->byteValue(733), std::optional<std::uint8_t>());
    QVERIFY(tok->isControl(1));
    QVERIFY(!tok->isControl(733));
}

// Guards: the engine encodes on its worker while the GUI inspector encodes on the GUI thread.
void TstTokenizer::encodeFromManyThreadsIsDeterministic() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    const std::vector<std::string> texts = {"[INST] <image>\nIs there any person in this photo [/INST]",
                                            "你好，世界 😀 12345 </s> tail", "   leading spaces\n\nand newlines"};
    std::vector<Ids> expected;
    for (const auto& text : texts) expected.push_back(tok->encode(text, AddBos::Yes));
    const Tokenizer& shared = *tok;
    std::vector<std::future<bool>> workers;
    for (int t = 0; t < 8; ++t) {
        workers.push_back(std::async(std::launch::async, [&shared, &texts, &expected] {
            for (int round = 0; round < 200; ++round) {
                for (std::size_t i = 0; i < texts.size(); ++i) {
                    if (shared.encode(texts[i], AddBos::Yes) != expected[i]) return false;
                }
            }
            return true;
        }));
    }
    for (auto& worker : workers) QVERIFY(worker.get());
}

// Guards: add_bos_token and added tokens from the checkpoint must change ids; bad JSON must not abort.
void TstTokenizer::tokenizerConfigJson() {
    auto tok = llavatest::loadVerified(llavatest::kYi);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(tok->applyTokenizerConfig(dir.path().toStdString()).isOk());  // no file: nothing changes
    QCOMPARE(tok->defaultAddBos(), AddBos::Yes);
    QCOMPARE(tok->encode("<|Human|>", AddBos::No).size() > 1, true);  // control piece: not split by default
    QFile config(dir.filePath("tokenizer_config.json"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({"add_bos_token": false, "added_tokens_decoder": {"3": {"content": "<|Human|>", "special": true},
                 "64000": {"content": "<image>", "special": true}}})");
    config.close();
    QVERIFY(tok->applyTokenizerConfig(dir.path().toStdString()).isOk());
    QCOMPARE(tok->defaultAddBos(), AddBos::No);
    QCOMPARE(tok->encode("<|Human|>", AddBos::No), (Ids{3}));
    QVERIFY(config.open(QIODevice::WriteOnly | QIODevice::Truncate));
    config.write("{ not json");
    config.close();
    const auto bad = tok->applyTokenizerConfig(dir.path().toStdString());
    QCOMPARE(bad.code(), llava::ErrorCode::ParseError);
    QVERIFY(bad.message().find("tokenizer_config.json") != std::string::npos);
}

QTEST_APPLESS_MAIN(TstTokenizer)
#include "tst_tokenizer.moc"
