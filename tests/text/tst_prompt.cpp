// Prompt building, template selection and truncation against hand-checked values from docs/spec.md
// (§7.3 seed prompt ids and layout [5, 2340, 13]; §6.6 auto-choice order).
#include <QtTest>

#include "llava/chattemplate.h"
#include "llava/detokenizer.h"
#include "llava/prompt.h"
#include "testtokenizers.h"

using namespace llava;
using Ids = std::vector<int>;

class TstPrompt : public QObject {
    Q_OBJECT

private slots:
    void seedPromptOrigAndHf();
    void markerCountMismatchIsAnError();
    void truncationIsReported();
    void autoTemplateChoice_data();
    void autoTemplateChoice();
    void unknownTemplateListsKnownNames();
    void turnsMustAlternate();
    void stopStrings();
    void detokenizerHoldsPartialBytes();
};

// Reference: docs/spec.md §7.3 worked tokenization (ids checked with the real Mistral tokenizer).
void TstPrompt::seedPromptOrigAndHf() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    auto rendered = renderChat("mistral_instruct", {{ChatRole::User, "Is there any person in this photo"}});
    QVERIFY(rendered.isOk());
    QCOMPARE(*rendered, std::string("[INST] <image>\nIs there any person in this photo [/INST]"));
    auto prompt = buildPrompt(*tok, *rendered, {2340}, {AddBos::Yes, 32000});
    QVERIFY2(prompt.isOk(), prompt.status().toString().c_str());
    const Ids head = {1, 733, 16289, 28793, 28705};
    const Ids tail = {28705, 13, 2301, 736, 707, 1338, 297, 456, 8428, 733, 28748, 16289, 28793};
    // Built by appending into a reserved vector: copy-then-push_back trips a GCC 12 -Warray-bounds false positive.
    Ids orig;
    orig.reserve(head.size() + 1 + tail.size());
    orig.insert(orig.end(), head.begin(), head.end());
    orig.insert(orig.end(), kImagePlaceholderId);
    orig.insert(orig.end(), tail.begin(), tail.end());
    QCOMPARE(prompt->origIds, orig);
    Ids hf;
    hf.reserve(head.size() + 2340 + tail.size());
    hf.insert(hf.end(), head.begin(), head.end());
    hf.insert(hf.end(), 2340, 32000);
    hf.insert(hf.end(), tail.begin(), tail.end());
    QCOMPARE(prompt->hfIds, hf);
    QCOMPARE(prompt->layout(), (std::vector<int>{5, 2340, 13}));
    QCOMPARE(prompt->totalLength(), 2358);
    QCOMPARE(prompt->nTextTokens, 18);
    QCOMPARE(prompt->nImageTokens, 2340);
    QCOMPARE(prompt->segments[1].kind, SegmentKind::Image);
    QCOMPARE(prompt->segments[1].begin, 5);
    QCOMPARE(prompt->segments[1].imageIndex, 0);
    QCOMPARE(prompt->segments[2].begin, 2345);
    // docs/spec.md §7.3 sanity check: decoding with specials skipped shows two spaces after [INST].
    Ids textOnly;
    for (int id : prompt->hfIds) {
        if (id != 32000) textOnly.push_back(id);
    }
    QCOMPARE(tok->decode(textOnly), std::string("[INST]  \nIs there any person in this photo [/INST]"));
}

void TstPrompt::markerCountMismatchIsAnError() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    QVERIFY(!buildPrompt(*tok, "<image>\n<image>\nhi", {576}).isOk());
    QVERIFY(!buildPrompt(*tok, "no image", {576}).isOk());
    QVERIFY(!buildPrompt(*tok, "<image>", {0}).isOk());
    auto text = buildPrompt(*tok, "just text", {});
    QVERIFY(text.isOk());
    QCOMPARE(text->origIds, text->hfIds);
    QCOMPARE(text->layout(), (std::vector<int>{text->totalLength()}));
}

// Guards: ORIG cuts the spliced sequence at tokenizer_model_max_length; we must say what was lost.
void TstPrompt::truncationIsReported() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    auto prompt = buildPrompt(*tok, "[INST] <image>\nIs there any person in this photo [/INST]", {2340});
    QVERIFY(prompt.isOk());
    PromptTokens copy = *prompt;
    auto none = truncatePrompt(copy, 4096);
    QVERIFY(none.isOk());
    QVERIFY(!none->truncated);
    QCOMPARE(copy.totalLength(), 2358);
    auto cut = truncatePrompt(*prompt, 1000);
    QVERIFY(cut.isOk());
    QVERIFY(cut->truncated);
    QCOMPARE(cut->originalLength, 2358);
    QCOMPARE(cut->keptLength, 1000);
    QCOMPARE(cut->droppedTextTokens, 13);
    QCOMPARE(cut->droppedImageTokens, 2340 - 995);
    QCOMPARE(prompt->layout(), (std::vector<int>{5, 995}));
    QCOMPARE(prompt->totalLength(), 1000);
    QVERIFY(!truncatePrompt(*prompt, 0).isOk());
}

