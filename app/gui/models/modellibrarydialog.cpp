// See modellibrarydialog.h. Library scan and plan are core calls on the GUI thread: they read file headers
// only (milliseconds even for 34B checkpoints); the download runs on the event loop (Qt Network).
#include "models/modellibrarydialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "hubdownloader.h"
#include "librarylocations.h"
#include "llava/weights.h"

namespace {

QString bytesText(double bytes) {
    if (bytes >= double(1ll << 30)) return QString::number(bytes / double(1ll << 30), 'f', 2) + QStringLiteral(" GiB");
    return QString::number(bytes / double(1 << 20), 'f', 1) + QStringLiteral(" MiB");
}

QString etaText(double seconds) {
    if (seconds < 0) return QStringLiteral("--:--");
    const qint64 s = qint64(seconds + 0.5);
    return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString rateText(const hub::TransferRate& r) {
    return QObject::tr("%1 of %2, %3/s, ETA %4")
        .arg(bytesText(double(r.doneBytes)), bytesText(double(r.totalBytes)), bytesText(r.bytesPerSecond), etaText(r.etaSeconds));
}

int percent(const hub::TransferRate& r) { return r.totalBytes > 0 ? int(100.0 * double(r.doneBytes) / double(r.totalBytes)) : 0; }

}  // namespace

ModelLibraryDialog::ModelLibraryDialog(QWidget* parent)
    : ModelLibraryDialog(hub::hubConfigFromEnvironment(llava::processEnvironment()), hub::defaultLibraryLocations(), parent) {}

ModelLibraryDialog::ModelLibraryDialog(hub::HubConfig hubConfig, llava::LibraryLocations locations, QWidget* parent)
    : QDialog(parent), m_hubConfig(std::move(hubConfig)), m_locations(std::move(locations)) {
    setWindowTitle(tr("Model library"));
    resize(900, 620);
    m_downloader = new hub::HubDownloader(m_hubConfig, this);
    auto* layout = new QVBoxLayout(this);
    m_tabs = new QTabWidget(this);
    layout->addWidget(m_tabs);
    buildLibraryTab(m_tabs);
    buildDownloadTab(m_tabs);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    if (auto host = llava::availableHostMemory(); host.isOk()) m_available = *host;
    refresh();
}

ModelLibraryDialog::~ModelLibraryDialog() = default;

void ModelLibraryDialog::buildLibraryTab(QTabWidget* tabs) {
    auto* page = new QWidget(tabs);
    auto* v = new QVBoxLayout(page);
    m_list = new QTableWidget(0, 8, page);
    m_list->setHorizontalHeaderLabels({tr("Model"), tr("Source"), tr("Layout"), tr("Template"), tr("Dtype"), tr("Size"),
                                       tr("Complete"), tr("Fits")});
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    v->addWidget(m_list, 3);
    auto* planRow = new QHBoxLayout;
    planRow->addWidget(new QLabel(tr("Context (tokens):"), page));
    m_context = new QSpinBox(page);
    m_context->setRange(16, 1 << 20);
    m_context->setValue(4096);
    planRow->addWidget(m_context);
    m_planSummary = new QLabel(page);
    m_planSummary->setWordWrap(true);
    planRow->addWidget(m_planSummary, 1);
    v->addLayout(planRow);
    m_planTable = new QTableWidget(0, 6, page);
    m_planTable->setHorizontalHeaderLabels({tr("Precision"), tr("Weights"), tr("KV cache"), tr("Scratch"), tr("Total"), tr("Fits")});
    m_planTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_planTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    v->addWidget(m_planTable, 2);
    auto* buttons = new QHBoxLayout;
    auto* refreshButton = new QPushButton(tr("Refresh"), page);
    m_open = new QPushButton(tr("Open"), page);
    buttons->addWidget(refreshButton);
    buttons->addStretch(1);
    buttons->addWidget(m_open);
    v->addLayout(buttons);
    connect(refreshButton, &QPushButton::clicked, this, &ModelLibraryDialog::refresh);
    connect(m_list, &QTableWidget::itemSelectionChanged, this, &ModelLibraryDialog::showPlan);
    connect(m_context, &QSpinBox::valueChanged, this, &ModelLibraryDialog::showPlan);
    connect(m_open, &QPushButton::clicked, this, [this] {
        const int row = selectedRow();
        if (row >= 0) emit openModelRequested(QString::fromStdString(m_entries[std::size_t(row)].dir.string()));
    });
    tabs->addTab(page, tr("Library"));
}

void ModelLibraryDialog::buildDownloadTab(QTabWidget* tabs) {
    auto* page = new QWidget(tabs);
    auto* v = new QVBoxLayout(page);
    auto* form = new QFormLayout;
    m_repo = new QComboBox(page);
    m_repo->setEditable(true);  // free entry of any repo id
    m_repo->addItems(hub::supportedRepositories());
    m_revision = new QLineEdit(QStringLiteral("main"), page);
    form->addRow(tr("Repository:"), m_repo);
    form->addRow(tr("Revision:"), m_revision);
    form->addRow(tr("Into:"), new QLabel(m_hubConfig.cacheDir + QStringLiteral("  (") + m_hubConfig.endpoint.toString() +
                                             (m_hubConfig.token.isEmpty() ? QString() : tr(", with a token")) + QStringLiteral(")"),
                                         page));
    v->addLayout(form);
    m_fileLabel = new QLabel(page);
    m_fileBar = new QProgressBar(page);
    m_totalLabel = new QLabel(page);
    m_totalBar = new QProgressBar(page);
    v->addWidget(m_fileLabel);
    v->addWidget(m_fileBar);
    v->addWidget(m_totalLabel);
    v->addWidget(m_totalBar);
    m_log = new QPlainTextEdit(page);
    m_log->setReadOnly(true);
    v->addWidget(m_log, 1);
    auto* buttons = new QHBoxLayout;
    m_download = new QPushButton(tr("Download"), page);
    m_cancel = new QPushButton(tr("Cancel"), page);
    m_openDownloaded = new QPushButton(tr("Open downloaded model"), page);
    m_cancel->setEnabled(false);
    m_openDownloaded->setEnabled(false);
    buttons->addWidget(m_download);
    buttons->addWidget(m_cancel);
    buttons->addStretch(1);
    buttons->addWidget(m_openDownloaded);
    v->addLayout(buttons);
    connect(m_download, &QPushButton::clicked, this, [this] { startDownload(m_repo->currentText(), m_revision->text()); });
    connect(m_cancel, &QPushButton::clicked, this, &ModelLibraryDialog::cancelDownload);
    connect(m_openDownloaded, &QPushButton::clicked, this, [this] {
        if (!m_downloadedDir.isEmpty()) emit openModelRequested(m_downloadedDir);
    });
    connect(m_downloader, &hub::HubDownloader::progressChanged, this, &ModelLibraryDialog::onProgress);
    connect(m_downloader, &hub::HubDownloader::messageLogged, m_log, &QPlainTextEdit::appendPlainText);
    connect(m_downloader, &hub::HubDownloader::finished, this, [this](const QString& dir) { onDownloadEnded(dir, {}, false); });
    connect(m_downloader, &hub::HubDownloader::failed, this, [this](const QString& error) { onDownloadEnded({}, error, false); });
    connect(m_downloader, &hub::HubDownloader::cancelled, this, [this] { onDownloadEnded({}, {}, true); });
    tabs->addTab(page, tr("Download"));
}

void ModelLibraryDialog::setPlanTarget(llava::PlanDevice device, quint64 availableBytes) {
    m_device = device;
    m_available = availableBytes;
    refresh();
}

void ModelLibraryDialog::setContextLength(int tokens) { m_context->setValue(tokens); }

int ModelLibraryDialog::selectedRow() const {
    const auto rows = m_list->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
}

std::optional<llava::WeightPrecision> ModelLibraryDialog::recommendedPrecision() const {
    return m_plan ? m_plan->recommended : std::nullopt;
}

void ModelLibraryDialog::refresh() {
    const QString selected = selectedRow() >= 0 ? QString::fromStdString(m_entries[std::size_t(selectedRow())].dir.string()) : QString();
    m_entries = llava::scanLibrary(m_locations);
    m_list->setRowCount(int(m_entries.size()));
    for (int r = 0; r < int(m_entries.size()); ++r) {
        const llava::LibraryEntry& e = m_entries[std::size_t(r)];
        llava::MemoryPlanOptions options;
        options.device = m_device;
        options.contextLength = m_context->value();
        options.availableBytes = m_available;
        const llava::MemoryPlan plan = llava::planMemory(e.config.value_or(llava::ModelConfig{}), llava::tensorPointers(e), options);
        QStringList fits;
        for (const auto& row : plan.rows)
            if (row.fits) fits << QString::fromLatin1(llava::weightPrecisionName(row.precision).data());
        const QString refs = e.refs.empty() ? QString() : QStringLiteral(" @") + QString::fromStdString(e.refs.front());
        const QStringList cells = {
            QString::fromStdString(e.name) + refs,
            QString::fromLatin1(llava::librarySourceName(e.source).data()),
            e.layout ? QString::fromLatin1(llava::layoutName(*e.layout).data()) : tr("unknown"),
            QString::fromStdString(e.templateName),
            QString::fromStdString(e.storedDtype),
            bytesText(double(e.sizeOnDisk)),
            e.complete ? tr("yes") : tr("no: %1").arg(QString::fromStdString(e.problems.empty() ? "" : e.problems.front())),
            e.config ? (fits.isEmpty() ? tr("nothing fits") : fits.join(QStringLiteral(", "))) : QString()};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setToolTip(c == 6 ? QString::fromStdString([&] {
                std::string all;
                for (const auto& p : e.problems) all += p + "\n";
                return all;
            }()) : QString::fromStdString(e.dir.string()));
            m_list->setItem(r, c, item);
        }
    }
    if (!selected.isEmpty()) selectDir(selected);
    else if (!m_entries.empty()) m_list->selectRow(0);
    showPlan();
}

