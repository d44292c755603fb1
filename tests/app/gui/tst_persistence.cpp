// tst_persistence: ChatStore's promises about files on disk.
//  - save -> loadAll round-trips a conversation (roles, texts, images, states, title);
//  - a save killed with SIGKILL mid-write (a child process saving a ~4 MB chat in a loop, killed
//    at several moments) always leaves the previous complete file, which still parses;
//  - a corrupt file is moved to chats/corrupt/ and reported, and the good chats still load;
//  - an answer's token confidence (spans, ids, texts, sampling and raw log-probabilities, alternatives,
//    -inf for removed tokens) survives save -> loadAll exactly, field for field; a file written before
//    confidence was saved (no "tokens") loads as before;
//  - an answer's stage waterfall and the ceilings it was drawn against survive save -> loadAll exactly; a
//    timeline block that fails a check is dropped with the answer and its other stats kept.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <limits>

#include "chat/chatstore.h"
#include "chat/stagesjson.h"

namespace {
constexpr const char* kChildEnv = "LLAVA_PERSIST_CHILD_DIR";

Conversation sample(const QString& id, int textBytes) {
    Conversation c;
    c.id = id;
    c.title = QStringLiteral("Kitchen photo");
    c.created = c.updated = QDateTime::fromSecsSinceEpoch(1764000000, Qt::UTC);
    c.modelName = QStringLiteral("llava-v1.6-mistral-7b");
    ChatMessage user;
    user.text = QStringLiteral("What is on the table? 桌子上有什么？");
    user.time = c.created;
    ChatMessage answer;
    answer.role = MessageRole::Assistant;
    answer.text = QString(textBytes, QLatin1Char('x'));
    answer.state = MessageState::Stopped;
    answer.time = c.created;
    c.messages << user << answer;
    return c;
}

// Child mode: save the same chat forever, a different size each time, and say so after each save.
[[noreturn]] void saveForever(const QString& root) {
    ChatStore store(root);
    for (int i = 0;; ++i) {
        Conversation c = sample(QStringLiteral("busy"), 4'000'000 + (i % 7) * 100'000);
        c.title = QStringLiteral("save %1").arg(i);
        std::printf("begin %d\n", i);
        std::fflush(stdout);
        if (!store.save(c).isOk()) std::_Exit(2);
        std::printf("saved %d\n", i);
        std::fflush(stdout);
    }
}
}  // namespace

class TstPersistence : public QObject {
    Q_OBJECT
private slots:
    void roundTrip();
    void killedSaveLeavesPreviousFile();
    void corruptFileMovedAside_data();
    void corruptFileMovedAside();
    void confidenceRoundTrip();
    void fileWithoutConfidenceLoads();
    void timelineRoundTrip();
    void hostileTimelineDropped_data();
    void hostileTimelineDropped();
};

void TstPersistence::roundTrip() {
    QTemporaryDir root;
    ChatStore store(root.path());
    Conversation c = sample(QStringLiteral("20261124-160000-ab12"), 64);
    c.messages[0].images << store.imagesDir() + QStringLiteral("/cafe.png");
    c.messages[1].state = MessageState::Failed;
    c.messages[1].error = QStringLiteral("out of memory");
    QVERIFY(store.save(c).isOk());
    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    QCOMPARE(report.conversations.size(), 1);
    const Conversation& back = report.conversations.first();
    QCOMPARE(back.id, c.id);
    QCOMPARE(back.title, c.title);
    QCOMPARE(back.messages.size(), 2);
    QCOMPARE(back.messages[0].text, c.messages[0].text);
    QCOMPARE(back.messages[0].images, c.messages[0].images);
    QCOMPARE(back.messages[1].role, MessageRole::Assistant);
    QCOMPARE(back.messages[1].state, MessageState::Failed);
    QCOMPARE(back.messages[1].error, c.messages[1].error);
}

void TstPersistence::killedSaveLeavesPreviousFile() {
#ifndef Q_OS_UNIX
    QSKIP("needs SIGKILL");
#else
    QTemporaryDir root;
    ChatStore store(root.path());
    int insideSave = 0;
    for (int round = 0; round < 6; ++round) {
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QString::fromLatin1(kChildEnv), root.path());
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child.waitForStarted());
        // Let it complete at least one save, then kill it at a different moment of a later one.
        QElapsedTimer t;
        t.start();
        QByteArray out;
        while (!out.contains("saved") && t.elapsed() < 20000) {
            child.waitForReadyRead(100);
            out += child.readAllStandardOutput();
        }
        QTest::qSleep(3 + round * 7);
        ::kill(pid_t(child.processId()), SIGKILL);
        QVERIFY(child.waitForFinished(5000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        out += child.readAllStandardOutput();
        if (out.trimmed().split('\n').constLast().startsWith("begin")) ++insideSave;  // killed inside save()

        const auto report = store.loadAll();
        QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
        QCOMPARE(report.conversations.size(), 1);
        const Conversation& c = report.conversations.first();
        QVERIFY(c.title.startsWith(QStringLiteral("save ")));
        QVERIFY(c.messages.size() == 2 && c.messages[1].text.size() >= 4'000'000);
    }
    // Saves dominate the child's loop, so most kills land inside one; if none did, the test proved nothing.
    qInfo("%d of 6 kills landed inside ChatStore::save()", insideSave);
    QVERIFY2(insideSave > 0, "no kill landed inside a save");
    // QSaveFile temporaries (unnamed O_TMPFILE on Linux, else busy.json.XXXXXX) never show up as a chat.
    QCOMPARE(QDir(store.chatsDir()).entryList({QStringLiteral("*.json")}, QDir::Files).size(), 1);
#endif
}

void TstPersistence::corruptFileMovedAside_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated") << ChatStore::toJson(sample(QStringLiteral("bad"), 100)).left(40);
    QTest::newRow("not json") << QByteArray("\x89PNG\r\n\x1a\n garbage");
    QTest::newRow("json array") << QByteArray("[1, 2, 3]");
}

