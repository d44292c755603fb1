// See contextmeter.h.
#include "contextmeter.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace {
constexpr int kContextStep = 1024;  // reload suggestions are whole KiB-token steps

QString number(int n) { return QLocale().toString(n); }

QString joined(const std::vector<int>& counts, std::size_t from, std::size_t to) {
    QStringList parts;
    for (std::size_t i = from; i < to; ++i) parts << number(counts[i]);
    return parts.join(QStringLiteral(" + "));
}
}  // namespace

ContextMeter::ContextMeter(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(2);
    auto* top = new QHBoxLayout;
    m_bar = new QProgressBar(this);
    m_bar->setFixedWidth(120);
    m_bar->setMaximumHeight(14);
    m_bar->setTextVisible(false);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_bar, 0, Qt::AlignVCenter);
    top->addWidget(m_summary, 1);
    outer->addLayout(top);

    m_warningRow = new QWidget(this);
    auto* row = new QHBoxLayout(m_warningRow);
    row->setContentsMargins(0, 0, 0, 0);
    m_warning = new QLabel(m_warningRow);
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(QStringLiteral("color: #d9480f;"));
    m_newChat = new QPushButton(m_warningRow);
    m_reload = new QPushButton(m_warningRow);
    row->addWidget(m_warning, 1);
    row->addWidget(m_newChat, 0, Qt::AlignTop);
    row->addWidget(m_reload, 0, Qt::AlignTop);
    outer->addWidget(m_warningRow);
    connect(m_newChat, &QPushButton::clicked, this, &ContextMeter::newChatRequested);
    connect(m_reload, &QPushButton::clicked, this, [this] {
        if (m_suggested > 0) emit reloadRequested(m_suggested);
    });
    render();
}

void ContextMeter::setForecast(const ContextForecast& forecast) {
    if (forecast.state == ContextForecast::State::Pending && m_haveNumbers) return;  // keep the last numbers
    m_forecast = forecast;
    m_haveNumbers = forecast.state == ContextForecast::State::Ready;
    render();
}

QString ContextMeter::summaryText() const { return m_summary->text(); }
QString ContextMeter::warningText() const { return m_warningRow->isHidden() ? QString() : m_warning->text(); }

void ContextMeter::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) render();
    QWidget::changeEvent(event);
}

void ContextMeter::render() {
    const ContextForecast& f = m_forecast;
    setVisible(f.state != ContextForecast::State::NoModel);
    m_warningRow->hide();
    m_suggested = 0;
    m_bar->setAccessibleName(tr("Context used"));
    if (f.state == ContextForecast::State::Pending) {
        m_summary->setText(tr("Context: counting…"));
        return;
    }
    if (f.state == ContextForecast::State::Failed) {
        m_summary->setText(tr("Context: cannot be counted: %1").arg(f.error));
        m_bar->setValue(0);
        return;
    }
    if (f.state != ContextForecast::State::Ready) return;
    const llava::ContextPlan& p = f.plan;
    const int used = p.neededTokens();
    m_bar->setRange(0, std::max(1, p.contextLimit));
    m_bar->setValue(std::min(used, p.contextLimit));
    const QString images = p.imageTokens.empty()
                               ? QString()
                               : tr(" · images %1").arg(joined(p.imageTokens, 0, p.imageTokens.size()));
    m_summary->setText(tr("Context after Send: %1 of %2 tokens (%3%): chat so far %4, this message %5 "
                          "(with 1 for the reply)%6")
                           .arg(number(used), number(p.contextLimit))
                           .arg(100.0 * used / std::max(1, p.contextLimit), 0, 'f', 1)
                           .arg(number(p.earlierTokens), number(p.messageTokens()), images));
    m_bar->setToolTip(m_summary->text());
    if (p.fits()) return;

    const std::size_t mine = p.imageTokens.size() - std::size_t(p.messageImages);
    QString text = tr("Too long by %1 tokens: this message needs %2 (%3) but %4 of the %5-token context are free.")
                       .arg(number(used - p.contextLimit), number(p.messageTokens()),
                            p.messageImages > 0 ? tr("images %1").arg(joined(p.imageTokens, mine, p.imageTokens.size()))
                                                : tr("text only"),
                            number(std::max(0, p.freeTokens())), number(p.contextLimit));
    const int rounded = (used + kContextStep - 1) / kContextStep * kContextStep;
    m_suggested = f.maxContext > 0 ? (used <= f.maxContext ? std::min(rounded, f.maxContext) : 0) : rounded;
    QStringList ways;
    if (p.messageImages > 0) ways << tr("remove an image");
    if (p.earlierTokens > 0) ways << tr("start a new chat");
    if (m_suggested > 0) ways << tr("reload the model with a context of %1 tokens").arg(number(m_suggested));
    else ways << tr("shorten the message (the model holds at most %1 tokens)").arg(number(f.maxContext));
    text += QLatin1Char(' ') + tr("Ways out: %1.").arg(ways.join(QStringLiteral("; ")));
    m_warning->setText(text);
    m_newChat->setText(tr("New chat"));
    m_newChat->setVisible(p.earlierTokens > 0);
    m_reload->setText(tr("Reload with %1").arg(number(m_suggested)));
    m_reload->setVisible(m_suggested > 0);
    m_warningRow->show();
}
