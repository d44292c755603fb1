// tst_chatsafety: ConversationStore never loses a user's words (issue 10 items 1 and 2).
//  - Stale saves: a chat file that changed on disk since the store read it (another window, a sync tool)
//    is never overwritten: both versions are kept and conflictKept() says so. Same content with a new
//    stat is no conflict; a file deleted elsewhere is written back.
//  - Write failures, injected for real with RLIMIT_FSIZE (the kernel refuses to let this process grow a
//    file past the limit, as a full disk would): the user is told, the previous file is byte for byte
//    intact, the chat stays dirty and is saved by the automatic retry once writing works again, and an
//    image copy that could not be written is never referenced.
//  - Hostile token-confidence blocks (NaN, infinities, probabilities above 1, 10^6 alternatives, wrong
//    types, spans outside the text, unsorted alternatives) are dropped with the message kept: the chat
//    loads from disk with no problem reported, the answer's text intact and no confidence for it, while
//    a valid block elsewhere in the same chat still loads.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "chat/chatstore.h"
#include "chat/confidencejson.h"
#include "chat/conversationstore.h"

#include <cmath>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/resource.h>
#endif

namespace {
ChatMessage user(const QString& text) {
    ChatMessage m;
    m.text = text;
    return m;
}

ChatMessage answer(const QString& text) {
    ChatMessage m;
    m.role = MessageRole::Assistant;
    m.text = text;
    return m;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList texts(const Conversation& c) {
    QStringList out;
    for (const ChatMessage& m : c.messages) out << m.text;
    return out;
}

#ifdef Q_OS_UNIX
// While alive, files this process writes cannot grow past `bytes` (write() then fails with EFBIG; SIGXFSZ
// is ignored so the process is not killed). The limit is restored afterwards.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &m_old);
        rlimit lowered = m_old;
        lowered.rlim_cur = bytes;
        m_ok = ::setrlimit(RLIMIT_FSIZE, &lowered) == 0;
    }
    ~FileSizeLimit() { lift(); }
    void lift() {
        if (!m_ok) return;
        ::setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldHandler);
        m_ok = false;
    }
    bool ok() const { return m_ok; }

private:
    rlimit m_old{};
    void (*m_oldHandler)(int) = nullptr;
    bool m_ok = false;
};
#endif
}  // namespace

class TstChatSafety : public QObject {
    Q_OBJECT
private slots:
    void staleSaveKeepsBothVersions();
    void sameContentIsNoConflict();
    void deletedElsewhereIsWrittenBack();
    void writeFailureKeepsOldFileAndRetries();
    void failedImageCopyIsNeverReferenced();
    void dirtyChatSavedWhenStoreCloses();
    void hostileImageNamesRefused_data();
    void hostileImageNamesRefused();
    void hostileConfidenceDropped_data();
    void hostileConfidenceDropped();
    void nonFiniteConfidenceDropped();
    void confidenceSeedReadsAsWritten();
};

// The issue's two-instance loss (10 -> 8 messages): window A has an old copy of a chat, window B adds to
// it, then A saves (a new message, or closing). Before: A's save replaced B's file.
void TstChatSafety::staleSaveKeepsBothVersions() {
    QTemporaryDir root;
    ConversationStore a(root.path());
    a.load();
    const QString id = a.create(QString());
    a.rename(id, QStringLiteral("Trip"));
    a.appendMessage(id, user(QStringLiteral("first question")));
    a.appendMessage(id, answer(QStringLiteral("first answer")));

    ConversationStore b(root.path());
    b.load();
    QCOMPARE(b.rowCount(), 1);
    b.appendMessage(id, user(QStringLiteral("B's question")));
    b.appendMessage(id, answer(QStringLiteral("B's answer")));
    QCOMPARE(ChatStore(root.path()).loadAll().conversations.first().messages.size(), 4);

    QSignalSpy conflicts(&a, &ConversationStore::conflictKept);
    QSignalSpy failures(&a, &ConversationStore::saveFailed);
    a.appendMessage(id, user(QStringLiteral("A's question")));  // A's stale version: 3 messages
    QCOMPARE(failures.size(), 0);
    QCOMPARE(conflicts.size(), 1);
    const QString copyId = conflicts.first().at(1).toString();
    QVERIFY(copyId != id);
    QVERIFY2(conflicts.first().at(2).toString().contains(QStringLiteral("Trip")), qPrintable(conflicts.first().at(2).toString()));

    // In A: both chats; on disk: both, each with its own messages.
    QCOMPARE(a.rowCount(), 2);
    QCOMPARE(texts(*a.find(id)), (QStringList{"first question", "first answer", "A's question"}));
    QCOMPARE(texts(*a.find(copyId)), (QStringList{"first question", "first answer", "B's question", "B's answer"}));
    QVERIFY(a.find(copyId)->title.startsWith(QStringLiteral("Trip")));
    const auto disk = ChatStore(root.path()).loadAll();
    QCOMPARE(disk.conversations.size(), 2);
    for (const Conversation& c : disk.conversations)
        QCOMPARE(texts(c), texts(*a.find(c.id)));

    // A's later saves are ordinary again (no new copy each time).
    a.appendMessage(id, answer(QStringLiteral("A's answer")));
    QCOMPARE(conflicts.size(), 1);
    QCOMPARE(ChatStore(root.path()).loadAll().conversations.size(), 2);
}

