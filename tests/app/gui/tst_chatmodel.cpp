// tst_chatmodel: the ConversationStore (the one owner of every chat) and the views over it.
//  - ChatModel follows one chat of the store as an item model (QAbstractItemModelTester throughout):
//    streamed pieces change one row and are not written per piece; the settled state is written;
//  - the store is the chat list model; a QSortFilterProxyModel on SearchTextRole finds message text;
//  - delete moves the file (and unshared images) to the trash, the chat never comes back on a restart,
//    a later edit of the deleted chat writes nothing, and undo brings it back;
//  - ids that are not file-name safe are refused when saving and when loading;
//  - stats text: TTFT, speed, token counts and the answer's seed.
#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTest>

#include "chat/chatmodel.h"
#include "chat/chatstore.h"
#include "chat/conversationstore.h"

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
    void listModelAndSearch();
    void deletedChatStaysDeleted();
    void undoDelete();
    void unsafeIdsRefused();
    void statsText_data();
    void statsText();
};

void TstChatModel::streamingAppendsToOneRow() {
    QTemporaryDir root;
    ConversationStore store(root.path());
    store.load();
    const QString id = store.create(QString());
    ChatModel model(&store);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setConversationId(id);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    store.appendMessage(id, user(QStringLiteral("What is this?")));
    const int row = store.appendMessage(id, assistant());
    QCOMPARE(row, 1);
    QCOMPARE(inserted.size(), 2);
    const QString file = store.files().filePath(id);
    const QByteArray before = [&] { QFile f(file); f.open(QIODevice::ReadOnly); return f.readAll(); }();
    for (const char* piece : {"A ", "red ", "bicycle", "."}) store.appendText(id, row, QString::fromLatin1(piece));
    store.appendText(id, row, QString());  // empty pieces are ignored
    store.appendText(id, 7, QStringLiteral("out of range"));
    QCOMPARE(model.data(model.index(row), ChatModel::TextRole).toString(), QStringLiteral("A red bicycle."));
    QCOMPARE(changed.size(), 4);
    for (const auto& args : changed) {
        QCOMPARE(args.at(0).toModelIndex().row(), row);
        QCOMPARE(args.at(2).value<QList<int>>(), QList<int>{ChatModel::TextRole});
    }
    const QByteArray during = [&] { QFile f(file); f.open(QIODevice::ReadOnly); return f.readAll(); }();
    QCOMPARE(during, before);  // per-token pieces are not written; the settled state is
    store.setState(id, row, MessageState::Complete);
    QCOMPARE(model.data(model.index(row), ChatModel::StateRole).toInt(), int(MessageState::Complete));
    const auto back = ChatStore::fromJson([&] { QFile f(file); f.open(QIODevice::ReadOnly); return f.readAll(); }(), file);
    QVERIFY(back.isOk());
    QCOMPARE(back->messages.at(1).text, QStringLiteral("A red bicycle."));
}

void TstChatModel::regenerateDropsTail() {
    QTemporaryDir root;
    ConversationStore store(root.path());
    const QString id = store.create(QString());
    ChatModel model(&store);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setConversationId(id);
    store.appendMessage(id, user(QStringLiteral("one")));
    store.appendMessage(id, assistant());
    store.appendMessage(id, user(QStringLiteral("two")));
    store.appendMessage(id, assistant());
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    store.removeMessagesFrom(id, 3);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.first().at(1).toInt(), 3);
    QCOMPARE(removed.first().at(2).toInt(), 3);
    store.removeMessagesFrom(id, 10);  // out of range: nothing
    store.removeMessagesFrom(id, -1);
    QCOMPARE(model.rowCount(), 3);
    store.removeMessagesFrom(id, 0);
    QCOMPARE(model.rowCount(), 0);
}

