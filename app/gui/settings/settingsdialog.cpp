#include "settingsdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "connectiontester.h"

namespace {
QComboBox* combo(QWidget* parent, const QList<QPair<QString, QString>>& items, const QString& current) {
    auto* c = new QComboBox(parent);
    for (const auto& [label, value] : items) c->addItem(label, value);
    c->setCurrentIndex(std::max(0, c->findData(current)));
    return c;
}

QLineEdit* lineEdit(QWidget* parent, const QString& objectName, const QString& text, const QString& placeholder) {
    auto* e = new QLineEdit(text, parent);
    e->setObjectName(objectName);
    e->setPlaceholderText(placeholder);
    e->setClearButtonEnabled(true);
    return e;
}
}  // namespace

SettingsDialog::SettingsDialog(const AppSettings& s, QWidget* parent) : QDialog(parent), m_base(s) {
    setWindowTitle(tr("Settings"));
    auto* layout = new QVBoxLayout(this);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(makeBackendPage(s), tr("&Backend"));
    m_tabs->addTab(makeGenerationPage(s), tr("&Generation"));
    m_tabs->addTab(makeAppearancePage(s), tr("&Appearance"));
    layout->addWidget(m_tabs);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    updateEngineChoice();
}

QWidget* SettingsDialog::makeBackendPage(const AppSettings& s) {
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    m_useLocal = new QRadioButton(tr("&Local model on this computer"), page);
    m_useLocal->setObjectName(QStringLiteral("engineLocal"));
    m_useServer = new QRadioButton(tr("&OpenAI-compatible server (vLLM, SGLang, llama-server, another Llava Insight)"), page);
    m_useServer->setObjectName(QStringLiteral("engineServer"));
    (s.usesServer() ? m_useServer : m_useLocal)->setChecked(true);
    connect(m_useLocal, &QRadioButton::toggled, this, &SettingsDialog::updateEngineChoice);

    makeLocalBox(s, page);
    makeServerBox(s, page);
    layout->addWidget(m_useLocal);
    layout->addWidget(m_localBox);
    layout->addWidget(m_useServer);
    layout->addWidget(m_serverBox);
    layout->addStretch(1);
    return page;
}

void SettingsDialog::makeLocalBox(const AppSettings& s, QWidget* page) {
    m_localBox = new QGroupBox(tr("Local model"), page);
    auto* local = new QFormLayout(m_localBox);
    m_backend = combo(m_localBox, {{tr("Automatic (CUDA when available)"), "auto"}, {tr("CPU"), "cpu"}, {tr("CUDA"), "cuda"}}, s.backend);
    m_threads = new QSpinBox(m_localBox);
    m_threads->setRange(0, 1024);
    m_threads->setSpecialValueText(tr("All cores"));
    m_threads->setValue(s.threads);
    m_precision = combo(m_localBox, {{tr("As stored"), "as-stored"}, {"fp16", "f16"}, {"fp32", "f32"}, {"int8", "q8"}, {"int4", "q4"}}, s.precision);
    m_context = new QSpinBox(m_localBox);
    m_context->setRange(256, 131072);
    m_context->setSingleStep(512);
    m_context->setValue(s.contextLength);
    m_reference = combo(m_localBox, {{tr("From the checkpoint layout"), "auto"}, {tr("Original (haotian-liu/LLaVA)"), "original"},
                                     {tr("Transformers (llava-hf)"), "transformers"}}, s.reference);
    local->addRow(tr("&Device:"), m_backend);
    local->addRow(tr("CPU &threads:"), m_threads);
    local->addRow(tr("&Precision:"), m_precision);
    m_weightCache = new QCheckBox(tr("&Keep int8/int4 weights on disk (later loads skip quantising)"), m_localBox);
    m_weightCache->setObjectName(QStringLiteral("weightCache"));
    m_weightCache->setChecked(s.weightCache);
    m_weightCache->setToolTip(tr("The first int8/int4 load writes llava-insight-q8.qcache / -q4.qcache beside the model "
                                 "(or in this app's cache folder when the model folder is read-only); later loads read it."));
    local->addRow(QString(), m_weightCache);
    local->addRow(tr("&Context length:"), m_context);
    local->addRow(tr("&Reference flavour:"), m_reference);
    m_servePort = new QSpinBox(m_localBox);
    m_servePort->setObjectName(QStringLiteral("servePort"));
    m_servePort->setRange(1, 65535);
    m_servePort->setValue(s.servePort);
    m_servePort->setToolTip(tr("Models → Serve this model: the loaded model as an OpenAI-compatible API on 127.0.0.1."));
    local->addRow(tr("Ser&ve on port:"), m_servePort);
}