void TstChatSafety::sameContentIsNoConflict() {
    QTemporaryDir root;
    ConversationStore a(root.path());
    a.load();
    const QString id = a.create(QString());
    a.appendMessage(id, user(QStringLiteral("hello")));
    const QString path = a.files().filePath(id);
    // Copied back from a backup: same bytes, new inode and time.
    const QByteArray bytes = readAll(path);
    QVERIFY(QFile::remove(path));
    QTest::qWait(5);
    QFile again(path);
    QVERIFY(again.open(QIODevice::WriteOnly));
    QCOMPARE(again.write(bytes), bytes.size());
    again.close();
    QSignalSpy conflicts(&a, &ConversationStore::conflictKept);
    a.appendMessage(id, answer(QStringLiteral("hi")));
    QCOMPARE(conflicts.size(), 0);
    QCOMPARE(a.rowCount(), 1);
    QCOMPARE(ChatStore(root.path()).loadAll().conversations.first().messages.size(), 2);
}

void TstChatSafety::deletedElsewhereIsWrittenBack() {
    QTemporaryDir root;
    ConversationStore a(root.path());
    a.load();
    const QString id = a.create(QString());
    a.appendMessage(id, user(QStringLiteral("keep me")));
    QVERIFY(QFile::remove(a.files().filePath(id)));
    QSignalSpy conflicts(&a, &ConversationStore::conflictKept);
    a.appendMessage(id, answer(QStringLiteral("kept")));
    QCOMPARE(conflicts.size(), 0);
    QCOMPARE(texts(ChatStore(root.path()).loadAll().conversations.first()), (QStringList{"keep me", "kept"}));
}

void TstChatSafety::writeFailureKeepsOldFileAndRetries() {
#ifndef Q_OS_UNIX
    QSKIP("RLIMIT_FSIZE is POSIX");
#else
    QTemporaryDir root;
    ConversationStore store(root.path());
    store.load();
    store.setRetryInterval(50);
    const QString id = store.create(QString());
    store.appendMessage(id, user(QStringLiteral("What is on the table?")));
    store.appendMessage(id, answer(QStringLiteral("A red bicycle.")));
    const QString path = store.files().filePath(id);
    const QByteArray before = readAll(path);
    QVERIFY(!before.isEmpty());

    QSignalSpy failed(&store, &ConversationStore::saveFailed);
    QSignalSpy recovered(&store, &ConversationStore::saveRecovered);
    const QString longText(200'000, QLatin1Char('w'));  // ~200 KB of JSON, far past the limit below
    {
        FileSizeLimit limit(rlim_t(before.size() + 4096));
        QVERIFY(limit.ok());
        store.appendMessage(id, user(longText));
        QCOMPARE(failed.size(), 1);
        QVERIFY2(failed.first().at(1).toString().contains(QStringLiteral("not saved")), qPrintable(failed.first().at(1).toString()));
        QVERIFY(store.hasUnsavedChanges());
        QCOMPARE(readAll(path), before);  // the previous file, byte for byte
        QCOMPARE(QDir(store.files().chatsDir()).entryList({QStringLiteral("*")}, QDir::Files).size(), 1);  // no temp left
        // Retries while the disk is still "full" keep failing and keep the old file.
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 2, 5000);
        QCOMPARE(readAll(path), before);
        QCOMPARE(recovered.size(), 0);
    }
    // Space is back: the automatic retry saves it, with nothing lost.
    QTRY_COMPARE_WITH_TIMEOUT(recovered.size(), 1, 5000);
    QVERIFY(!store.hasUnsavedChanges());
    const auto disk = ChatStore(root.path()).loadAll();
    QCOMPARE(disk.conversations.size(), 1);
    QCOMPARE(disk.conversations.first().messages.size(), 3);
    QCOMPARE(disk.conversations.first().messages.last().text, longText);
#endif
}