void TstPersistence::corruptFileMovedAside() {
    QFETCH(QByteArray, bytes);
    QTemporaryDir root;
    ChatStore store(root.path());
    QVERIFY(store.save(sample(QStringLiteral("good"), 10)).isOk());
    QFile bad(store.filePath(QStringLiteral("bad")));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(bytes);
    bad.close();

    const auto report = store.loadAll();
    QCOMPARE(report.conversations.size(), 1);
    QCOMPARE(report.conversations.first().id, QStringLiteral("good"));
    QCOMPARE(report.problems.size(), 1);
    QVERIFY2(report.problems.first().contains(QStringLiteral("bad.json")), qPrintable(report.problems.first()));
    QVERIFY(!QFile::exists(store.filePath(QStringLiteral("bad"))));
    QFile aside(store.chatsDir() + QStringLiteral("/corrupt/bad.json"));
    QVERIFY(aside.open(QIODevice::ReadOnly));
    QCOMPARE(aside.readAll(), bytes);  // kept as it was, never deleted
    // A second load is clean.
    QVERIFY(store.loadAll().problems.isEmpty());
}

void TstPersistence::confidenceRoundTrip() {
    QTemporaryDir root;
    ChatStore store(root.path());
    Conversation c = sample(QStringLiteral("5b7e0c1d-2a3f-4b6c-9d8e-7f6a5b4c3d2e"), 0);
    c.messages[1].text = QStringLiteral("Ein **roter** Becher 🍵.");
    constexpr double kRemoved = -std::numeric_limits<double>::infinity();
    auto alt = [](qint32 id, const QString& text, double lp, double raw) { return TokenAlternative{id, text, lp, raw}; };
    TokenProbability a{0, 3, alt(330, QStringLiteral("Ein"), -0.1053605156578263, -0.2), {}};
    a.top = {alt(330, QStringLiteral("Ein"), -0.1053605156578263, -0.2), alt(415, QStringLiteral("Der"), -2.3025850929940455, -2.1),
             alt(851, QStringLiteral("Das"), kRemoved, -3.9)};
    TokenProbability b{3, 3, alt(2760, QStringLiteral(" **"), -1e-300, -7e-17), {}};
    TokenProbability d{6, 5, alt(5045, QStringLiteral("roter"), -1.2, -1.25), {}};
    d.top = {alt(2760, QStringLiteral("blauer"), -1.1, -1.3), alt(5045, QStringLiteral("roter"), -1.2, -1.25),
             alt(3199, QStringLiteral("grüner"), -2.0, -2.1), alt(4633, QStringLiteral("\u2581x"), kRemoved, -2.8),
             alt(5344, QStringLiteral("\uFFFD"), kRemoved, -745.0)};
    TokenProbability e{21, 2, alt(1, QStringLiteral("🍵"), -0.75, -0.5), {}};  // a surrogate pair: 2 UTF-16 units
    TokenProbability end{24, 0, alt(2, QStringLiteral("</s>"), 0.0, -0.0), {}};  // held back: no text
    c.messages[1].tokens = {a, b, d, e, end};
    c.messages[1].state = MessageState::Complete;
    QCOMPARE(c.messages[1].text.size(), 24);
    QVERIFY(store.save(c).isOk());
    QFile file(store.filePath(c.id));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("\"raw_logprob\""));

    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    QCOMPARE(report.conversations.size(), 1);
    const TokenProbabilities& back = report.conversations.first().messages[1].tokens;
    const TokenProbabilities& sent = c.messages[1].tokens;
    QVERIFY(report.conversations.first().messages[0].tokens.isEmpty());
    QCOMPARE(back.size(), sent.size());
    // Exact: the file holds the shortest decimal that reads back as the same double (-inf as null).
    auto same = [](const TokenAlternative& x, const TokenAlternative& y) {
        return x.id == y.id && x.text == y.text && x.logprob == y.logprob && x.rawLogprob == y.rawLogprob;
    };
    for (qsizetype i = 0; i < sent.size(); ++i) {
        QCOMPARE(back[i].begin, sent[i].begin);
        QCOMPARE(back[i].length, sent[i].length);
        QVERIFY2(same(back[i].chosen, sent[i].chosen), qPrintable(QString::number(i)));
        QCOMPARE(back[i].top.size(), sent[i].top.size());
        for (qsizetype k = 0; k < sent[i].top.size(); ++k) QVERIFY2(same(back[i].top[k], sent[i].top[k]), qPrintable(QString::number(i)));
    }
    QCOMPARE(back[0].top[2].probability(), 0.0);
    QCOMPARE(back[2].top[3].text, QStringLiteral("\u2581x"));
}

