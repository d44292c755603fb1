// The memory plan before "Open model folder" loads anything (issue 11 item 3 on the plain open path; the
// library dialog routes its Open through here too). adviseLoad() reads the folder's headers (no mapping,
// no weights) and plans the requested precision against free memory; when it fits and the folder is
// complete the main window loads at once. Otherwise LoadPlanDialog shows the plan table and either the
// precision that does fit ("Load with q8") or why nothing can load (missing shards, nothing fits), so a
// user is never sent into a load that the memory check refuses, nor into an OOM kill.
#pragma once

#include <QDialog>
#include <optional>

#include "llava/memoryplan.h"
#include "llava/modellibrary.h"

class QLabel;
class QPushButton;
class QTableWidget;

struct LoadAdvice {
    llava::LibraryEntry entry;
    std::optional<llava::MemoryPlan> plan;                // nullopt without a readable config.json
    llava::WeightPrecision requested = llava::WeightPrecision::AsStored;
    bool requestedFits = false;
    std::optional<llava::WeightPrecision> suggestion;     // the largest precision that fits, when requested does not
    bool canLoadAsRequested() const { return entry.complete && plan && requestedFits; }
};

// availableBytes 0 = unknown (CUDA: the backend checks its free memory itself): every row then fits.
LoadAdvice adviseLoad(const QString& dir, llava::WeightPrecision requested, llava::PlanDevice device,
                      quint64 availableBytes, int contextLength);

class LoadPlanDialog : public QDialog {
    Q_OBJECT
public:
    explicit LoadPlanDialog(const LoadAdvice& advice, QWidget* parent = nullptr);
    // The precision to load with after accept(): the suggestion.
    std::optional<llava::WeightPrecision> chosenPrecision() const { return m_advice.suggestion; }
    QString message() const;          // tests and screenshots
    QPushButton* loadButton() const { return m_load; }  // nullptr when nothing can be loaded

private:
    LoadAdvice m_advice;
    QLabel* m_message;
    QTableWidget* m_table;
    QPushButton* m_load = nullptr;
};