void TstChatSafety::failedImageCopyIsNeverReferenced() {
#ifndef Q_OS_UNIX
    QSKIP("RLIMIT_FSIZE is POSIX");
#else
    QTemporaryDir root;
    ChatStore store(root.path());
    QImage noise(256, 256, QImage::Format_RGB32);
    for (int y = 0; y < noise.height(); ++y)
        for (int x = 0; x < noise.width(); ++x) noise.setPixel(x, y, qRgb((x * 7919 + y * 104729) & 255, (x * y) & 255, (x ^ y) & 255));
    llava::Result<QString> stored = QString();
    {
        FileSizeLimit limit(4096);
        QVERIFY(limit.ok());
        stored = store.importImage(noise);
    }
    QVERIFY(!stored.isOk());
    QVERIFY2(QString::fromStdString(stored.status().message()).contains(QStringLiteral("disk full")),
             stored.status().message().c_str());
    QVERIFY(QDir(store.imagesDir()).entryList(QDir::Files).isEmpty());  // no truncated copy under the hash name
    // With space back the same image is stored whole (a truncated copy would have blocked it forever).
    stored = store.importImage(noise);
    QVERIFY(stored.isOk());
    QImage back(*stored);
    QCOMPARE(back.convertToFormat(QImage::Format_RGB32), noise);
#endif
}

