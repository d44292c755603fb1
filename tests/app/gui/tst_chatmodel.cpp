// tst_chatmodel: ChatModel as an item model (checked by QAbstractItemModelTester throughout), the
// streaming path (appendText -> dataChanged on one row, no conversationChanged per token), regenerate
// (removeFrom), roles, default title and the stats line.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "chat/chatmodel.h"

namespace {
ChatMessage user(const QString& text) {
    ChatMessage m;
    m.text = text;
    return m;
}
ChatMessage assistant() {
    ChatMessage m;
    m.role = MessageRole::Assistant;
    m.state = MessageState::Streaming;
    return m;
}
}  // namespace

class TstChatModel : public QObject {
    Q_OBJECT
private slots:
    void streamingAppendsToOneRow();
    void regenerateDropsTail();
    void rolesAndTitle();
    void statsText_data();
    void statsText();
};

void TstChatModel::streamingAppendsToOneRow() {
    ChatModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy touched(&model, &ChatModel::conversationChanged);
    model.appendMessage(user(QStringLiteral("What is this?")));
    const int row = model.appendMessage(assistant());
    QCOMPARE(row, 1);
    QCOMPARE(inserted.size(), 2);
    touched.clear();
    for (const char* piece : {"A ", "red ", "bicycle", "."}) model.appendText(row, QString::fromLatin1(piece));
    model.appendText(row, QString());  // empty pieces are ignored
    model.appendText(7, QStringLiteral("out of range"));
    QCOMPARE(model.data(model.index(row), ChatModel::TextRole).toString(), QStringLiteral("A red bicycle."));
    QCOMPARE(changed.size(), 4);
    for (const auto& args : changed) {
        QCOMPARE(args.at(0).toModelIndex().row(), row);
        QCOMPARE(args.at(2).value<QList<int>>(), QList<int>{ChatModel::TextRole});
    }
    QCOMPARE(touched.size(), 0);  // per-token pieces do not trigger a save; the final state does
    model.setState(row, MessageState::Complete);
    QCOMPARE(touched.size(), 1);
    QCOMPARE(model.data(model.index(row), ChatModel::StateRole).toInt(), int(MessageState::Complete));
}

void TstChatModel::regenerateDropsTail() {
    ChatModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.appendMessage(user(QStringLiteral("one")));
    model.appendMessage(assistant());
    model.appendMessage(user(QStringLiteral("two")));
    model.appendMessage(assistant());
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.removeFrom(3);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.first().at(1).toInt(), 3);
    QCOMPARE(removed.first().at(2).toInt(), 3);
    model.removeFrom(10);  // out of range: nothing
    model.removeFrom(-1);
    QCOMPARE(model.rowCount(), 3);
    model.removeFrom(0);
    QCOMPARE(model.rowCount(), 0);
}

void TstChatModel::rolesAndTitle() {
    ChatModel model;
    ChatMessage m = user(QStringLiteral("Describe the weather in this photo please"));
    m.images << QStringLiteral("/data/images/a.png");
    model.appendMessage(m);
    QVERIFY(!model.conversation().title.isEmpty());
    QVERIFY(model.conversation().title.startsWith(QStringLiteral("Describe")));
    QVERIFY(!model.message(0).time.isNull());
    const QModelIndex i = model.index(0);
    QCOMPARE(model.data(i, Qt::DisplayRole).toString(), m.text);
    QCOMPARE(model.data(i, ChatModel::ImagesRole).toStringList(), m.images);
    QCOMPARE(model.data(i, ChatModel::RoleRole).toInt(), int(MessageRole::User));
    QCOMPARE(model.data(i, ChatModel::StatsTextRole).toString(), QString());
    QVERIFY(!model.data(model.index(5), Qt::DisplayRole).isValid());
    const auto names = model.roleNames();
    QCOMPARE(names.value(ChatModel::TextRole), QByteArray("text"));
    model.setTitle(QStringLiteral("Weather"));
    QCOMPARE(model.conversation().title, QStringLiteral("Weather"));
    model.appendMessage(user(QStringLiteral("again")));
    QCOMPARE(model.conversation().title, QStringLiteral("Weather"));  // a title once set stays
}

void TstChatModel::statsText_data() {
    QTest::addColumn<double>("ttft");
    QTest::addColumn<double>("tokPerS");
    QTest::addColumn<QString>("expected");
    QTest::newRow("all") << 120.4 << 35.24 << QStringLiteral("TTFT 120 ms · 35.2 tok/s · 2340 image + 18 text tokens in, 64 out");
    QTest::newRow("no timing") << 0.0 << 0.0 << QStringLiteral("2340 image + 18 text tokens in, 64 out");
}

void TstChatModel::statsText() {
    QFETCH(double, ttft);
    QFETCH(double, tokPerS);
    QFETCH(QString, expected);
    llava::GenerationStats s;
    s.timeToFirstTokenMs = ttft;
    s.decodeTokPerS = tokPerS;
    s.imageTokens = 2340;
    s.textTokens = 18;
    s.generatedTokens = 64;
    QCOMPARE(ChatModel::statsText(s), expected);
    ChatModel model;
    model.appendMessage(assistant());
    model.setStats(0, s);
    QCOMPARE(model.data(model.index(0), ChatModel::StatsTextRole).toString(), expected);
}

QTEST_MAIN(TstChatModel)
#include "tst_chatmodel.moc"
