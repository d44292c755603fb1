// tst_batch: `llava-insight-cli batch --model` over a folder of the fixture images (tiny Mistral fixture).
// Guards against: a run killed with SIGKILL half-way leaving duplicate, missing or torn lines after the
// rerun; a torn last line (power loss mid-write) breaking the file; Ctrl+C losing or half-writing the
// current item; error lines that are re-appended on every rerun; a settings change that wrongly reuses
// old answers. Answers of interrupted + resumed runs must equal an uninterrupted run's.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

#include "../cli/clitestutil.h"
#include "text/testtokenizers.h"

namespace {

const QString kFixtures = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures");
const QString kModel = kFixtures + QStringLiteral("/models/llava-v1.6-mistral-tiny-hf");
const QStringList kImages{"landscape_640x480.png", "small_300x200.png", "tall_205x656.png", "wide16x9_704x396.png",
                          "wide_800x200.png"};

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

// Complete lines (each must be a JSON object); `torn` is set when the file does not end with a newline.
QList<QJsonObject> readLines(const QString& path, bool* torn = nullptr) {
    const QByteArray text = readFile(path);
    if (torn) *torn = !text.isEmpty() && !text.endsWith('\n');
    QList<QJsonObject> lines;
    for (const QByteArray& line : text.split('\n'))
        if (!line.isEmpty()) lines.append(clitest::parseJson(line));
    return lines;
}

QMap<QString, QString> answersByFile(const QList<QJsonObject>& lines) {
    QMap<QString, QString> out;
    for (const QJsonObject& l : lines) out.insert(QFileInfo(l.value("file").toString()).fileName(), l.value("answer").toString());
    return out;
}

}  // namespace

class TstBatch : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void helpTexts();
    void commandLineErrors_data();
    void commandLineErrors();
    void resumeAfterKill9();
    void tornLastLineIsCut();
    void ctrlCStopsAfterTheCurrentItem();
    void errorLinesAreWrittenOnce();

private:
    QStringList args(const QString& images, const QString& out, int maxNewTokens = 8) const;
    QTemporaryDir m_dir;
    QString m_images;
    QString m_reference;  // an uninterrupted run's results
};

QStringList TstBatch::args(const QString& images, const QString& out, int maxNewTokens) const {
    return {"batch", "--model", kModel, "--tokenizer", llavatest::tokenizerPath(llavatest::kMistral), "--backend", "cpu",
            "--threads", "2", "--images", images, "--prompt", "What is in this picture?", "--max-new-tokens",
            QString::number(maxNewTokens), "--out", out};
}

void TstBatch::initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(llavatest::checkSha256(llavatest::kMistral).isEmpty(), qPrintable(llavatest::checkSha256(llavatest::kMistral)));
    m_images = m_dir.filePath("images");
    QVERIFY(QDir().mkpath(m_images));
    for (const QString& name : kImages) QVERIFY(QFile::copy(kFixtures + "/images/" + name, m_images + "/" + name));
    QVERIFY(QFile::copy(kFixtures + "/images/landscape_640x480.png", m_images + "/zz_same_pixels.png"));  // same sha256
    m_reference = m_dir.filePath("reference.jsonl");
    const auto run = clitest::runCli(args(m_images, m_reference), {}, 600000);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QList<QJsonObject> lines = readLines(m_reference);
    QCOMPARE(lines.size(), 6);
    for (const QJsonObject& l : lines) {
        QVERIFY2(l.value("error").isNull(), qPrintable(l.value("error").toString()));
        QCOMPARE(l.value("sha256").toString().size(), 64);
        QCOMPARE(l.value("tokens").toObject().value("completion").toInt(), 8);
    }
    // Same pixels, same answer: the two copies differ only in name.
    QCOMPARE(answersByFile(lines).value("zz_same_pixels.png"), answersByFile(lines).value("landscape_640x480.png"));
}

void TstBatch::helpTexts() {
    for (const char* command : {"serve", "batch"}) {
        const auto run = clitest::runCli({QString::fromLatin1(command), "--help"});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith(QByteArray("Usage: llava-insight-cli ") + command), run.out.constData());
        QVERIFY(run.err.isEmpty());
    }
}

// Misuse ends as one error line naming the problem, exit 1, before any model is loaded.
void TstBatch::commandLineErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mention");
    QTest::newRow("serve on a public address without a key")
        << QStringList{"serve", "--model", kModel, "--host", "0.0.0.0"} << "--api-key";
    QTest::newRow("serve bad host") << QStringList{"serve", "--model", kModel, "--host", "example.com"} << "not an IP address";
    QTest::newRow("serve bad port") << QStringList{"serve", "--model", kModel, "--port", "70000"} << "port";
    QTest::newRow("serve without model") << QStringList{"serve"} << "--model";
    QTest::newRow("batch model and endpoint")
        << QStringList{"batch", "--model", kModel, "--endpoint", "http://127.0.0.1:1", "--images", "x", "--prompt", "p",
                       "--out", "o"}
        << "exactly one of";
    QTest::newRow("batch without out") << QStringList{"batch", "--model", kModel, "--images", "x", "--prompt", "p"} << "--out";
    QTest::newRow("batch concurrency without endpoint")
        << QStringList{"batch", "--model", kModel, "--concurrency", "4", "--images", "x", "--prompt", "p", "--out", "o"}
        << "--concurrency needs --endpoint";
    QTest::newRow("batch missing images folder")
        << QStringList{"batch", "--model", kModel, "--images", "/nonexistent-dir", "--prompt", "p", "--out", "o"}
        << "/nonexistent-dir";
    QTest::newRow("batch endpoint unreachable")
        << QStringList{"batch", "--endpoint", "http://127.0.0.1:1", "--images", kFixtures + "/images", "--prompt", "p", "--out",
                       "o"}
        << "127.0.0.1:1";
}