void ModelLibraryDialog::selectDir(const QString& dir) {
    for (int r = 0; r < int(m_entries.size()); ++r)
        if (QString::fromStdString(m_entries[std::size_t(r)].dir.string()) == dir) m_list->selectRow(r);
}

void ModelLibraryDialog::showPlan() {
    const int row = selectedRow();
    m_plan.reset();
    m_planTable->setRowCount(0);
    if (row < 0 || !m_entries[std::size_t(row)].config) {
        m_planSummary->setText(row < 0 ? tr("No model selected.") : tr("No config.json: no plan."));
        m_open->setEnabled(false);
        return;
    }
    const llava::LibraryEntry& e = m_entries[std::size_t(row)];
    llava::MemoryPlanOptions options;
    options.device = m_device;
    options.contextLength = m_context->value();
    options.availableBytes = m_available;
    m_plan = llava::planMemory(*e.config, llava::tensorPointers(e), options);
    m_planTable->setRowCount(int(m_plan->rows.size()));
    for (int r = 0; r < int(m_plan->rows.size()); ++r) {
        const auto& p = m_plan->rows[std::size_t(r)];
        const QStringList cells = {QString::fromLatin1(llava::weightPrecisionName(p.precision).data()),
                                   bytesText(double(p.weightBytes)), bytesText(double(p.kvCacheBytes)),
                                   bytesText(double(p.scratchBytes)), bytesText(double(p.totalBytes())),
                                   p.fits ? tr("yes") : tr("no")};
        for (int c = 0; c < cells.size(); ++c) m_planTable->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    const QString where = m_device == llava::PlanDevice::Cuda ? tr("GPU memory") : tr("RAM");
    m_planSummary->setText(m_plan->recommended
                               ? tr("%1 free %2; recommended: %3")
                                     .arg(bytesText(double(m_available)), where,
                                          QString::fromLatin1(llava::weightPrecisionName(*m_plan->recommended).data()))
                               : tr("Nothing fits in %1 of free %2: use a shorter context or a smaller model.")
                                     .arg(bytesText(double(m_available)), where));
    m_open->setEnabled(e.complete && m_plan->recommended.has_value());
}

void ModelLibraryDialog::startDownload(const QString& repoId, const QString& revision) {
    if (m_downloader->isRunning()) return;
    m_tabs->setCurrentIndex(1);
    m_log->clear();
    m_downloadedDir.clear();
    m_openDownloaded->setEnabled(false);
    m_fileBar->setValue(0);
    m_totalBar->setValue(0);
    setDownloading(true);
    m_downloader->start(repoId, revision);
}

void ModelLibraryDialog::cancelDownload() { m_downloader->cancel(); }

void ModelLibraryDialog::setDownloading(bool running) {
    m_download->setEnabled(!running);
    m_cancel->setEnabled(running);
    m_repo->setEnabled(!running);
    m_revision->setEnabled(!running);
}

void ModelLibraryDialog::onProgress(const hub::DownloadProgress& p) {
    m_fileLabel->setText(tr("File %1 of %2: %3 — %4").arg(p.fileIndex + 1).arg(p.fileCount).arg(p.file, rateText(p.current)));
    m_totalLabel->setText(tr("Total: %1").arg(rateText(p.total)));
    m_fileBar->setValue(percent(p.current));
    m_totalBar->setValue(percent(p.total));
}

void ModelLibraryDialog::onDownloadEnded(const QString& snapshotDir, const QString& error, bool cancelled) {
    setDownloading(false);
    if (cancelled) {
        m_log->appendPlainText(tr("Cancelled. The partial file is kept; Download resumes it."));
        return;
    }
    if (!error.isEmpty()) {
        m_log->appendPlainText(tr("Failed: %1").arg(error));
        return;
    }
    m_downloadedDir = snapshotDir;
    m_log->appendPlainText(tr("Done: %1").arg(snapshotDir));
    m_openDownloaded->setEnabled(true);
    m_fileBar->setValue(100);
    m_totalBar->setValue(100);
    // The library remembers it: it is in the hub cache, which the library scans.
    refresh();
    selectDir(snapshotDir);
}