// Exactly what version-1 files looked like before confidence was saved (an answer with stats and a seed).
void TstPersistence::fileWithoutConfidenceLoads() {
    QTemporaryDir root;
    ChatStore store(root.path());
    const QByteArray old = R"({
    "created": "2026-11-24T16:00:00.000Z", "id": "20261124-160000-ab12", "model": "llava-v1.6-mistral-7b",
    "systemPrompt": "", "title": "Old chat", "updated": "2026-11-24T16:05:00.000Z", "version": 1,
    "messages": [
        {"images": [], "role": "user", "state": "complete", "text": "Hi", "time": "2026-11-24T16:00:01.000Z"},
        {"images": [], "role": "assistant", "seed": "18446744073709551615", "state": "complete",
         "stats": {"decodeTokPerS": 11.5, "generatedTokens": 3, "imageEncodeMs": 0, "imageTokens": 0, "prefillMs": 40,
                   "prefillTokPerS": 200, "textTokens": 8, "timeToFirstTokenMs": 45},
         "text": "Hello there.", "time": "2026-11-24T16:00:02.000Z"}
    ]
})";
    QFile file(store.filePath(QStringLiteral("20261124-160000-ab12")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(old), old.size());
    file.close();
    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    QCOMPARE(report.conversations.size(), 1);
    const Conversation& c = report.conversations.first();
    QCOMPARE(c.title, QStringLiteral("Old chat"));
    QCOMPARE(c.messages.size(), 2);
    QCOMPARE(c.messages[1].text, QStringLiteral("Hello there."));
    QVERIFY(c.messages[1].hasStats);
    QCOMPARE(c.messages[1].stats.generatedTokens, 3);
    QCOMPARE(c.messages[1].seed, std::optional<quint64>(18446744073709551615ull));
    QVERIFY(c.messages[1].tokens.isEmpty());
    // Saved again it stays without "tokens" (nothing invented).
    QVERIFY(!ChatStore::toJson(c).contains("\"tokens\""));
}