void TstChatModel::rolesAndTitle() {
    QTemporaryDir root;
    ConversationStore store(root.path());
    const QString id = store.create(QString());
    ChatModel model(&store);
    model.setConversationId(id);
    ChatMessage m = user(QStringLiteral("Describe the weather in this photo please"));
    m.images << QStringLiteral("/data/images/a.png");
    store.appendMessage(id, m);
    QVERIFY(store.find(id)->title.startsWith(QStringLiteral("Describe")));
    QVERIFY(!model.message(0).time.isNull());
    const QModelIndex i = model.index(0);
    QCOMPARE(model.data(i, Qt::DisplayRole).toString(), m.text);
    QCOMPARE(model.data(i, ChatModel::ImagesRole).toStringList(), m.images);
    QCOMPARE(model.data(i, ChatModel::RoleRole).toInt(), int(MessageRole::User));
    QCOMPARE(model.data(i, ChatModel::StatsTextRole).toString(), QString());
    QVERIFY(!model.data(model.index(5), Qt::DisplayRole).isValid());
    QCOMPARE(model.roleNames().value(ChatModel::TextRole), QByteArray("text"));
    store.rename(id, QStringLiteral("Weather"));
    QCOMPARE(store.find(id)->title, QStringLiteral("Weather"));
    store.appendMessage(id, user(QStringLiteral("again")));
    QCOMPARE(store.find(id)->title, QStringLiteral("Weather"));  // a title once set stays
}

void TstChatModel::listModelAndSearch() {
    QTemporaryDir root;
    ConversationStore store(root.path());
    QAbstractItemModelTester tester(&store, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString a = store.create(QString());
    store.appendMessage(a, user(QStringLiteral("A bicycle by the canal")));
    const QString b = store.create(QString());
    store.appendMessage(b, user(QStringLiteral("Kitchen")));
    store.appendMessage(b, user(QStringLiteral("Is the kettle on?")));
    QCOMPARE(store.rowCount(), 2);
    QCOMPARE(store.data(store.index(0), ConversationStore::IdRole).toString(), b);  // newest first
    store.appendMessage(a, user(QStringLiteral("And the boats?")));
    QCOMPARE(store.data(store.index(0), ConversationStore::IdRole).toString(), a);  // touched: to the top
    QSortFilterProxyModel filter;
    filter.setSourceModel(&store);
    filter.setFilterRole(ConversationStore::SearchTextRole);
    filter.setFilterCaseSensitivity(Qt::CaseInsensitive);
    filter.setFilterFixedString(QStringLiteral("KETTLE"));
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data(ConversationStore::IdRole).toString(), b);

    // Both chats were written; a second store on the same folder reads them back.
    ConversationStore again(root.path());
    QVERIFY(again.load().isEmpty());
    QCOMPARE(again.rowCount(), 2);
}

void TstChatModel::deletedChatStaysDeleted() {
    QTemporaryDir root;
    QString keep, gone, sharedImage, ownImage;
    {
        ConversationStore store(root.path());
        store.load();
        ChatModel model(&store);
        QDir().mkpath(store.files().imagesDir());
        sharedImage = store.files().imagesDir() + QStringLiteral("/shared.png");
        ownImage = store.files().imagesDir() + QStringLiteral("/own.png");
        for (const QString& p : {sharedImage, ownImage}) {
            QFile f(p);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("png");
        }
        keep = store.create(QString());
        ChatMessage k = user(QStringLiteral("keep"));
        k.images << sharedImage;
        store.appendMessage(keep, k);
        gone = store.create(QString());
        ChatMessage g = user(QStringLiteral("delete me"));
        g.images << sharedImage << ownImage;
        store.appendMessage(gone, g);
        const int row = store.appendMessage(gone, assistant());
        model.setConversationId(gone);
        QVERIFY(QFile::exists(store.files().filePath(gone)));

        QSignalSpy removed(&store, &ConversationStore::conversationRemoved);
        QVERIFY(store.remove(gone).isOk());
        QCOMPARE(removed.size(), 1);
        QCOMPARE(model.rowCount(), 0);  // the view shows nothing of a deleted chat
        QVERIFY(!QFile::exists(store.files().filePath(gone)));
        QVERIFY(!QFile::exists(ownImage));   // its own image went to the trash
        QVERIFY(QFile::exists(sharedImage)); // the image another chat uses stays
        // Late events for the deleted chat (a streamed answer settling, a save) write nothing.
        store.appendText(gone, row, QStringLiteral("late"));
        store.setState(gone, row, MessageState::Complete);
        QVERIFY(store.save(gone).isOk());
        QVERIFY(!QFile::exists(store.files().filePath(gone)));
        store.appendMessage(keep, user(QStringLiteral("switching away saves the other chat")));
    }
    ConversationStore restarted(root.path());
    QVERIFY(restarted.load().isEmpty());
    QCOMPARE(restarted.rowCount(), 1);
    QVERIFY(restarted.find(keep));
    QVERIFY(!restarted.find(gone));
    QVERIFY(!QDir(root.path() + QStringLiteral("/trash")).exists());  // emptied at the start after
}

