// See modelcontroller.h.
#include "models/modelcontroller.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>

#include "appinit.h"
#include "backendreportdialog.h"
#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "models/loadplandialog.h"
#include "models/modellibrarydialog.h"
#include "noticebar.h"
#include "serving/servecontroller.h"
#include "statuspanel.h"

namespace {
void setReference(const AppSettings& settings, LoadRequest& request) {
    llava::Reference reference{};
    if (llava::parseReference(settings.reference.toStdString(), &reference)) request.reference = reference;
}
}  // namespace

ModelController::ModelController(AppSettings& settings, InferenceController* inference, Views views, QString dataDir,
                                 quint64 hostMemoryBudget, QObject* parent)
    : QObject(parent), m_settings(settings), m_inference(inference), m_views(views), m_dataDir(std::move(dataDir)),
      m_hostMemoryBudget(hostMemoryBudget), m_serve(new ServeController(inference, this)) {
    connect(m_views.status, &StatusPanel::cancelLoadRequested, m_inference, &InferenceController::cancelLoad);
    connect(m_inference, &InferenceController::loadProgressChanged, m_views.status, &StatusPanel::setLoadProgress);
    connect(m_inference, &InferenceController::loadFinished, this, &ModelController::onLoadFinished);
    connect(m_inference, &InferenceController::loadFailed, this, &ModelController::onLoadFailed);
    connect(m_views.serveAction, &QAction::triggered, this, &ModelController::setServing);
}

void ModelController::loadModel(const QString& dir, bool randomWeights, std::optional<llava::WeightPrecision> precision) {
    LoadRequest request;
    request.modelDir = dir;
    request.randomWeights = randomWeights;
    request.threads = m_settings.threads;
    request.contextLength = m_settings.contextLength;
    if (m_settings.backend == QLatin1String("cpu")) request.backend = llava::BackendKind::Cpu;
    if (m_settings.backend == QLatin1String("cuda")) request.backend = llava::BackendKind::Cuda;
    llava::WeightPrecision chosen{};
    if (precision) request.precision = *precision;
    else if (llava::parseWeightPrecision(m_settings.precision.toStdString(), &chosen)) request.precision = chosen;
    setReference(m_settings, request);
    request.weightCache = m_settings.weightCache;
    request.weightCacheDir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/weights");
    m_views.status->setLoading(QFileInfo(dir).fileName(), randomWeights);
    m_inference->loadModel(request);
}

void ModelController::loadDemoModel() { loadModel(m_dataDir + QStringLiteral("/demo-model"), true); }

void ModelController::openModelChecked(const QString& dir) {
    llava::WeightPrecision requested = llava::WeightPrecision::AsStored;
    (void)llava::parseWeightPrecision(m_settings.precision.toStdString(), &requested);  // unknown text: as stored
    // CUDA (chosen, or possible under Auto in a CUDA build): its free memory is checked by the backend at load.
    const bool cuda = m_settings.backend == QLatin1String("cuda") || (m_settings.backend != QLatin1String("cpu") && cudaBackendBuilt());
    quint64 available = m_hostMemoryBudget;
    if (!cuda && available == 0)
        if (auto host = llava::availableHostMemory(); host.isOk()) available = *host;
    const LoadAdvice advice = adviseLoad(dir, requested, cuda ? llava::PlanDevice::Cuda : llava::PlanDevice::Cpu,
                                         cuda ? 0 : available, m_settings.contextLength);
    if (advice.canLoadAsRequested() || !dialogsAllowed()) {  // scripts: the load itself refuses with the numbers
        loadModel(dir, false);
        return;
    }
    LoadPlanDialog dialog(advice, m_views.dialogParent);
    if (dialog.exec() == QDialog::Accepted && dialog.chosenPrecision()) loadModel(dir, false, dialog.chosenPrecision());
}

void ModelController::openModelFolder() {
    const QString dir = QFileDialog::getExistingDirectory(m_views.dialogParent, tr("Open a LLaVA v1.6 model folder"));
    if (!dir.isEmpty()) openModelChecked(dir);
}

