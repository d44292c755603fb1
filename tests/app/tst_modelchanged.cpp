// A model whose shard is truncated on disk while it is loaded (issue 10 item 18), seen from the GUI side:
// through InferenceController -> InferenceWorker -> LlavaChatEngine the next message fails with a notice
// that the model was unloaded (no SIGBUS), and the engine holds no model afterwards.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "llava/demomodel.h"

class TstModelChanged : public QObject {
    Q_OBJECT
private slots:
    void truncatedShardUnloadsTheModel() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path model = std::filesystem::path(dir.path().toStdString()) / "demo";
        auto written = llava::writeDemoModel(model);
        QVERIFY2(written.isOk(), written.status().toString().c_str());

        auto engine = std::make_unique<LlavaChatEngine>();
        LlavaChatEngine* raw = engine.get();
        InferenceController controller(std::move(engine));
        QSignalSpy loaded(&controller, &InferenceController::loadFinished);
        LoadRequest load;
        load.modelDir = QString::fromStdString(model.string());
        load.backend = llava::BackendKind::Cpu;
        load.threads = 2;
        load.contextLength = 512;
        controller.loadModel(load);
        QVERIFY(loaded.wait(60000));

        auto send = [&] {
            GenerationRequest request;
            request.conversationId = QStringLiteral("c");
            request.text = QStringLiteral("Hello");
            request.sampling.temperature = 0;
            request.sampling.maxNewTokens = 2;
            controller.generate(request);
        };
        QSignalSpy finished(&controller, &InferenceController::generationFinished);
        QSignalSpy failed(&controller, &InferenceController::generationFailed);
        send();
        QVERIFY(finished.wait(60000));

        const auto shard = model / "model.safetensors";
        std::filesystem::resize_file(shard, std::filesystem::file_size(shard) / 3);
        send();
        QVERIFY(failed.wait(60000));
        const QString message = failed.first().at(1).toString(), details = failed.first().at(2).toString();
        QVERIFY2(message.contains(QStringLiteral("unloaded")), qPrintable(message));
        QVERIFY2(details.contains(QStringLiteral("model file changed on disk: ") + QString::fromStdString(shard.string())),
                 qPrintable(details));
        QVERIFY(!raw->isLoaded());  // the worker has settled this request: no call is in flight
    }
};

QTEST_MAIN(TstModelChanged)
#include "tst_modelchanged.moc"
