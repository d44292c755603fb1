// Loads the built-in demo model (random weights, CPU backend, 2 threads) through an InferenceController and
// waits for it: the real engine for app tests that need one (tst_endtoend, tst_contextplan). Header-only, so
// tests that link only llava_app can use it.
#pragma once

#include <QSignalSpy>
#include <QString>

#include "inference/inferencecontroller.h"

namespace apptest {

// Empty on success (info set), else why the load failed or that it timed out. The model is written into
// <dataDir>/demo-model first.
inline QString loadDemoModel(InferenceController& controller, const QString& dataDir, int contextLength, ModelInfo* info) {
    QSignalSpy loaded(&controller, &InferenceController::loadFinished);
    QSignalSpy failed(&controller, &InferenceController::loadFailed);
    LoadRequest request;
    request.modelDir = dataDir + QStringLiteral("/demo-model");
    request.randomWeights = true;
    request.backend = llava::BackendKind::Cpu;
    request.threads = 2;
    request.contextLength = contextLength;
    controller.loadModel(request);
    if (!loaded.wait(120000)) return failed.isEmpty() ? QStringLiteral("timeout") : failed.first().at(1).toString();
    *info = loaded.first().at(0).value<ModelInfo>();
    return {};
}

}  // namespace apptest