namespace {
Conversation timedChat() {
    Conversation c = sample(QStringLiteral("6c8f1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"), 0);
    ChatMessage& answer = c.messages[1];
    answer.text = QStringLiteral("A red cup.");
    answer.state = MessageState::Complete;
    answer.hasStats = true;
    answer.stats.generatedTokens = 4;
    auto stage = [](const char* name, int index, double start, double ms, std::int64_t items, std::int64_t position,
                    double bytes, double flops) {
        return llava::StageTiming{name, index, start, ms, items, position, bytes, flops};
    };
    answer.stats.stages = {stage("preprocess", 0, 0.25, 12.5, 5, 0, 3.3e6, 0),
                           stage("clip", 0, 12.75, 125.8, 5, 0, 6.1e8, 1.2345678901234567e12),
                           stage("prefill.chunk", 1, 140.0, 7.77, 256, 256, 9.9e8, 4.4e11),
                           stage("decode.steady", 0, 300.0, 184.7, 511, 2359, 5.2e11, 1.0e12)};
    answer.stats.ceilings = llava::MachineCeilings{12.3, 33.8, 2, "AMD EPYC 7B13", "2026-12-03T17:30:00Z"};
    return c;
}
}  // namespace

void TstPersistence::timelineRoundTrip() {
    QTemporaryDir root;
    ChatStore store(root.path());
    const Conversation c = timedChat();
    QVERIFY(store.save(c).isOk());
    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    const llava::GenerationStats& back = report.conversations.first().messages[1].stats;
    const llava::GenerationStats& sent = c.messages[1].stats;
    QCOMPARE(back.stages.size(), sent.stages.size());
    for (std::size_t i = 0; i < sent.stages.size(); ++i) {
        QCOMPARE(back.stages[i].name, sent.stages[i].name);
        QCOMPARE(back.stages[i].index, sent.stages[i].index);
        QCOMPARE(back.stages[i].startMs, sent.stages[i].startMs);
        QCOMPARE(back.stages[i].ms, sent.stages[i].ms);
        QCOMPARE(back.stages[i].items, sent.stages[i].items);
        QCOMPARE(back.stages[i].position, sent.stages[i].position);
        QCOMPARE(back.stages[i].bytes, sent.stages[i].bytes);
        QCOMPARE(back.stages[i].flops, sent.stages[i].flops);
    }
    QVERIFY(back.ceilings.has_value());
    QCOMPARE(back.ceilings->copyGBs, 12.3);
    QCOMPARE(back.ceilings->gemmGflops, 33.8);
    QCOMPARE(back.ceilings->threads, 2);
    QCOMPARE(back.ceilings->cpu, std::string("AMD EPYC 7B13"));
    QCOMPARE(back.ceilings->measuredAt, std::string("2026-12-03T17:30:00Z"));
}