void TstBatch::commandLineErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, mention);
    const auto run = clitest::runCli(args, {}, 60000);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.count('\n') == 1 && QString::fromUtf8(run.err).contains(mention), run.err.constData());
}

void TstBatch::resumeAfterKill9() {
    const QString out = m_dir.filePath("killed.jsonl");
    QProcess process;
    process.start(QStringLiteral(LLAVA_CLI_PATH), args(m_images, out));
    QVERIFY(process.waitForStarted(30000));
    QElapsedTimer timer;
    timer.start();
    while (readLines(out).size() < 2 && timer.elapsed() < 300000 && process.state() == QProcess::Running)
        QThread::msleep(10);
    QCOMPARE(::kill(static_cast<pid_t>(process.processId()), SIGKILL), 0);
    QVERIFY(process.waitForFinished(30000));
    bool torn = false;
    const int before = static_cast<int>(readLines(out, &torn).size());
    QVERIFY2(!torn, "a line was half-written");
    QVERIFY2(before >= 2 && before < 6, qPrintable(QString("killed after %1 of 6 lines: not half-way").arg(before)));

    const auto rerun = clitest::runCli(args(m_images, out), {}, 600000);
    QVERIFY2(rerun.exitCode == 0, rerun.err.constData());
    QVERIFY2(rerun.err.contains(QString("%1 skipped").arg(before).toUtf8()), rerun.err.constData());
    const QList<QJsonObject> lines = readLines(out, &torn);
    QVERIFY(!torn);
    QCOMPARE(lines.size(), 6);  // no duplicates, nothing missing
    QSet<QString> files;
    for (const QJsonObject& l : lines) files.insert(l.value("file").toString());
    QCOMPARE(files.size(), 6);
    QCOMPARE(answersByFile(lines), answersByFile(readLines(m_reference)));
}

void TstBatch::tornLastLineIsCut() {
    const QString out = m_dir.filePath("torn.jsonl");
    const QList<QByteArray> reference = readFile(m_reference).split('\n');
    QVERIFY(writeFile(out, reference[0] + "\n" + reference[1].left(reference[1].size() / 2)));
    const auto run = clitest::runCli(args(m_images, out), {}, 600000);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY2(run.err.contains("cut an incomplete last line"), run.err.constData());
    QVERIFY2(run.err.contains("1 skipped"), run.err.constData());
    bool torn = false;
    const QList<QJsonObject> lines = readLines(out, &torn);
    QVERIFY(!torn);
    QCOMPARE(lines.size(), 6);
    for (const QJsonObject& l : lines) QVERIFY(!l.isEmpty());
    QCOMPARE(answersByFile(lines), answersByFile(readLines(m_reference)));
}

void TstBatch::ctrlCStopsAfterTheCurrentItem() {
    const QString out = m_dir.filePath("interrupted.jsonl");
    QProcess process;
    process.start(QStringLiteral(LLAVA_CLI_PATH), args(m_images, out));
    QVERIFY(process.waitForStarted(30000));
    QElapsedTimer timer;
    timer.start();
    while (readLines(out).isEmpty() && timer.elapsed() < 300000 && process.state() == QProcess::Running) QThread::msleep(10);
    QCOMPARE(::kill(static_cast<pid_t>(process.processId()), SIGINT), 0);
    QVERIFY(process.waitForFinished(120000));
    const QByteArray err = process.readAllStandardError();
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(err.contains("rerun the same command to resume"), err.constData());
    bool torn = false;
    const int written = static_cast<int>(readLines(out, &torn).size());
    QVERIFY(!torn);
    QVERIFY2(written >= 1 && written < 6, qPrintable(QString("%1 lines").arg(written)));
    const auto rerun = clitest::runCli(args(m_images, out), {}, 600000);
    QVERIFY2(rerun.exitCode == 0, rerun.err.constData());
    QCOMPARE(answersByFile(readLines(out)), answersByFile(readLines(m_reference)));
    QCOMPARE(readLines(out).size(), 6);
}

void TstBatch::errorLinesAreWrittenOnce() {
    const QString list = m_dir.filePath("list.txt");
    QVERIFY(writeFile(m_dir.filePath("notes.png"), "not an image"));
    QVERIFY(writeFile(list, "# one good image, one that is not an image, one missing\n" + m_images.toUtf8() +
                                "/small_300x200.png\n\nnotes.png\nmissing.png\n"));
    const QString out = m_dir.filePath("errors.jsonl");
    const auto first = clitest::runCli(args(list, out), {}, 600000);
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QList<QJsonObject> lines = readLines(out);
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].value("error").isNull());
    QVERIFY2(lines[1].value("error").toString().contains("notes.png"), qPrintable(lines[1].value("error").toString()));
    QVERIFY2(lines[2].value("error").toString().contains("missing.png"), qPrintable(lines[2].value("error").toString()));
    const auto again = clitest::runCli(args(list, out), {}, 600000);
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QVERIFY2(again.err.contains("3 skipped"), again.err.constData());
    QCOMPARE(readLines(out).size(), 3);
    // Other settings are another job: every image is done again (3 more lines, another settings id).
    const auto longer = clitest::runCli(args(list, out, 9), {}, 600000);
    QVERIFY2(longer.exitCode == 0, longer.err.constData());
    lines = readLines(out);
    QCOMPARE(lines.size(), 6);
    QVERIFY(lines[0].value("settings").toString() != lines[3].value("settings").toString());
    QCOMPARE(lines[3].value("tokens").toObject().value("completion").toInt(), 9);
}

QTEST_GUILESS_MAIN(TstBatch)
#include "tst_batch.moc"
