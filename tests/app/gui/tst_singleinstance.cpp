// tst_singleinstance: one app instance per data folder (issue 10 item 2). The owner is a real second
// process (this test program in child mode: SingleInstance::claim, then an event loop that prints what a
// later launch asked for):
//  - a later launch is forwarded to the running owner, which receives its images, and claims nothing;
//  - the owner killed with SIGKILL leaves its lock file behind, and the next launch takes it over;
//  - an owner that does not answer (SIGSTOP) makes the next launch Busy, naming the owner's process;
//  - an empty lock file (a crash while it was written) does not block the folder forever.
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>

#include "singleinstance.h"

#ifdef Q_OS_UNIX
#include <csignal>
#endif

namespace {
constexpr const char* kChildEnv = "LLAVA_SINGLEINSTANCE_CHILD_DIR";

int runOwner(const QString& dataDir) {
    SingleInstance instance(dataDir);
    const SingleInstance::Claim claim = instance.claim({}, 1000);
    std::printf("%s\n", claim == SingleInstance::Claim::Primary ? "primary" : "not-primary");
    std::fflush(stdout);
    if (claim != SingleInstance::Claim::Primary) return 3;
    QObject::connect(&instance, &SingleInstance::activationRequested, [](const QStringList& images) {
        std::printf("activated %s\n", qPrintable(images.join(u'|')));
        std::fflush(stdout);
    });
    return QCoreApplication::exec();
}

// Starts the owner process and waits until it says it owns the folder.
bool startOwner(QProcess& child, const QString& dataDir) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kChildEnv), dataDir);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {});
    if (!child.waitForStarted()) return false;
    QByteArray out;
    QElapsedTimer t;
    t.start();
    while (!out.contains('\n') && t.elapsed() < 20000) {
        child.waitForReadyRead(100);
        out += child.readAllStandardOutput();
    }
    return out.startsWith("primary");
}

void killOwner(QProcess& child) {
    if (child.state() == QProcess::NotRunning) return;
    child.kill();
    child.waitForFinished(5000);
}
}  // namespace

class TstSingleInstance : public QObject {
    Q_OBJECT
private slots:
    void laterLaunchIsForwarded();
    void crashedOwnerIsTakenOver();
    void hungOwnerIsBusy();
    void emptyLockFileDoesNotBlock();
};

void TstSingleInstance::laterLaunchIsForwarded() {
    QTemporaryDir dir;
    QProcess owner;
    QVERIFY(startOwner(owner, dir.path()));
    SingleInstance second(dir.path());
    const QString image = dir.filePath(QStringLiteral("photo.png"));
    QCOMPARE(second.claim({image}), SingleInstance::Claim::Forwarded);
    QByteArray out;
    QElapsedTimer t;
    t.start();
    while (!out.contains("activated") && t.elapsed() < 10000) {
        owner.waitForReadyRead(100);
        out += owner.readAllStandardOutput();
    }
    QVERIFY2(out.contains("activated " + image.toUtf8()), out.constData());
    QVERIFY(QFile::exists(second.lockFilePath()));  // still the owner's
    killOwner(owner);
}

void TstSingleInstance::crashedOwnerIsTakenOver() {
#ifndef Q_OS_UNIX
    QSKIP("needs SIGKILL");
#else
    QTemporaryDir dir;
    QProcess owner;
    QVERIFY(startOwner(owner, dir.path()));
    ::kill(pid_t(owner.processId()), SIGKILL);
    QVERIFY(owner.waitForFinished(5000));
    SingleInstance next(dir.path());
    QVERIFY(QFile::exists(next.lockFilePath()));  // left behind by the crash
    QCOMPARE(next.claim({}, 1000), SingleInstance::Claim::Primary);
    // And this one is now the owner a later launch is forwarded to... by another process; here: the lock
    // file names this process.
    QFile lock(next.lockFilePath());
    QVERIFY(lock.open(QIODevice::ReadOnly));
    QCOMPARE(lock.readLine().trimmed().toLongLong(), QCoreApplication::applicationPid());
#endif
}

void TstSingleInstance::hungOwnerIsBusy() {
#ifndef Q_OS_UNIX
    QSKIP("needs SIGSTOP");
#else
    QTemporaryDir dir;
    QProcess owner;
    QVERIFY(startOwner(owner, dir.path()));
    ::kill(pid_t(owner.processId()), SIGSTOP);
    SingleInstance second(dir.path());
    QCOMPARE(second.claim({}, 500), SingleInstance::Claim::Busy);
    QVERIFY2(second.owner().contains(QString::number(owner.processId())), qPrintable(second.owner()));
    ::kill(pid_t(owner.processId()), SIGCONT);
    killOwner(owner);
#endif
}

void TstSingleInstance::emptyLockFileDoesNotBlock() {
    QTemporaryDir dir;
    SingleInstance instance(dir.path());
    QFile lock(instance.lockFilePath());
    QVERIFY(lock.open(QIODevice::WriteOnly));
    lock.close();
    QCOMPARE(instance.claim({}, 500), SingleInstance::Claim::Primary);
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(kChildEnv)) return runOwner(qEnvironmentVariable(kChildEnv));
    TstSingleInstance test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_singleinstance.moc"
