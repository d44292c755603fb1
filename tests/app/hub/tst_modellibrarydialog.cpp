// tst_modellibrarydialog: the GUI library dialog (offscreen) against the fake Hub. Guards against: a
// download that ends without the model appearing in the library or without a way to open it, an "Open"
// that emits another folder than the downloaded snapshot, a plan that recommends a precision that does not
// fit (Open must be disabled when nothing fits), and a cancel that leaves the dialog stuck "downloading".
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "fakehubprocess.h"
#include "models/modellibrarydialog.h"

namespace {

QPushButton* button(QWidget& parent, const QString& text) {
    for (QPushButton* b : parent.findChildren<QPushButton*>())
        if (b->text() == text) return b;
    return nullptr;
}

}  // namespace

class TstModelLibraryDialog : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) qunsetenv(name);
    }
    void downloadThenOpen();
    void nothingFitsDisablesOpen();
    void cancelReturnsToIdle();
};

void TstModelLibraryDialog::downloadThenOpen() {
    hubtest::FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubConfig config;
    config.endpoint = server.endpoint();
    config.cacheDir = cache.path();
    llava::LibraryLocations where;
    where.hubCaches = {cache.path().toStdString()};
    ModelLibraryDialog dialog(config, where);
    QCOMPARE(int(dialog.entries().size()), 0);
    QSignalSpy finished(&dialog.downloader(), &hub::HubDownloader::finished);
    QSignalSpy progress(&dialog.downloader(), &hub::HubDownloader::progressChanged);
    dialog.startDownload(hubtest::kFixtureRepo, QStringLiteral("main"));
    QVERIFY(finished.wait(60000));
    QVERIFY(progress.count() > 0);
    const QString snapshot = finished.first().first().toString();
    QCOMPARE(int(dialog.entries().size()), 1);
    QVERIFY(dialog.entries()[0].complete);
    QCOMPARE(dialog.selectedRow(), 0);
    QVERIFY(dialog.recommendedPrecision().has_value());
    QCOMPARE(*dialog.recommendedPrecision(), llava::WeightPrecision::AsStored);

    QSignalSpy open(&dialog, &ModelLibraryDialog::openModelRequested);
    QPushButton* openDownloaded = button(dialog, QStringLiteral("Open downloaded model"));
    QVERIFY(openDownloaded && openDownloaded->isEnabled());
    openDownloaded->click();
    QPushButton* openSelected = button(dialog, QStringLiteral("Open"));
    QVERIFY(openSelected && openSelected->isEnabled());
    openSelected->click();
    QCOMPARE(open.count(), 2);
    QCOMPARE(open[0].first().toString(), snapshot);
    QCOMPARE(open[1].first().toString(), snapshot);
}

void TstModelLibraryDialog::nothingFitsDisablesOpen() {
    QTemporaryDir folder;
    // A folder with a config only: listed, incomplete, planned from its config.
    QVERIFY(QFile::copy(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf/config.json",
                        folder.path() + "/config.json"));
    llava::LibraryLocations where;
    where.recent = {folder.path().toStdString()};
    hub::HubConfig config;
    config.cacheDir = folder.path() + "/cache";
    ModelLibraryDialog dialog(config, where);
    QCOMPARE(int(dialog.entries().size()), 1);
    QVERIFY(!dialog.entries()[0].complete);
    QVERIFY(!button(dialog, QStringLiteral("Open"))->isEnabled());  // incomplete
    dialog.setPlanTarget(llava::PlanDevice::Cpu, 1000);            // 1000 bytes free: nothing fits
    QCOMPARE(dialog.selectedRow(), 0);
    QVERIFY(!dialog.recommendedPrecision().has_value());
    dialog.setPlanTarget(llava::PlanDevice::Cpu, 1ull << 34);
    QVERIFY(dialog.recommendedPrecision().has_value());
}

void TstModelLibraryDialog::cancelReturnsToIdle() {
    hubtest::FakeHub server;
    QVERIFY2(server.ok(), qPrintable(server.errors()));
    QTemporaryDir cache;
    hub::HubConfig config;
    config.endpoint = server.endpoint();
    config.cacheDir = cache.path();
    ModelLibraryDialog dialog(config, {});
    QSignalSpy cancelled(&dialog.downloader(), &hub::HubDownloader::cancelled);
    connect(&dialog.downloader(), &hub::HubDownloader::progressChanged, &dialog,
            [&dialog](const hub::DownloadProgress& p) {
                if (p.file.endsWith(QStringLiteral(".safetensors")) && p.current.doneBytes > 0) dialog.cancelDownload();
            });
    dialog.startDownload(QStringLiteral("llava-hf/slow-tiny"), QStringLiteral("main"));
    QVERIFY(button(dialog, QStringLiteral("Cancel"))->isEnabled());
    QVERIFY(cancelled.wait(60000));
    QVERIFY(!dialog.downloader().isRunning());
    QVERIFY(button(dialog, QStringLiteral("Download"))->isEnabled());
    QVERIFY(!button(dialog, QStringLiteral("Cancel"))->isEnabled());
    QVERIFY(dialog.findChild<QPlainTextEdit*>()->toPlainText().contains(QStringLiteral("Cancelled")));
}

QTEST_MAIN(TstModelLibraryDialog)
#include "tst_modellibrarydialog.moc"
