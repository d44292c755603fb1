// The model library dialog: models already on disk (Hugging Face hub cache, the app's models folder, recent
// folders) with layout, template, dtype, size, completeness and the memory plan for this machine; a
// Download tab that pulls a LLaVA v1.6 repository from the Hub into the hub cache with progress (bytes,
// speed, ETA per file and in total) and cancel. "Open" emits openModelRequested(dir) for the main window
// to load; after a download completes the new model is selected and can be opened at once.
// Self-contained: knows nothing of MainWindow; the caller connects openModelRequested to its loader.
#pragma once

#include <QDialog>

#include <optional>
#include <vector>

#include "hubconfig.h"
#include "llava/memoryplan.h"
#include "llava/modellibrary.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace hub {
class HubDownloader;
struct DownloadProgress;
}  // namespace hub

class ModelLibraryDialog : public QDialog {
    Q_OBJECT
public:
    // From the environment: hub cache, HF_ENDPOINT, HF_TOKEN; the app's models folder; recent folders.
    explicit ModelLibraryDialog(QWidget* parent = nullptr);
    ModelLibraryDialog(hub::HubConfig hubConfig, llava::LibraryLocations locations, QWidget* parent = nullptr);
    ~ModelLibraryDialog() override;

    // What the plan is checked against: the device the next load will use and its free bytes (the main
    // window knows whether CUDA is chosen; default: CPU with MemAvailable).
    void setPlanTarget(llava::PlanDevice device, quint64 availableBytes);
    void setContextLength(int tokens);
    const std::vector<llava::LibraryEntry>& entries() const { return m_entries; }
    int selectedRow() const;
    // The largest precision that fits for the selected model (nullopt: nothing fits or nothing selected).
    std::optional<llava::WeightPrecision> recommendedPrecision() const;
    hub::HubDownloader& downloader() { return *m_downloader; }

public slots:
    void refresh();
    void startDownload(const QString& repoId, const QString& revision);
    void cancelDownload();

signals:
    void openModelRequested(const QString& dir);

private:
    void buildLibraryTab(QTabWidget* tabs);
    void buildDownloadTab(QTabWidget* tabs);
    void showPlan();
    void selectDir(const QString& dir);
    void onProgress(const hub::DownloadProgress& progress);
    void onDownloadEnded(const QString& snapshotDir, const QString& error, bool cancelled);
    void setDownloading(bool running);

    hub::HubConfig m_hubConfig;
    llava::LibraryLocations m_locations;
    hub::HubDownloader* m_downloader = nullptr;
    std::vector<llava::LibraryEntry> m_entries;
    std::optional<llava::MemoryPlan> m_plan;
    llava::PlanDevice m_device = llava::PlanDevice::Cpu;
    quint64 m_available = 0;
    QString m_downloadedDir;

    QTabWidget* m_tabs = nullptr;
    QTableWidget* m_list = nullptr;
    QTableWidget* m_planTable = nullptr;
    QLabel* m_planSummary = nullptr;
    QSpinBox* m_context = nullptr;
    QPushButton* m_open = nullptr;
    QComboBox* m_repo = nullptr;
    QLineEdit* m_revision = nullptr;
    QPushButton* m_download = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_openDownloaded = nullptr;
    QProgressBar* m_fileBar = nullptr;
    QProgressBar* m_totalBar = nullptr;
    QLabel* m_fileLabel = nullptr;
    QLabel* m_totalLabel = nullptr;
    QPlainTextEdit* m_log = nullptr;
};