void SettingsDialog::makeServerBox(const AppSettings& s, QWidget* page) {
    m_serverBox = new QGroupBox(tr("OpenAI-compatible server"), page);
    auto* server = new QFormLayout(m_serverBox);
    m_url = lineEdit(m_serverBox, QStringLiteral("remoteUrl"), s.remoteUrl, QStringLiteral("http://127.0.0.1:8000/v1"));
    m_apiKey = lineEdit(m_serverBox, QStringLiteral("remoteApiKey"), s.remoteApiKey, tr("none"));
    m_apiKey->setEchoMode(QLineEdit::Password);
    m_apiKey->setToolTip(tr("Sent as “Authorization: Bearer KEY”. Stored in a file only you can read, not in the settings file."));
    m_model = lineEdit(m_serverBox, QStringLiteral("remoteModel"), s.remoteModel, tr("the first model the server lists"));
    m_config = lineEdit(m_serverBox, QStringLiteral("remoteConfig"), s.remoteConfig, tr("a built-in preset matched by the model name"));
    m_config->setToolTip(tr("The served model's config.json: the inspector computes canvas, tiles and token counts from it. "
                            "A tokenizer.model beside it makes the local prompt counts exact."));
    auto* browse = new QPushButton(tr("Choose…"), m_serverBox);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("The served model's config.json"), m_config->text(),
                                                          tr("Model config (config.json);;JSON (*.json)"));
        if (!file.isEmpty()) m_config->setText(file);
    });
    auto* configRow = new QHBoxLayout;
    configRow->addWidget(m_config, 1);
    configRow->addWidget(browse);
    m_test = new QPushButton(tr("&Test connection"), m_serverBox);
    m_test->setObjectName(QStringLiteral("testConnection"));
    m_testResult = new QLabel(m_serverBox);
    m_testResult->setObjectName(QStringLiteral("connectionResult"));
    m_testResult->setWordWrap(true);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tester = new ConnectionTester(this);
    connect(m_test, &QPushButton::clicked, this, &SettingsDialog::testConnection);
    connect(m_tester, &ConnectionTester::finished, this, [this](bool ok, const QString& message) {
        m_test->setEnabled(true);
        // The sign says it without colour too.
        m_testResult->setText((ok ? QStringLiteral("✔ ") : QStringLiteral("✘ ")) + message);
        m_testResult->setStyleSheet(ok ? QStringLiteral("color: #2e7d32;") : QStringLiteral("color: #c62828;"));
        emit connectionTested(ok, message);
    });
    server->addRow(tr("Server &URL:"), m_url);
    server->addRow(tr("API &key:"), m_apiKey);
    server->addRow(tr("&Model name:"), m_model);
    auto* configLabel = new QLabel(tr("Inspector &config:"), m_serverBox);
    configLabel->setBuddy(m_config);  // a label for a row layout gets no buddy (and shows "&") by itself
    server->addRow(configLabel, configRow);
    server->addRow(QString(), m_test);
    server->addRow(m_testResult);  // the whole width: a long error wraps instead of being cut
}

QWidget* SettingsDialog::makeGenerationPage(const AppSettings& s) {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_temperature = new QDoubleSpinBox(page);
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(s.temperature);
    m_topP = new QDoubleSpinBox(page);
    m_topP->setRange(0, 1);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(s.topP);
    m_topK = new QSpinBox(page);
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("Off"));
    m_topK->setValue(s.topK);
    m_maxNew = new QSpinBox(page);
    m_maxNew->setRange(1, 32768);
    m_maxNew->setValue(s.maxNewTokens);
    m_seed = new QSpinBox(page);
    m_seed->setRange(0, 2147483647);
    m_seed->setValue(int(s.seed));
    m_fixedSeed = new QCheckBox(tr("Use this seed for every answer (reproducible; Regenerate repeats the answer)"), page);
    m_fixedSeed->setChecked(s.fixedSeed);
    m_seed->setEnabled(s.fixedSeed);
    connect(m_fixedSeed, &QCheckBox::toggled, m_seed, &QWidget::setEnabled);
    m_system = new QPlainTextEdit(s.systemPrompt, page);
    m_system->setMaximumHeight(80);
    m_system->setTabChangesFocus(true);
    form->addRow(tr("T&emperature:"), m_temperature);
    form->addRow(tr("Top-&p:"), m_topP);
    form->addRow(tr("Top-&k:"), m_topK);
    form->addRow(tr("&Max new tokens:"), m_maxNew);
    form->addRow(tr("&Seed:"), m_seed);
    form->addRow(QString(), m_fixedSeed);
    form->addRow(tr("S&ystem prompt:"), m_system);
    return page;
}

QWidget* SettingsDialog::makeAppearancePage(const AppSettings& s) {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_theme = combo(page, {{tr("System"), "system"}, {tr("Light"), "light"}, {tr("Dark"), "dark"}}, s.theme);
    m_language = combo(page, {{tr("System"), "system"}, {"English", "en"}, {QStringLiteral("简体中文"), "zh_CN"}}, s.language);
    form->addRow(tr("T&heme:"), m_theme);
    form->addRow(tr("&Language:"), m_language);
    return page;
}

void SettingsDialog::updateEngineChoice() {
    const bool server = m_useServer->isChecked();
    m_localBox->setEnabled(!server);
    m_serverBox->setEnabled(server);
}

void SettingsDialog::testConnection() {
    if (m_tester->isRunning()) return;
    const AppSettings s = settings();
    RemoteEndpoint endpoint;
    endpoint.url = s.remoteUrl;
    endpoint.apiKey = s.remoteApiKey;
    endpoint.modelName = s.remoteModel;
    endpoint.configPath = s.remoteConfig;
    if (endpoint.url.trimmed().isEmpty()) {
        m_testResult->setText(QStringLiteral("✘ ") + tr("Enter the server's URL first."));
        emit connectionTested(false, m_testResult->text());
        return;
    }
    m_test->setEnabled(false);
    m_testResult->setStyleSheet({});
    m_testResult->setText(tr("Connecting to %1…").arg(endpoint.url));
    m_tester->test(endpoint);
}

AppSettings SettingsDialog::settings() const {
    AppSettings s = m_base;
    s.engine = m_useServer->isChecked() ? QStringLiteral("remote") : QStringLiteral("local");
    s.remoteUrl = m_url->text().trimmed();
    s.remoteApiKey = m_apiKey->text().trimmed();
    s.remoteModel = m_model->text().trimmed();
    s.remoteConfig = m_config->text().trimmed();
    s.servePort = m_servePort->value();
    s.backend = m_backend->currentData().toString();
    s.threads = m_threads->value();
    s.precision = m_precision->currentData().toString();
    s.contextLength = m_context->value();
    s.weightCache = m_weightCache->isChecked();
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
