// tst_appweightcache: the app's int8 loads use the quantised-weight cache (docs/weight-cache.md) like the
// CLI does. Through the real stack (InferenceController -> worker thread -> LlavaChatEngine -> Engine, CPU),
// the tiny llava-hf fixture at q8: quantised in memory (no cache), then with the cache on (built on the first
// load, the file written beside the model), then again (read and verified). The greedy answer to the
// fixture's image + question is the same text all three times. The setting itself: on by default, saved and
// read back, and Settings -> Backend shows and returns it.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QCheckBox>

#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "settings/appsettings.h"
#include "settings/settingsdialog.h"
#include "text/testtokenizers.h"

namespace {

const QString kFixtures = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures");
const QString kFolder = QStringLiteral("llava-v1.6-mistral-tiny-hf");

bool copyFolder(const QString& from, const QString& to) {
    if (!QDir().mkpath(to)) return false;
    for (const QFileInfo& entry : QDir(from).entryInfoList(QDir::Files | QDir::NoDotAndDotDot))
        if (!QFile::copy(entry.filePath(), to + QLatin1Char('/') + entry.fileName())) return false;
    return true;
}

}  // namespace

class TstAppWeightCache : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void q8LoadsBuildThenReadTheCache();
    void settingIsOnByDefaultAndRoundTrips();

private:
    // Loads `load` on `controller`; the ModelInfo, or a failed QVERIFY.
    bool load(InferenceController& controller, const LoadRequest& request, ModelInfo* info);
    bool greedyAnswer(InferenceController& controller, QString* text);

    QTemporaryDir m_dir;
    QString m_modelDir;
};

void TstAppWeightCache::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_modelDir = m_dir.filePath(kFolder);
    QVERIFY(copyFolder(kFixtures + QStringLiteral("/models/") + kFolder, m_modelDir));
    QVERIFY(QFile::copy(llavatest::tokenizerPath(llavatest::kMistral), m_modelDir + QStringLiteral("/tokenizer.model")));
}

bool TstAppWeightCache::load(InferenceController& controller, const LoadRequest& request, ModelInfo* info) {
    QSignalSpy loaded(&controller, &InferenceController::loadFinished);
    QSignalSpy failed(&controller, &InferenceController::loadFailed);
    controller.loadModel(request);
    if (!loaded.wait(120000) && failed.isEmpty()) {
        qWarning("load timed out");
        return false;
    }
    if (!failed.isEmpty()) {
        qWarning("load failed: %s: %s", qPrintable(failed.first().at(0).toString()), qPrintable(failed.first().at(1).toString()));
        return false;
    }
    *info = loaded.first().at(0).value<ModelInfo>();
    return true;
}

bool TstAppWeightCache::greedyAnswer(InferenceController& controller, QString* text) {
    GenerationRequest request;
    request.conversationId = QStringLiteral("weight-cache");
    request.text = QStringLiteral("What is in this picture?");
    request.imagePaths << kFixtures + QStringLiteral("/images/landscape_640x480.png");
    request.sampling.temperature = 0;
    request.sampling.maxNewTokens = 16;
    QSignalSpy finished(&controller, &InferenceController::generationFinished);
    QSignalSpy failed(&controller, &InferenceController::generationFailed);
    text->clear();
    auto conn = QObject::connect(&controller, &InferenceController::tokensGenerated, [text](quint64, const QString& t) { *text += t; });
    controller.generate(std::move(request));
    const bool done = finished.wait(120000) || !failed.isEmpty();
    QObject::disconnect(conn);
    if (!failed.isEmpty()) qWarning("reply failed: %s", qPrintable(failed.first().at(2).toString()));
    return done && failed.isEmpty() && !text->isEmpty();
}

void TstAppWeightCache::q8LoadsBuildThenReadTheCache() {
    InferenceController controller(std::make_unique<LlavaChatEngine>());
    LoadRequest request;
    request.modelDir = m_modelDir;
    request.backend = llava::BackendKind::Cpu;
    request.threads = 2;
    request.contextLength = 4096;
    request.precision = llava::WeightPrecision::Q8;
    request.weightCacheDir = m_dir.filePath(QStringLiteral("cache"));  // only used when the folder is read-only
    const QString cacheFile = m_modelDir + QStringLiteral("/llava-insight-q8.qcache");

    ModelInfo info;
    QVERIFY(load(controller, request, &info));  // weightCache off: quantised in memory, nothing written
    QCOMPARE(info.precision, QStringLiteral("q8"));
    QVERIFY2(info.weightCache.isEmpty(), qPrintable(info.weightCache));
    QVERIFY(!QFileInfo::exists(cacheFile));
    QString inMemory;
    QVERIFY(greedyAnswer(controller, &inMemory));

    request.weightCache = true;
    QVERIFY(load(controller, request, &info));  // first load with the cache: built
    QVERIFY2(info.weightCache.startsWith(QStringLiteral("quantised")) && info.weightCache.contains(cacheFile), qPrintable(info.weightCache));
    QVERIFY(QFileInfo(cacheFile).size() > 0);
    QString built;
    QVERIFY(greedyAnswer(controller, &built));
    QCOMPARE(built, inMemory);

    QVERIFY(load(controller, request, &info));  // next load: read from the file and verified
    QVERIFY2(info.weightCache.startsWith(QStringLiteral("read from")) && info.weightCache.contains(QStringLiteral("verified")),
             qPrintable(info.weightCache));
    QString cached;
    QVERIFY(greedyAnswer(controller, &cached));
    QCOMPARE(cached, inMemory);
}

void TstAppWeightCache::settingIsOnByDefaultAndRoundTrips() {
    QCOMPARE(AppSettings().weightCache, true);
    QSettings file(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    AppSettings off;
    off.weightCache = false;
    off.save(file);
    QCOMPARE(AppSettings::load(file).weightCache, false);

    SettingsDialog dialog(off);
    auto* box = dialog.findChild<QCheckBox*>(QStringLiteral("weightCache"));
    QVERIFY(box);
    QVERIFY(!box->isChecked());
    box->setChecked(true);
    QCOMPARE(dialog.settings().weightCache, true);
}

QTEST_MAIN(TstAppWeightCache)
#include "tst_appweightcache.moc"