void TstChatModel::undoDelete() {
    QTemporaryDir root;
    ConversationStore store(root.path());
    const QString id = store.create(QString());
    store.appendMessage(id, user(QStringLiteral("oops")));
    QVERIFY(!store.canUndoRemove());
    QVERIFY(store.remove(id).isOk());
    QVERIFY(store.canUndoRemove());
    QVERIFY(store.undoRemove());
    QVERIFY(store.find(id));
    QVERIFY(QFile::exists(store.files().filePath(id)));
    QVERIFY(!store.undoRemove());
}

void TstChatModel::unsafeIdsRefused() {
    QVERIFY(isValidConversationId(newConversationId()));
    QVERIFY(isValidConversationId(QStringLiteral("20260124-150301-123-ab12")));
    for (const char* bad : {"", "../../../../../victim", "a/b", "..", "-rf", "a b", "é"})
        QVERIFY2(!isValidConversationId(QString::fromUtf8(bad)), bad);
    QTemporaryDir root;
    ChatStore files(root.path());
    Conversation c;
    c.id = QStringLiteral("../../victim");
    c.messages << user(QStringLiteral("x"));
    QVERIFY(!files.save(c).isOk());
    QVERIFY(!QFile::exists(root.path() + QStringLiteral("/victim.json")));
    // A file claiming another id: refused if unsafe, and the file name is the id otherwise.
    QFile hostile(files.chatsDir() + QStringLiteral("/hostile.json"));
    QVERIFY(hostile.open(QIODevice::WriteOnly));
    hostile.write(R"({"version":1,"id":"../../../../../victim","messages":[]})");
    hostile.close();
    QFile renamed(files.chatsDir() + QStringLiteral("/real-name.json"));
    QVERIFY(renamed.open(QIODevice::WriteOnly));
    renamed.write(R"({"version":1,"id":"other-name","messages":[]})");
    renamed.close();
    const auto report = files.loadAll();
    QCOMPARE(report.problems.size(), 1);
    QVERIFY(report.problems.first().contains(QStringLiteral("hostile.json")));
    QCOMPARE(report.conversations.size(), 1);
    QCOMPARE(report.conversations.first().id, QStringLiteral("real-name"));
}

void TstChatModel::statsText_data() {
    QTest::addColumn<double>("ttft");
    QTest::addColumn<double>("tokPerS");
    QTest::addColumn<QString>("expected");
    QTest::newRow("all") << 120.4 << 35.24 << QStringLiteral("TTFT 120 ms · 35.2 tok/s · 2340 image + 18 text tokens in, 64 out · seed 42");
    QTest::newRow("no timing") << 0.0 << 0.0 << QStringLiteral("2340 image + 18 text tokens in, 64 out · seed 42");
}

void TstChatModel::statsText() {
    QFETCH(double, ttft);
    QFETCH(double, tokPerS);
    QFETCH(QString, expected);
    ChatMessage m = assistant();
    m.hasStats = true;
    m.seed = 42;
    m.stats.timeToFirstTokenMs = ttft;
    m.stats.decodeTokPerS = tokPerS;
    m.stats.imageTokens = 2340;
    m.stats.textTokens = 18;
    m.stats.generatedTokens = 64;
    QCOMPARE(ChatModel::statsText(m), expected);
}

QTEST_MAIN(TstChatModel)
#include "tst_chatmodel.moc"
