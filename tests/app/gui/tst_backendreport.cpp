// tst_backendreport: the GUI says what the backend changed (issue 10 item 19 and the q4 -> q8 fallback):
//  - a real load of the tiny fixture at q4 (every width < 128, so every matrix is kept as q8) puts a
//    notice above the chat, and Help → Backend self-check shows it;
//  - a load whose CUDA self-check failed (ModelInfo as LlavaChatEngine fills it from BackendReport) gives
//    a notice naming the failed op and a report holding every self-check line, ready to copy;
//  - a CPU-only build that simply has no CUDA gets no notice (nothing happened the user must know).
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "appinit.h"
#include "backendreportdialog.h"
#include "inference/inferencecontroller.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "text/testtokenizers.h"

namespace {
const QString kFixture = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");

ModelInfo cudaFellBack() {
    ModelInfo m;
    m.name = QStringLiteral("llava-v1.6-mistral-7b-hf");
    m.backend = QStringLiteral("cpu");
    m.device = QStringLiteral("2 threads, AVX2");
    m.precision = QStringLiteral("as-stored");
    m.cudaBuilt = true;
    m.fallbackReason = QStringLiteral("CUDA self-check failed: gelu [67, 96]: NMSE 1.2e-03 > 1e-07 (the CPU is used; ...)");
    m.selfCheckReport = QStringLiteral("self-check cuda vs cpu, 41 checks\nPASS matmul F16 m67 n37 k256  NMSE 2.1e-08 <= 1e-05\n"
                                       "FAIL gelu [67, 96]  NMSE 1.2e-03 > 1e-07");
    return m;
}
}  // namespace

class TstBackendReport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qputenv("LLAVA_NO_DIALOGS", "1"); }
    void selfCheckFailureIsShown();
    void cpuOnlyBuildNeedsNoNotice();
    void q4KeptAsQ8IsNoticedAfterARealLoad();
};

void TstBackendReport::selfCheckFailureIsShown() {
    const ModelInfo m = cudaFellBack();
    const QString notice = BackendReportDialog::loadNotice(m);
    QVERIFY2(notice.contains(QStringLiteral("instead of CUDA")) && notice.contains(QStringLiteral("gelu")), qPrintable(notice));
    BackendReportDialog dialog(m);
    QVERIFY(dialog.text().contains(QStringLiteral("The CUDA self-check failed")));
    QVERIFY(dialog.text().contains(QStringLiteral("FAIL gelu [67, 96]")));
    QVERIFY(dialog.text().contains(QStringLiteral("PASS matmul F16")));  // the whole report, not just the failure
    if (const QString dir = qEnvironmentVariable("LLAVA_SCREENSHOT_DIR"); !dir.isEmpty()) {
        dialog.show();
        QTest::qWait(200);
        dialog.grab().save(dir + QStringLiteral("/backend-selfcheck-failed.png"));
    }
    ModelInfo passed = m;
    passed.backend = QStringLiteral("cuda");
    passed.fallbackReason.clear();
    QVERIFY(BackendReportDialog::loadNotice(passed).isEmpty());
    QVERIFY(BackendReportDialog::summary(passed).contains(QStringLiteral("self-check passed")));
    QVERIFY(BackendReportDialog::summary(std::nullopt).contains(QStringLiteral("No model is loaded")));
}

void TstBackendReport::cpuOnlyBuildNeedsNoNotice() {
    ModelInfo m;
    m.backend = QStringLiteral("cpu");
    m.cudaBuilt = false;
    m.fallbackReason = QStringLiteral("this build has no CUDA backend");
    QVERIFY(BackendReportDialog::loadNotice(m).isEmpty());
    QVERIFY(BackendReportDialog::summary(m).contains(QStringLiteral("This build has no CUDA backend")));
    m.notice = QStringLiteral("threads 1000 clamped to 2: this process may use 2 CPUs");
    QVERIFY(BackendReportDialog::loadNotice(m).contains(QStringLiteral("threads 1000 clamped to 2")));
}

void TstBackendReport::q4KeptAsQ8IsNoticedAfterARealLoad() {
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("model"));
    QDir().mkpath(dir);
    for (const QFileInfo& entry : QDir(kFixture).entryInfoList(QDir::Files))
        QVERIFY(QFile::copy(entry.filePath(), dir + QLatin1Char('/') + entry.fileName()));
    QVERIFY(QFile::copy(llavatest::tokenizerPath(llavatest::kMistral), dir + QStringLiteral("/tokenizer.model")));
    AppSettings settings;
    settings.backend = QStringLiteral("cpu");
    settings.precision = QStringLiteral("q4");
    settings.contextLength = 256;
    MainWindowOptions options;
    options.dataDir = tmp.filePath(QStringLiteral("data"));
    options.engineFactory = defaultEngineFactory();
    options.openSample = false;
    MainWindow w(settings, options);
    QSignalSpy loaded(w.controller(), &InferenceController::loadFinished);
    w.loadModel(dir, false);
    QVERIFY(loaded.wait(60000));
    const ModelInfo info = loaded.first().first().value<ModelInfo>();
    QVERIFY2(info.notice.contains(QStringLiteral("q4 not applied")), qPrintable(info.notice));
    QVERIFY(w.notices()->has(QStringLiteral("backend")));
    QVERIFY2(w.notices()->text(QStringLiteral("backend")).contains(QStringLiteral("stored as q8")),
             qPrintable(w.notices()->text(QStringLiteral("backend"))));
    if (const QString shots = qEnvironmentVariable("LLAVA_SCREENSHOT_DIR"); !shots.isEmpty()) {
        w.resize(1024, 700);
        w.show();
        QTest::qWait(300);
        w.grab().save(shots + QStringLiteral("/notice-q4-kept-as-q8.png"));
    }
    // Help → Backend self-check opens the report for the loaded model.
    QAction* action = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->text() == QStringLiteral("&Backend self-check…")) action = a;
    QVERIFY(action);
    action->trigger();
    auto* dialog = w.findChild<BackendReportDialog*>();
    QVERIFY(dialog);
    QVERIFY2(dialog->text().contains(QStringLiteral("q4 not applied")), qPrintable(dialog->text()));
    dialog->close();
    // A later load without changes clears the notice.
    QSignalSpy again(w.controller(), &InferenceController::loadFinished);
    w.loadModel(dir, false, llava::WeightPrecision::Q8);
    QVERIFY(again.wait(60000));
    QVERIFY(!w.notices()->has(QStringLiteral("backend")));
}

QTEST_MAIN(TstBackendReport)
#include "tst_backendreport.moc"