void ModelController::showModelLibrary() {
    auto* dialog = new ModelLibraryDialog(m_views.dialogParent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setContextLength(m_settings.contextLength);
    connect(dialog, &ModelLibraryDialog::openModelRequested, this, [this, dialog](const QString& dir) {
        dialog->accept();
        openModelChecked(dir);
    });
    dialog->show();
}

void ModelController::fillRecentMenu(QMenu* menu) {
    menu->clear();
    for (const QString& dir : m_settings.recentModels) menu->addAction(dir, this, [this, dir] { openModelChecked(dir); });
    if (m_settings.recentModels.isEmpty()) menu->addAction(tr("(none)"))->setEnabled(false);
}

void ModelController::reloadWithContext(int contextLength) {
    const auto& model = m_views.status->model();
    if (!model) return;
    m_settings.contextLength = contextLength;
    QSettings qs;
    m_settings.save(qs);
    loadModel(model->modelDir, model->randomWeights);
}

void ModelController::connectToServer() {
    LoadRequest request;
    request.remote = remoteEndpointOf(m_settings);
    request.contextLength = m_settings.contextLength;
    setReference(m_settings, request);
    m_views.status->setLoading(m_settings.remoteUrl, false);
    m_inference->loadModel(request);
}

void ModelController::applyBackendChange(const AppSettings& before) {
    const bool serverChanged = before.remoteUrl != m_settings.remoteUrl || before.remoteApiKey != m_settings.remoteApiKey ||
                               before.remoteModel != m_settings.remoteModel || before.remoteConfig != m_settings.remoteConfig;
    const bool remoteNow = m_views.status->model() && m_views.status->model()->backend == QLatin1String("remote");
    if (m_settings.usesServer() && (!remoteNow || serverChanged)) return connectToServer();
    if (m_settings.usesServer() || !remoteNow) return;
    if (m_localModel) {  // still loaded: switch back at once
        LoadRequest request;
        request.reuseLocal = true;
        m_views.status->setLoading(m_localModel->name, false);
        m_inference->loadModel(request);
    } else if (!m_settings.lastModel.isEmpty() && QDir(m_settings.lastModel).exists()) {
        loadModel(m_settings.lastModel, false);
    } else {
        loadDemoModel();
    }
}

void ModelController::setServing(bool on) {
    if (!on) {
        if (m_serve->isRunning()) {
            m_serve->stop();
            m_views.notices->dismiss(QStringLiteral("serving"));
        }
        return updateServeAction();
    }
    if (m_serve->isRunning()) return updateServeAction();
    if (!m_localModel) {
        emit message(tr("Load a local model first: only a model loaded on this computer can be served."));
        return updateServeAction();
    }
    QString error;
    if (!m_serve->start(*m_localModel, quint16(m_settings.servePort), &error)) {
        m_views.notices->show(QStringLiteral("serving"), tr("Could not serve on 127.0.0.1:%1: %2 (choose another port in Settings → Backend).")
                                                             .arg(m_settings.servePort)
                                                             .arg(error));
        return updateServeAction();
    }
    m_views.notices->show(QStringLiteral("serving"),
                          tr("Serving %1 at %2 for programs on this computer (OpenAI-compatible; see docs/serving.md). "
                             "Requests share this window's model and wait for its answers.")
                              .arg(m_localModel->name, m_serve->url()),
                          tr("Stop serving"), [this] { setServing(false); });
    updateServeAction();
}

void ModelController::updateServeAction() {
    QAction* serve = m_views.serveAction;
    serve->setChecked(m_serve->isRunning());
    serve->setEnabled(m_serve->isRunning() || m_localModel.has_value());
    serve->setText(m_serve->isRunning() ? tr("Stop &serving (%1)").arg(m_serve->url())
                                        : tr("&Serve this model on localhost:%1").arg(m_settings.servePort));
}

QString ModelController::windowTitle() const {
    const auto& model = m_views.status->model();
    if (!model) return tr("No model loaded");
    if (model->randomWeights && model->name.contains(QStringLiteral("random weights")))
        return tr("%1 — answers are meaningless").arg(model->name);
    if (model->randomWeights) return tr("%1 (random weights — answers are meaningless)").arg(model->name);
    if (model->backend == QLatin1String("remote")) return tr("%1 — via server %2").arg(model->name, model->device);
    return model->name;
}

QString ModelController::bannerText() const {
    const auto& model = m_views.status->model();
    return model && model->randomWeights ? tr("Demo model with random weights — answers are meaningless. "
                                              "Open a LLaVA v1.6 folder (Models → Open model folder) for real answers.")
                                         : QString();
}

void ModelController::onLoadFinished(const ModelInfo& info) {
    m_views.status->setLoaded(info);
    rememberLoaded(info);
    updateServeAction();
    const QString backendNotice = BackendReportDialog::loadNotice(info);
    if (backendNotice.isEmpty()) m_views.notices->dismiss(QStringLiteral("backend"));
    else m_views.notices->show(QStringLiteral("backend"), backendNotice, tr("Self-check report"), [this] { emit backendReportRequested(); });
    emit modelLoaded();
}

// A local model: the one to serve from now on (a different one stops the old server: its requests are
// cancelled), a recent model unless it is random, and "local" in Settings if a server was answering.
void ModelController::rememberLoaded(const ModelInfo& info) {
    if (info.backend == QLatin1String("remote")) return;
    if (m_serve->isRunning() && (!m_localModel || m_localModel->modelDir != info.modelDir)) setServing(false);
    m_localModel = info;
    const bool openedFolder = m_settings.usesServer();  // a local folder was opened: local from now on
    if (openedFolder) m_settings.engine = QStringLiteral("local");
    if (!info.randomWeights) m_settings.addRecentModel(info.modelDir);
    if (openedFolder || !info.randomWeights) {
        QSettings qs;
        m_settings.save(qs);
    }
}

void ModelController::onLoadFailed(const QString& text, const QString& details, bool stillLoaded) {
    m_views.status->setLoadFailed(details.left(200), stillLoaded);
    if (!stillLoaded) {
        m_localModel.reset();
        setServing(false);
    }
    const QString kept = stillLoaded && m_views.status->model()
                             ? tr("%1 is still loaded and answers as before.").arg(m_views.status->model()->name)
                             : tr("No model is loaded now.");
    QMessageBox box(QMessageBox::Warning, tr("Could not load the model"), text, QMessageBox::Ok, m_views.dialogParent);
    box.setInformativeText(details.left(300) + QStringLiteral("\n\n") + kept);
    box.setDetailedText(details);
    emit loadFailed(stillLoaded);  // the window shows the state it is left in behind the dialog
    if (dialogsAllowed()) box.exec();
}
