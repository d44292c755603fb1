// See loadplandialog.h.
#include "loadplandialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace {
QString bytes(std::uint64_t n) { return QString::fromStdString(llava::formatBytes(n)); }
QString precisionText(llava::WeightPrecision p) { return QString::fromLatin1(llava::weightPrecisionName(p).data()); }
}  // namespace

LoadAdvice adviseLoad(const QString& dir, llava::WeightPrecision requested, llava::PlanDevice device,
                      quint64 availableBytes, int contextLength) {
    LoadAdvice advice;
    advice.requested = requested;
    advice.entry = llava::inspectModelFolder(QDir(dir).absolutePath().toStdString(), llava::LibrarySource::Recent);
    if (!advice.entry.config) return advice;
    llava::MemoryPlanOptions options;
    options.device = device;
    options.contextLength = contextLength;
    options.availableBytes = availableBytes;
    advice.plan = llava::planMemory(*advice.entry.config, llava::tensorPointers(advice.entry), options, requested);
    const llava::PrecisionPlan* row = advice.plan->find(requested);
    advice.requestedFits = row && row->fits;
    if (!advice.requestedFits) advice.suggestion = advice.plan->recommended;
    return advice;
}

LoadPlanDialog::LoadPlanDialog(const LoadAdvice& advice, QWidget* parent) : QDialog(parent), m_advice(advice) {
    setWindowTitle(tr("Load %1?").arg(QString::fromStdString(advice.entry.name)));
    auto* layout = new QVBoxLayout(this);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_message);
    m_table = new QTableWidget(0, 6, this);
    m_table->setHorizontalHeaderLabels({tr("Precision"), tr("Weights"), tr("KV cache"), tr("Scratch"), tr("Total"), tr("Fits")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);  // "q8 (recommended)" unwrapped
    if (advice.plan) {
        m_table->setRowCount(int(advice.plan->rows.size()));
        for (int r = 0; r < int(advice.plan->rows.size()); ++r) {
            const llava::PrecisionPlan& p = advice.plan->rows[std::size_t(r)];
            QString name = precisionText(p.precision);
            if (p.precision == advice.requested) name += tr(" (chosen in Settings)");
            if (advice.suggestion && p.precision == *advice.suggestion) name += tr(" (recommended)");
            const QStringList cells = {name, bytes(p.weightBytes), bytes(p.kvCacheBytes), bytes(p.scratchBytes),
                                       bytes(p.totalBytes()), p.fits ? tr("yes") : tr("no")};
            for (int c = 0; c < cells.size(); ++c) m_table->setItem(r, c, new QTableWidgetItem(cells[c]));
        }
    }
    m_table->setVisible(advice.plan.has_value());
    layout->addWidget(m_table, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    if (advice.entry.complete && advice.suggestion) {
        m_load = buttons->addButton(tr("Load with %1").arg(precisionText(*advice.suggestion)), QDialogButtonBox::AcceptRole);
        m_load->setDefault(true);
    }
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    m_message->setText(message());
    resize(720, 360);
}

QString LoadPlanDialog::message() const {
    const LoadAdvice& a = m_advice;
    const QString folder = QDir::toNativeSeparators(QString::fromStdString(a.entry.dir.string()));
    if (!a.entry.complete) {
        QStringList problems;
        for (const std::string& p : a.entry.problems) problems << QStringLiteral("• ") + QString::fromStdString(p);
        return tr("%1 is not a complete LLaVA v1.6 model folder, so it cannot be loaded:\n%2")
            .arg(folder, problems.join(QLatin1Char('\n')));
    }
    const QString where = a.plan->device == llava::PlanDevice::Cuda ? tr("GPU memory") : tr("RAM");
    const llava::PrecisionPlan* req = a.plan->find(a.requested);
    const QString need = req ? tr("%1 needs %2 (weights %3, KV cache %4 for %5 tokens, scratch %6)")
                                   .arg(precisionText(a.requested), bytes(req->totalBytes()), bytes(req->weightBytes),
                                        bytes(req->kvCacheBytes))
                                   .arg(a.plan->contextLength)
                                   .arg(bytes(req->scratchBytes))
                             : precisionText(a.requested);
    if (a.requestedFits) return tr("%1; %2 of %3 is free.").arg(need, bytes(a.plan->availableBytes), where);
    if (!a.suggestion)
        return tr("%1, but only %2 of %3 is free, and no precision fits. Use a shorter context (Settings → Context) "
                  "or a smaller model.")
            .arg(need, bytes(a.plan->availableBytes), where);
    const llava::PrecisionPlan* fit = a.plan->find(*a.suggestion);
    return tr("%1, but only %2 of %3 is free. %4 fits (%5): load with %4 instead? Answers at lower precision can differ "
              "slightly (docs/numerics.md).")
        .arg(need, bytes(a.plan->availableBytes), where, precisionText(*a.suggestion), bytes(fit->totalBytes()));
}
