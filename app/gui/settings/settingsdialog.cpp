#include "settingsdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QPlainTextEdit>
#include <QSpinBox>

namespace {
QComboBox* combo(QWidget* parent, const QList<QPair<QString, QString>>& items, const QString& current) {
    auto* c = new QComboBox(parent);
    for (const auto& [label, value] : items) c->addItem(label, value);
    c->setCurrentIndex(std::max(0, c->findData(current)));
    return c;
}
}  // namespace

SettingsDialog::SettingsDialog(const AppSettings& s, QWidget* parent) : QDialog(parent), m_base(s) {
    setWindowTitle(tr("Settings"));
    auto* form = new QFormLayout(this);
    m_backend = combo(this, {{tr("Automatic (CUDA when available)"), "auto"}, {tr("CPU"), "cpu"}, {tr("CUDA"), "cuda"}}, s.backend);
    m_threads = new QSpinBox(this);
    m_threads->setRange(0, 1024);
    m_threads->setSpecialValueText(tr("All cores"));
    m_threads->setValue(s.threads);
    m_precision = combo(this, {{tr("As stored"), "as-stored"}, {"fp16", "f16"}, {"fp32", "f32"}, {"int8", "q8"}, {"int4", "q4"}}, s.precision);
    m_context = new QSpinBox(this);
    m_context->setRange(256, 131072);
    m_context->setSingleStep(512);
    m_context->setValue(s.contextLength);
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(s.temperature);
    m_topP = new QDoubleSpinBox(this);
    m_topP->setRange(0, 1);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(s.topP);
    m_topK = new QSpinBox(this);
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("Off"));
    m_topK->setValue(s.topK);
    m_maxNew = new QSpinBox(this);
    m_maxNew->setRange(1, 32768);
    m_maxNew->setValue(s.maxNewTokens);
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 2147483647);
    m_seed->setValue(int(s.seed));
    m_fixedSeed = new QCheckBox(tr("Use this seed for every answer (reproducible; Regenerate repeats the answer)"), this);
    m_fixedSeed->setChecked(s.fixedSeed);
    m_seed->setEnabled(s.fixedSeed);
    connect(m_fixedSeed, &QCheckBox::toggled, m_seed, &QWidget::setEnabled);
    m_system = new QPlainTextEdit(s.systemPrompt, this);
    m_system->setMaximumHeight(80);
    m_system->setTabChangesFocus(true);
    m_reference = combo(this, {{tr("From the checkpoint layout"), "auto"}, {tr("Original (haotian-liu/LLaVA)"), "original"},
                               {tr("Transformers (llava-hf)"), "transformers"}}, s.reference);
    m_theme = combo(this, {{tr("System"), "system"}, {tr("Light"), "light"}, {tr("Dark"), "dark"}}, s.theme);
    m_language = combo(this, {{tr("System"), "system"}, {"English", "en"}, {QStringLiteral("简体中文"), "zh_CN"}}, s.language);
    form->addRow(tr("&Backend:"), m_backend);
    form->addRow(tr("CPU &threads:"), m_threads);
    form->addRow(tr("&Precision:"), m_precision);
    form->addRow(tr("&Context length:"), m_context);
    form->addRow(tr("T&emperature:"), m_temperature);
    form->addRow(tr("Top-&p:"), m_topP);
    form->addRow(tr("Top-&k:"), m_topK);
    form->addRow(tr("&Max new tokens:"), m_maxNew);
    form->addRow(tr("&Seed:"), m_seed);
    form->addRow(QString(), m_fixedSeed);
    form->addRow(tr("S&ystem prompt:"), m_system);
    form->addRow(tr("&Reference flavour:"), m_reference);
    form->addRow(tr("T&heme:"), m_theme);
    form->addRow(tr("&Language:"), m_language);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
}

AppSettings SettingsDialog::settings() const {
    AppSettings s = m_base;
    s.backend = m_backend->currentData().toString();
    s.threads = m_threads->value();
    s.precision = m_precision->currentData().toString();
    s.contextLength = m_context->value();
    s.temperature = m_temperature->value();
    s.topP = m_topP->value();
    s.topK = m_topK->value();
    s.maxNewTokens = m_maxNew->value();
    s.seed = m_seed->value();
    s.fixedSeed = m_fixedSeed->isChecked();
    s.systemPrompt = m_system->toPlainText();
    s.reference = m_reference->currentData().toString();
    s.theme = m_theme->currentData().toString();
    s.language = m_language->currentData().toString();
    return s;
}
