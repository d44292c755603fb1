// Text-stage rules of the chat (issue 9 item 3, issue 10 items 5 and 10) with the real tokenizers in
// ../shared/assets/tokenizers, checked against the sentencepiece library itself (the reference the
// Python goldens come from). Guards against: typed "<image>" turned into an image slot; images in a
// later turn rendered anywhere but at the start of their own message; windowed encoding of long text
// giving other ids than one sentencepiece call, or still taking ~100 bytes of memory per input byte;
// a bytes-per-token bound that a real text can beat (then the oversized-prompt cap would refuse text
// that fits).
#include <QtTest>

#include <sys/resource.h>

#include <sentencepiece_processor.h>

#include "llava/chattemplate.h"
#include "llava/prompt.h"
#include "testtokenizers.h"

using namespace llava;
using namespace llavatest;

namespace {

long peakRssKiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // KiB on Linux
}

// Multi-line text with what can trip a window cut: spaces after newlines, blank-line runs, a line of
// spaces, tabs, CJK, emoji, digits; deterministic.
std::string longText(std::size_t bytes) {
    static const char* kLines[] = {"The harbour was quiet that morning.", "  two leading spaces",
                                   "", "\t tab then space", "你好，世界 😀 façade", "    ",
                                   "12345678901234567890 and 3.14159", "x", "Ends with spaces   "};
    std::string out;
    for (std::size_t i = 0; out.size() < bytes; ++i) {
        out += kLines[(i * 7 + i / 9) % 9];
        out += (i % 5 == 0) ? "\n\n" : "\n";
    }
    return out;
}

std::vector<int> spEncode(const TokenizerModelFile& model, const std::string& text) {
    sentencepiece::SentencePieceProcessor sp;
    if (!sp.Load(tokenizerPath(model).toStdString()).ok()) return {-1};
    std::vector<int> ids;
    (void)sp.Encode(text, &ids);
    return ids;
}

// Images only where a turn says so (no first-turn shorthand).
RenderOptions noImages(TemplateFlavour flavour) {
    RenderOptions options;
    options.flavour = flavour;
    options.nImages = 0;
    return options;
}

// A piece's text: "▁" is the space it encodes.
std::string pieceText(const std::string& piece) {
    std::string out;
    for (std::size_t i = 0; i < piece.size();) {
        if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
            out += ' ';
            i += 3;
        } else {
            out += piece[i++];
        }
    }
    return out;
}

Tokenizer load(const TokenizerModelFile& model) {
    auto tok = Tokenizer::loadFile(tokenizerPath(model).toStdString());
    if (!tok.isOk()) qFatal("%s", tok.status().toString().c_str());
    return std::move(*tok);
}

}  // namespace