void TstPersistence::hostileTimelineDropped_data() {
    QTest::addColumn<QByteArray>("stages");    // the "stages" value written into the file
    QTest::addColumn<QByteArray>("ceilings");  // the "ceilings" value
    QTest::addColumn<bool>("stagesKept");
    QTest::addColumn<bool>("ceilingsKept");
    const QByteArray goodStage = R"({"name":"clip","index":0,"startMs":1,"ms":2,"items":5,"position":0,"bytes":3,"flops":4})";
    const QByteArray goodCeilings = R"({"copyGBs":12.3,"gemmGflops":33.8,"threads":2,"cpu":"x","measuredAt":"t"})";
    const QByteArray oneGood = "[" + goodStage + "]";
    auto stageWith = [](const char* field) {
        return QByteArray(R"([{"name":"clip","index":0,"startMs":1,"ms":2,"items":5,"position":0,"bytes":3,"flops":4,)") + field + "}]";
    };
    QTest::newRow("valid") << oneGood << goodCeilings << true << true;
    QTest::newRow("unknown stage name") << stageWith(R"("name":"rm -rf")") << goodCeilings << false << true;
    QTest::newRow("negative time") << stageWith(R"("ms":-2)") << goodCeilings << false << true;
    QTest::newRow("string number") << stageWith(R"("index":"0")") << goodCeilings << false << true;
    QTest::newRow("huge index") << stageWith(R"("index":1e300)") << goodCeilings << false << true;
    QByteArray many = "[";
    for (int i = 0; i <= kMaxSavedStages; ++i) many += (i ? "," : "") + goodStage;
    many += "]";
    QTest::newRow("more stages than any answer has") << many << goodCeilings << false << true;
    QTest::newRow("not an array") << QByteArray(R"({"name":"clip"})") << goodCeilings << false << true;
    QTest::newRow("zero bandwidth") << oneGood << QByteArray(R"({"copyGBs":0,"gemmGflops":33.8,"threads":2,"cpu":"x","measuredAt":"t"})")
                                    << true << false;
    QTest::newRow("no threads") << oneGood << QByteArray(R"({"copyGBs":1,"gemmGflops":33.8,"threads":0,"cpu":"x","measuredAt":"t"})")
                                << true << false;
    QTest::newRow("cpu too long") << oneGood
                                  << QByteArray(R"({"copyGBs":1,"gemmGflops":2,"threads":2,"cpu":")") + QByteArray(300, 'c') + R"(","measuredAt":"t"})"
                                  << true << false;
    QTest::newRow("ceilings a number") << oneGood << QByteArray("7") << true << false;
}

void TstPersistence::hostileTimelineDropped() {
    QFETCH(QByteArray, stages);
    QFETCH(QByteArray, ceilings);
    QFETCH(bool, stagesKept);
    QFETCH(bool, ceilingsKept);
    QTemporaryDir root;
    ChatStore store(root.path());
    const QString id = QStringLiteral("20261203-180000-cd34");
    const QByteArray chat = R"({"created": "2026-12-03T18:00:00.000Z", "id": ")" + id.toUtf8() +
                            R"(", "model": "m", "systemPrompt": "", "title": "t", "updated": "2026-12-03T18:00:00.000Z", "version": 1,
    "messages": [{"images": [], "role": "user", "state": "complete", "text": "Hi", "time": "2026-12-03T18:00:01.000Z"},
                 {"images": [], "role": "assistant", "state": "complete", "text": "Hello.", "time": "2026-12-03T18:00:02.000Z",
                  "stats": {"generatedTokens": 2, "decodeTokPerS": 9.5, "stages": )" + stages + R"(, "ceilings": )" + ceilings + R"(}}]})";
    QFile file(store.filePath(id));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(chat), chat.size());
    file.close();
    const auto report = store.loadAll();
    QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.join(u';')));
    QCOMPARE(report.conversations.size(), 1);
    const ChatMessage& answer = report.conversations.first().messages[1];
    QCOMPARE(answer.text, QStringLiteral("Hello."));
    QVERIFY(answer.hasStats);
    QCOMPARE(answer.stats.generatedTokens, 2);
    QCOMPARE(answer.stats.decodeTokPerS, 9.5);
    QCOMPARE(answer.stats.stages.size(), stagesKept ? std::size_t(1) : std::size_t(0));
    QCOMPARE(answer.stats.ceilings.has_value(), ceilingsKept);
}

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsSet(kChildEnv)) saveForever(qEnvironmentVariable(kChildEnv));
    QCoreApplication app(argc, argv);
    TstPersistence test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_persistence.moc"