void TstPrompt::autoTemplateChoice_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("expected");
    QTest::newRow("orig mistral") << "liuhaotian/llava-v1.6-mistral-7b" << "mistral_instruct";
    QTest::newRow("hf mistral") << "llava-v1.6-mistral-7b-hf" << "mistral_instruct";
    QTest::newRow("34b") << "/models/llava-v1.6-34b" << "chatml_direct";
    QTest::newRow("vicuna") << "llava-v1.6-vicuna-13b" << "llava_v1";
    QTest::newRow("llama-2 first") << "llava-llama-2-13b-chat-lightning-preview" << "llava_llama_2";
    QTest::newRow("case-insensitive") << "LLaVA-V1.6-Mistral-7B" << "mistral_instruct";
}

// Reference: docs/spec.md §6.6 (ORIG cli.py order).
void TstPrompt::autoTemplateChoice() {
    QFETCH(QString, model);
    QFETCH(QString, expected);
    auto name = autoChatTemplateName(model.toStdString());
    QVERIFY2(name.isOk(), name.status().toString().c_str());
    QCOMPARE(QString::fromStdString(*name), expected);
    QVERIFY(!autoChatTemplateName("llava-mpt-7b").isOk());
    QVERIFY(!autoChatTemplateName("something-else").isOk());
}

void TstPrompt::unknownTemplateListsKnownNames() {
    auto bad = renderChat("nope", {{ChatRole::User, "x"}});
    QVERIFY(!bad.isOk());
    QCOMPARE(bad.status().code(), ErrorCode::InvalidArgument);
    for (const auto& name : chatTemplateNames()) QVERIFY(bad.status().message().find(name) != std::string::npos);
    auto alias = findChatTemplate("mistral_direct");
    QVERIFY(alias.isOk());
    QCOMPARE(alias->name, std::string("chatml_direct"));
    QCOMPARE(*renderChat("mistral_direct", {{ChatRole::User, "x"}}), *renderChat("chatml_direct", {{ChatRole::User, "x"}}));
}

void TstPrompt::turnsMustAlternate() {
    QVERIFY(!renderChat("llava_v1", {}).isOk());
    QVERIFY(!renderChat("llava_v1", {{ChatRole::Assistant, "x"}}).isOk());
    QVERIFY(!renderChat("llava_v1", {{ChatRole::User, "x"}, {ChatRole::User, "y"}}).isOk());
}

// Reference: docs/spec.md §6.1 (stop = sep for MPT, sep2 otherwise).
void TstPrompt::stopStrings() {
    QCOMPARE(findChatTemplate("chatml_direct")->stopStrings, std::vector<std::string>{"<|im_end|>"});
    QCOMPARE(findChatTemplate("mistral_instruct")->stopStrings, std::vector<std::string>{"</s>"});
    QCOMPARE(findChatTemplate("llava_v1")->stopStrings, std::vector<std::string>{"</s>"});
}

// Guards: "你" = E4 BD A0 arrives as three byte pieces; nothing may leak before the last one.
void TstPrompt::detokenizerHoldsPartialBytes() {
    auto tok = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY2(tok.isOk(), tok.status().toString().c_str());
    StreamingDetokenizer detok(*tok);
    QCOMPARE(detok.push(1), std::string());  // BOS: skipped
    QCOMPARE(detok.push(3 + 0xE4), std::string());
    QCOMPARE(detok.push(3 + 0xBD), std::string());
    QCOMPARE(detok.push(3 + 0xA0), std::string("\xE4\xBD\xA0"));
    QCOMPARE(detok.push(3 + 0xE4), std::string());
    QCOMPARE(detok.flush(), std::string("\xEF\xBF\xBD"));  // incomplete at the end -> U+FFFD
    detok.reset();
    QCOMPARE(detok.push(12014), std::string("hi"));  // "▁hi": dummy-prefix space dropped at the start
    QCOMPARE(detok.push(12014), std::string(" hi"));
}

QTEST_APPLESS_MAIN(TstPrompt)
#include "tst_prompt.moc"