class TestChatText : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        for (const auto& model : {kMistral, kLlama2, kYi}) {
            const QString problem = checkSha256(model);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
    }

    // First in the process, so the peak is still low. 8 MB of text: one sentencepiece call holds ~100
    // bytes per byte (~850 MB); in windows the peak grows by the ids (4 bytes per token) plus a window.
    void longTextMemoryIsLinearAndSmall() {
        const Tokenizer tok = load(kMistral);
        const std::string text = longText(8u << 20);
        const long before = peakRssKiB();
        const std::vector<int> ids = tok.encodePlain(text);
        const long grownKiB = peakRssKiB() - before;
        QVERIFY(ids.size() > text.size() / 8);
        const long idsKiB = static_cast<long>(ids.capacity() * sizeof(int) / 1024);
        qInfo("encodePlain of %zu bytes (%zu tokens): peak RSS +%ld KiB, id vector %ld KiB", text.size(), ids.size(),
              grownKiB, idsKiB);
        QVERIFY2(grownKiB < 2 * idsKiB + 16 * 1024,
                 qPrintable(QStringLiteral("peak grew %1 KiB for %2 KiB of ids").arg(grownKiB).arg(idsKiB)));
    }

    void windowedEncodingIsExact_data() {
        QTest::addColumn<int>("model");
        QTest::newRow("mistral") << 0;
        QTest::newRow("llama-2") << 1;
        QTest::newRow("yi") << 2;
    }
    // Reference: one sentencepiece Encode over the whole text (what sp.encode does in the references).
    void windowedEncodingIsExact() {
        QFETCH(int, model);
        const TokenizerModelFile& file = model == 0 ? kMistral : model == 1 ? kLlama2 : kYi;
        const Tokenizer tok = load(file);
        for (std::size_t bytes : {Tokenizer::kEncodeWindowBytes - 3, Tokenizer::kEncodeWindowBytes * 5 + 17}) {
            const std::string text = longText(bytes);
            QCOMPARE(tok.encodePlain(text), spEncode(file, text));
        }
        // A window with no newline at all is encoded whole.
        const std::string oneLine(Tokenizer::kEncodeWindowBytes * 2 + 5, 'a');
        QCOMPARE(tok.encodePlain(oneLine), spEncode(file, oneLine));
    }

    // The bound behind the oversized-prompt cap: no text gives fewer tokens than bytes / maxBytesPerToken.
    // Worst cases tried: every vocabulary piece's text back to back, and the longest piece repeated.
    void bytesPerTokenBoundHolds() {
        for (const auto& file : {kMistral, kLlama2, kYi}) {
            const Tokenizer tok = load(file);
            const int bound = tok.maxBytesPerToken();
            QVERIFY(bound >= 4 && bound < 256);
            std::string all, longest;
            for (int id = 0; id < tok.vocabSize(); ++id) {
                if (tok.isControl(id) || tok.isUnknown(id) || tok.byteValue(id)) continue;
                const std::string piece = pieceText(tok.idToPiece(id));
                all += piece;
                if (piece.size() > longest.size()) longest = piece;
            }
            std::size_t longestSpecial = 0;
            for (const SpecialToken& special : tok.specialTokens()) longestSpecial = std::max(longestSpecial, special.text.size());
            QCOMPARE(static_cast<std::size_t>(bound), std::max(longest.size(), longestSpecial));
            std::string repeated;
            for (int i = 0; i < 200; ++i) repeated += longest;
            for (const std::string* text : {&all, &repeated}) {
                const std::size_t tokens = tok.encode(*text, AddBos::No).size();
                QVERIFY2(tokens * static_cast<std::size_t>(bound) >= text->size(),
                         qPrintable(QStringLiteral("%1 bytes in %2 tokens, bound %3").arg(text->size()).arg(tokens).arg(bound)));
            }
        }
    }

    // Typed "<image>" is text: with the structural rendering the ids equal sentencepiece's encoding of
    // the rendered string with the literal characters (BOS + one Encode call); an attached image is the
    // only image slot, at the start of its own message.
    void typedImageMarkerIsText() {
        const Tokenizer tok = load(kMistral);
        const std::string text = "what does <image> mean";
        auto chat = renderChatChunks("mistral_instruct", {{ChatRole::User, text}}, noImages(TemplateFlavour::Original));
        QVERIFY(chat.isOk());
        QCOMPARE(chat->imageCount(), 0);
        auto prompt = buildPrompt(tok, *chat, {}, {});
        QVERIFY2(prompt.isOk(), prompt.status().toString().c_str());
        std::vector<int> expected{tok.bosId()};
        const std::vector<int> sp = spEncode(kMistral, "[INST] " + text + " [/INST]");
        expected.insert(expected.end(), sp.begin(), sp.end());
        QCOMPARE(prompt->hfIds, expected);
        QCOMPARE(prompt->nImageTokens, 0);

        // One attached image in turn 2 plus the typed marker: one image slot, before "\n" + text.
        const std::vector<ChatTurn> turns{{ChatRole::User, "Hi"}, {ChatRole::Assistant, "Hello."},
                                          {ChatRole::User, text, 1}};
        auto two = renderChatChunks("mistral_instruct", turns, noImages(TemplateFlavour::Original));
        QVERIFY(two.isOk());
        QCOMPARE(two->imageCount(), 1);
        QCOMPARE(two->chunks[0], std::string("[INST] Hi [/INST] Hello. </s>[INST] "));
        QCOMPARE(two->chunks[1], "\n" + text + " [/INST]");
        auto withImage = buildPrompt(tok, *two, {5}, {});
        QVERIFY(withImage.isOk());
        QCOMPARE(withImage->nImageTokens, 5);
        QCOMPARE(withImage->layout().size(), std::size_t{3});
    }

    void laterTurnImageRendering_data() {
        QTest::addColumn<QString>("templateName");
        QTest::addColumn<int>("flavour");
        QTest::addColumn<QString>("expected");
        // ORIG conversation.py with each user message "<image>\n" * k + text (cli.py's form), HF llava-hf
        // chat templates (images of a message first); docs/chat-session.md.
        QTest::newRow("mistral ORIG") << "mistral_instruct" << 0
                                      << "[INST] Q1 [/INST] A1 </s>[INST] <image>\n<image>\nQ2 [/INST]";
        QTest::newRow("mistral HF") << "mistral_instruct" << 1
                                    << "[INST] Q1 [/INST] A1</s> [INST] <image>\n<image>\nQ2 [/INST]";
        QTest::newRow("llava_v1") << "llava_v1" << 0
                                  << "A chat between a curious human and an artificial intelligence assistant. The "
                                     "assistant gives helpful, detailed, and polite answers to the human's questions. "
                                     "USER: Q1 ASSISTANT: A1</s>USER: <image>\n<image>\nQ2 ASSISTANT:";
        QTest::newRow("chatml_direct") << "chatml_direct" << 1
                                       << "<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\nQ1"
                                          "<|im_end|><|im_start|>assistant\nA1<|im_end|><|im_start|>user\n<image>\n"
                                          "<image>\nQ2<|im_end|><|im_start|>assistant\n";
    }
    void laterTurnImageRendering() {
        QFETCH(QString, templateName);
        QFETCH(int, flavour);
        QFETCH(QString, expected);
        const std::vector<ChatTurn> turns{{ChatRole::User, "Q1"}, {ChatRole::Assistant, "A1"}, {ChatRole::User, "Q2", 2}};
        const RenderOptions options = noImages(flavour ? TemplateFlavour::Transformers : TemplateFlavour::Original);
        auto rendered = renderChat(templateName.toStdString(), turns, options);
        QVERIFY2(rendered.isOk(), rendered.status().toString().c_str());
        QCOMPARE(QString::fromStdString(*rendered), expected);
        QVERIFY(!renderChat("mistral_instruct", {{ChatRole::User, "Q"}, {ChatRole::Assistant, "A", 1}}, options).isOk());
    }
};

QTEST_GUILESS_MAIN(TestChatText)
#include "tst_chattext.moc"