void TstChatSafety::dirtyChatSavedWhenStoreCloses() {
#ifndef Q_OS_UNIX
    QSKIP("RLIMIT_FSIZE is POSIX");
#else
    QTemporaryDir root;
    QString id;
    {
        ConversationStore store(root.path());
        store.load();
        id = store.create(QString());
        store.appendMessage(id, user(QStringLiteral("short")));
        {
            FileSizeLimit limit(rlim_t(readAll(store.files().filePath(id)).size() + 1024));
            QVERIFY(limit.ok());
            store.appendMessage(id, answer(QString(100'000, QLatin1Char('a'))));
            QVERIFY(store.hasUnsavedChanges());
        }
        // Closed before the retry timer fired (the window was closed).
    }
    const auto disk = ChatStore(root.path()).loadAll();
    QCOMPARE(disk.conversations.size(), 1);
    QCOMPARE(disk.conversations.first().messages.size(), 2);
#endif
}

void TstChatSafety::hostileImageNamesRefused_data() {
    QTest::addColumn<QByteArray>("images");
    QTest::newRow("empty name") << QByteArray(R"([""])");
    QTest::newRow("dot") << QByteArray(R"(["."])");
    QTest::newRow("dot dot") << QByteArray(R"([".."])");
    QTest::newRow("path") << QByteArray(R"(["../../victim.png"])");
    QTest::newRow("absolute") << QByteArray(R"(["/etc/passwd"])");
    QTest::newRow("backslash") << QByteArray(R"(["..\\x.png"])");
    QTest::newRow("not a string") << QByteArray(R"([7])");
    QTest::newRow("control") << QByteArray(R"(["a\nb.png"])");
    // fuzz_chat_json's first finding (seeds/chat/finding_image_name_with_nul.json): Qt's parser takes raw
    // NUL bytes inside a string, and a NUL cuts the path short where it reaches the OS.
    static constexpr char kRawNul[] = "[\"0123\0\0def.png\"]";
    QTest::newRow("raw NUL") << QByteArray(kRawNul, sizeof kRawNul - 1);
    QTest::newRow("escaped NUL") << QByteArray(R"(["a\u0000b.png"])");
}

// A name is joined to <data>/images: "" or "." made a later delete move the whole images folder (other
// chats' pictures) to the trash, emptied at the next start.
void TstChatSafety::hostileImageNamesRefused() {
    QFETCH(QByteArray, images);
    const QByteArray json = R"({"version":1,"id":"abc","messages":[{"role":"user","text":"hi","images":)" + images + "}]}";
    const auto chat = ChatStore::fromJson(json, QStringLiteral("abc.json"));
    QVERIFY(!chat.isOk());
    QVERIFY2(chat.status().message().find("image name") != std::string::npos, chat.status().message().c_str());
    // A plain name is fine.
    QVERIFY(ChatStore::fromJson(R"({"version":1,"id":"abc","messages":[{"role":"user","text":"hi","images":["0a1b.png"]}]})",
                                QStringLiteral("abc.json"))
                .isOk());
}

namespace {
// A valid one-token block for the answer "Hi" (the second answer of the file below keeps it).
const QByteArray kGoodTokens =
    R"([{"begin":0,"length":2,"id":7,"text":"Hi","logprob":-0.5,"raw_logprob":-0.25,"top":[[7,"Hi",-0.5,-0.25],[8,"Yo",-1.5,-1.25]]}])";

QByteArray alternatives(int n) {
    QByteArray out = "[";
    for (int i = 0; i < n; ++i) out += (i ? ",[" : "[") + QByteArray::number(i) + R"(,"a",-1,-1])";
    return out + "]";
}

QByteArray tokenWith(const QByteArray& replace, const QByteArray& with) {
    QByteArray t = R"({"begin":0,"length":2,"id":7,"text":"Hi","logprob":-0.5,"raw_logprob":-0.25,"top":[[7,"Hi",-0.5,-0.25]]})";
    t.replace(replace, with);
    return "[" + t + "]";
}
}  // namespace

void TstChatSafety::hostileConfidenceDropped_data() {
    QTest::addColumn<QByteArray>("tokens");
    QTest::newRow("probability above 1") << tokenWith(R"("logprob":-0.5)", R"("logprob":0.5)");
    QTest::newRow("raw above 1") << tokenWith(R"("raw_logprob":-0.25)", R"("raw_logprob":3)");
    // (Qt's parser refuses an overflowing number such as -1e999 as not JSON at all, like NaN: that file is
    // corrupt as a whole; nonFiniteConfidenceDropped checks the validator with those values in memory.)
    QTest::newRow("logprob a string") << tokenWith(R"("logprob":-0.5)", R"("logprob":"-0.5")");
    QTest::newRow("logprob missing") << tokenWith(R"("logprob":-0.5,)", "");
    QTest::newRow("id negative") << tokenWith(R"("id":7)", R"("id":-7)");
    QTest::newRow("id fractional") << tokenWith(R"("id":7)", R"("id":7.5)");
    QTest::newRow("id huge") << tokenWith(R"("id":7)", R"("id":1e20)");
    QTest::newRow("text a number") << tokenWith(R"("text":"Hi")", R"("text":12)");
    QTest::newRow("text too long") << tokenWith(R"("text":"Hi")", "\"text\":\"" + QByteArray(300, 'x') + "\"");
    QTest::newRow("span past the text") << tokenWith(R"("length":2)", R"("length":3)");
    QTest::newRow("span start past the text") << tokenWith(R"("begin":0)", R"("begin":9)");
    QTest::newRow("span negative") << tokenWith(R"("begin":0)", R"("begin":-1)");
    QTest::newRow("span huge") << tokenWith(R"("length":2)", R"("length":4294967297)");
    QTest::newRow("top missing") << tokenWith(R"(,"top":[[7,"Hi",-0.5,-0.25]])", "");
    QTest::newRow("top an object") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", R"({"a":1})");
    QTest::newRow("six alternatives") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", alternatives(6));
    QTest::newRow("a million alternatives") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", alternatives(1'000'000));
    QTest::newRow("alternatives unsorted") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", R"([[8,"Yo",-2,-2],[7,"Hi",-0.5,-0.25]])");
    QTest::newRow("alternative short") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", R"([[7,"Hi",-0.5]])");
    QTest::newRow("alternative above 1") << tokenWith(R"([[7,"Hi",-0.5,-0.25]])", R"([[7,"Hi",0.1,-0.25]])");
    QTest::newRow("token a number") << QByteArray("[1,2,3]");
    QTest::newRow("tokens an object") << QByteArray(R"({"begin":0})");
    QTest::newRow("tokens a string") << QByteArray(R"("lots")");
    QTest::newRow("second token bad") << QByteArray(kGoodTokens).replace("}]", R"(},{"begin":0,"length":1,"id":1,"text":"H","logprob":null,"raw_logprob":null,"top":7}])");
}

// Through a real file on disk and loadAll: the chat is kept (not moved aside), the answer's text and state
// are intact, and only that answer's confidence is gone.
void TstChatSafety::hostileConfidenceDropped() {
    QFETCH(QByteArray, tokens);
    QTemporaryDir root;
    ChatStore store(root.path());
    const QByteArray json = R"({"version":1,"id":"abc","title":"t","messages":[)"
                            R"({"role":"user","text":"hello","images":[]},)"
                            R"({"role":"assistant","text":"Hi","images":[],"state":"stopped","seed":"9","tokens":)" + tokens + "},"
                            R"({"role":"user","text":"again","images":[]},)"
                            R"({"role":"assistant","text":"Hi","images":[],"tokens":)" + kGoodTokens + "}]}";
    QFile file(store.filePath(QStringLiteral("abc")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(json), json.size());
    file.close();
    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    QCOMPARE(report.conversations.size(), 1);
    const Conversation& c = report.conversations.first();
    QCOMPARE(texts(c), (QStringList{"hello", "Hi", "again", "Hi"}));
    QCOMPARE(c.messages[1].state, MessageState::Stopped);
    QCOMPARE(c.messages[1].seed, std::optional<quint64>(9));
    QVERIFY(c.messages[1].tokens.isEmpty());
    QCOMPARE(c.messages[3].tokens.size(), 1);
    QCOMPARE(c.messages[3].tokens[0].top.size(), 2);
    QCOMPARE(c.messages[3].tokens[0].chosen.probability(), std::exp(-0.5));
    QVERIFY(QFile::exists(store.filePath(QStringLiteral("abc"))));  // not moved to corrupt/
}

// NaN and infinities cannot be written as JSON numbers, but a QJsonValue can hold them (a value built in
// memory, or a parser that maps overflow to infinity): the validator refuses them all the same.
void TstChatSafety::nonFiniteConfidenceDropped() {
    const QJsonObject good{{"begin", 0}, {"length", 2}, {"id", 7}, {"text", "Hi"}, {"logprob", -0.5}, {"raw_logprob", -0.25},
                           {"top", QJsonArray{QJsonArray{7, "Hi", -0.5, -0.25}}}};
    QVERIFY(confidenceFromJson(QJsonArray{good}, 2).has_value());
    for (const double bad : {qQNaN(), qInf(), -qInf()}) {
        for (const char* key : {"logprob", "raw_logprob", "begin", "length", "id"}) {
            QJsonObject t = good;
            t[QLatin1String(key)] = bad;
            QVERIFY2(!confidenceFromJson(QJsonArray{t}, 2).has_value(), key);
        }
        QJsonObject t = good;
        t[QStringLiteral("top")] = QJsonArray{QJsonArray{7, "Hi", bad, -0.25}};
        QVERIFY(!confidenceFromJson(QJsonArray{t}, 2).has_value());
    }
    // null is the file's spelling of -inf (a token the filters removed): probability 0, accepted.
    QJsonObject removed = good;
    removed[QStringLiteral("logprob")] = QJsonValue(QJsonValue::Null);
    const auto back = confidenceFromJson(QJsonArray{removed}, 2);
    QVERIFY(back.has_value());
    QCOMPARE(back->front().chosen.probability(), 0.0);
}

// The fuzz seed with confidence (tests/fuzz/seeds/chat/confidence.json) is what it says: the first answer's
// five tokens load (a null log-probability as probability 0, a held-back </s> with no text), the second
// answer's block (a log-probability of +0.5, probability above 1) is dropped with its text kept.
void TstChatSafety::confidenceSeedReadsAsWritten() {
    QFile seed(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fuzz/seeds/chat/confidence.json"));
    QVERIFY(seed.open(QIODevice::ReadOnly));
    const auto chat = ChatStore::fromJson(seed.readAll(), QStringLiteral("confidence.json"));
    QVERIFY(chat.isOk());
    QCOMPARE(chat->messages.size(), 4);
    const TokenProbabilities& tokens = chat->messages[1].tokens;
    QCOMPARE(tokens.size(), 5);
    QCOMPARE(tokens[1].top.size(), 5);
    QCOMPARE(tokens[1].top[4].probability(), 0.0);
    QCOMPARE(tokens[1].chosen.probability(), std::exp(-1.2));
    QCOMPARE(chat->messages[1].text.mid(tokens[2].begin, tokens[2].length), QStringLiteral(" mug"));
    QCOMPARE(tokens[4].length, 0);
    QVERIFY(chat->messages[3].tokens.isEmpty());
    QCOMPARE(chat->messages[3].text, QStringLiteral("Yes."));
}

QTEST_GUILESS_MAIN(TstChatSafety)
#include "tst_chatsafety.moc"
