// Golden tests for the text stage against Python references (golden_text.json, written by
// gen_goldens.py with sentencepiece 0.1.99 + transformers 4.37.2; see the script for what each
// section means). Guards: dummy-prefix handling per chunk, special-token splitting, template
// whitespace, and UTF-8 safety of the streaming detokenizer.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <memory>

#include "llava/chattemplate.h"
#include "llava/detokenizer.h"
#include "llava/prompt.h"
#include "testtokenizers.h"

using namespace llava;
using Ids = std::vector<int>;

namespace {

Ids toIds(const QJsonValue& value) {
    Ids ids;
    for (const auto& v : value.toArray()) ids.push_back(v.toInt());
    return ids;
}

bool isValidUtf8(const std::string& s) { return QString::fromUtf8(s).toUtf8() == QByteArray::fromStdString(s); }

}  // namespace

class TstTextGolden : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void encode_data();
    void encode();
    void chats_data();
    void chats();
    void streamingDecode_data();
    void streamingDecode();

private:
    const Tokenizer& tokenizer(const QString& model) const { return *m_tokenizers.at(model.toStdString()); }
    QJsonObject m_golden;
    std::map<std::string, std::unique_ptr<Tokenizer>> m_tokenizers;
};

void TstTextGolden::initTestCase() {
    QFile file(QStringLiteral(LLAVA_SOURCE_DIR "/tests/text/golden_text.json"));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    QJsonParseError error;
    m_golden = QJsonDocument::fromJson(file.readAll(), &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const std::pair<const char*, llavatest::TokenizerModelFile> models[] = {
        {"mistral", llavatest::kMistral}, {"llama2", llavatest::kLlama2}, {"yi", llavatest::kYi}};
    for (const auto& [name, model] : models) {
        auto tok = llavatest::loadVerified(model);
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        m_tokenizers[name] = std::make_unique<Tokenizer>(std::move(tok).value());
    }
}

void TstTextGolden::encode_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QJsonValue>("ids");
    QTest::addColumn<QJsonValue>("plainIds");
    int row = 0;
    for (const auto& v : m_golden["encode"].toArray()) {
        const auto o = v.toObject();
        const QString name = QStringLiteral("%1 #%2 %3").arg(o["model"].toString()).arg(row++).arg(o["text"].toString().left(24));
        QTest::newRow(qPrintable(name)) << o["model"].toString() << o["text"].toString() << o["ids"] << o["plainIds"];
    }
}

// Reference: HF tokenizer(text, add_special_tokens=False) and sentencepiece encode.
void TstTextGolden::encode() {
    QFETCH(QString, model);
    QFETCH(QString, text);
    QFETCH(QJsonValue, ids);
    QFETCH(QJsonValue, plainIds);
    const std::string utf8 = text.toStdString();
    QCOMPARE(tokenizer(model).encode(utf8, AddBos::No), toIds(ids));
    QCOMPARE(tokenizer(model).encodePlain(utf8), toIds(plainIds));
}

void TstTextGolden::chats_data() {
    QTest::addColumn<QJsonObject>("chat");
    int row = 0;
    for (const auto& v : m_golden["chats"].toArray()) {
        const auto o = v.toObject();
        QTest::newRow(qPrintable(QStringLiteral("%1 %2 #%3").arg(o["template"].toString(), o["flavour"].toString()).arg(row++)))
            << o;
    }
}

// Reference: conversation.py rendering re-implemented in Python + ORIG tokenizer_image_token over HF ids.
void TstTextGolden::chats() {
    QFETCH(QJsonObject, chat);
    std::vector<ChatTurn> turns;
    for (const auto& t : chat["turns"].toArray()) {
        const auto pair = t.toArray();
        turns.push_back({pair[0].toString() == QLatin1String("user") ? ChatRole::User : ChatRole::Assistant,
                         pair[1].toString().toStdString()});
    }
    RenderOptions options;
    options.nImages = chat["nImages"].toInt();
    options.flavour = chat["flavour"].toString() == QLatin1String("hf") ? TemplateFlavour::Transformers
                                                                        : TemplateFlavour::Original;
    if (chat["system"].isString()) options.systemPrompt = chat["system"].toString().toStdString();
    auto rendered = renderChat(chat["template"].toString().toStdString(), turns, options);
    QVERIFY2(rendered.isOk(), rendered.status().toString().c_str());
    QCOMPARE(QString::fromStdString(*rendered), chat["rendered"].toString());

    PromptOptions promptOptions;
    promptOptions.addBos = chat["addBos"].toBool() ? AddBos::Yes : AddBos::No;
    const std::vector<int> counts(static_cast<std::size_t>(options.nImages), 7);
    auto prompt = buildPrompt(tokenizer(chat["model"].toString()), *rendered, counts, promptOptions);
    QVERIFY2(prompt.isOk(), prompt.status().toString().c_str());
    QCOMPARE(prompt->origIds, toIds(chat["origIds"]));
}

void TstTextGolden::streamingDecode_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QJsonValue>("ids");
    QTest::addColumn<QString>("text");
    int row = 0;
    for (const auto& v : m_golden["decode"].toArray()) {
        const auto o = v.toObject();
        QTest::newRow(qPrintable(QStringLiteral("%1 #%2").arg(o["model"].toString()).arg(row++)))
            << o["model"].toString() << o["ids"] << o["text"].toString();
    }
}

// Reference: sentencepiece decode of the whole sequence. Each pushed chunk must be valid UTF-8.
void TstTextGolden::streamingDecode() {
    QFETCH(QString, model);
    QFETCH(QJsonValue, ids);
    QFETCH(QString, text);
    StreamingDetokenizer detok(tokenizer(model));
    std::string all;
    for (int id : toIds(ids)) {
        const std::string chunk = detok.push(id);
        QVERIFY2(isValidUtf8(chunk), "a streamed chunk is not valid UTF-8");
        all += chunk;
    }
    const std::string tail = detok.flush();
    QVERIFY(isValidUtf8(tail));
    all += tail;
    QCOMPARE(QString::fromStdString(all), text);
    QCOMPARE(all, text.toStdString());
}

QTEST_APPLESS_MAIN(TstTextGolden)
#include "tst_textgolden.moc"
