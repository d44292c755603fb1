#include "languageswitcher.h"

#include <QAbstractSpinBox>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QLibraryInfo>
#include <QLineEdit>
#include <QLocale>
#include <QMetaProperty>
#include <QTabWidget>
#include <QWidget>
#include <QXmlStreamReader>

#include "settings/settingsdialog.h"

namespace {
// QString properties that hold user-visible text, on widgets and actions alike.
constexpr const char* kTextProperties[] = {"text", "title", "windowTitle", "placeholderText", "toolTip", "statusTip",
                                           "whatsThis", "accessibleName", "accessibleDescription", "specialValueText",
                                           "iconText"};
constexpr const char* kSettingsHooked = "_llava_language_hooked";
}  // namespace

LanguageSwitcher::LanguageSwitcher(QObject* parent) : QObject(parent) {
    loadCatalogue();
    qApp->installEventFilter(this);
}

LanguageSwitcher::~LanguageSwitcher() {
    if (m_installed) QCoreApplication::removeTranslator(&m_translator);
    if (m_qtInstalled) QCoreApplication::removeTranslator(&m_qtTranslator);
}

void LanguageSwitcher::loadCatalogue() {
    const QStringList files = QDir(QStringLiteral(":/i18n-src")).entryList({QStringLiteral("*.ts")}, QDir::Files);
    for (const QString& name : files) {
        QFile file(QStringLiteral(":/i18n-src/") + name);
        if (!file.open(QIODevice::ReadOnly)) continue;
        QXmlStreamReader xml(&file);
        QString context, source, translation;
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement) {
                if (xml.isEndElement() && xml.name() == QLatin1String("message") && !source.isEmpty()) {
                    int index = int(m_entries.size());
                    const auto existing = m_byText.constFind(source);
                    if (existing != m_byText.constEnd() && m_entries[*existing].context == context) {
                        index = *existing;
                    } else {
                        m_entries.push_back({context, source});
                        if (existing == m_byText.constEnd()) m_byText.insert(source, index);
                    }
                    if (!translation.isEmpty() && !m_byText.contains(translation)) m_byText.insert(translation, index);
                    source.clear();
                    translation.clear();
                }
                continue;
            }
            const auto tag = xml.name();
            if (tag == QLatin1String("name")) context = xml.readElementText();
            else if (tag == QLatin1String("source")) source = xml.readElementText();
            else if (tag == QLatin1String("translation")) translation = xml.readElementText();
        }
    }
}

bool LanguageSwitcher::setLanguage(const QString& language) {
    if (m_installed) {
        QCoreApplication::removeTranslator(&m_translator);
        m_installed = false;
    }
    if (m_qtInstalled) {
        QCoreApplication::removeTranslator(&m_qtTranslator);
        m_qtInstalled = false;
    }
    QString lang = language == QLatin1String("system") ? QLocale::system().name() : language;
    m_language = QStringLiteral("en");
    bool ok = true;
    if (!lang.startsWith(QLatin1String("en")) && !lang.isEmpty() && lang != QLatin1String("C")) {
        const QString base = QStringLiteral(":/i18n/llava_insight_");
        if (m_translator.load(base + lang) || m_translator.load(base + lang.section(QLatin1Char('_'), 0, 0))) {
            m_installed = QCoreApplication::installTranslator(&m_translator);
            if (m_installed) m_language = m_translator.language().isEmpty() ? lang : m_translator.language();
        }
        if (m_installed && m_qtTranslator.load(QStringLiteral("qtbase_") + m_language,
                                               QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
            m_qtInstalled = QCoreApplication::installTranslator(&m_qtTranslator);
        ok = m_installed;
    }
    // Qt posts LanguageChange to the windows (handled in eventFilter); re-translate now as well so the
    // switch is visible as soon as this returns. Translating twice is harmless: texts map to themselves.
    for (QWidget* window : QApplication::topLevelWidgets()) retranslate(window);
    return ok;
}

QString LanguageSwitcher::translated(const QString& text) const {
    const auto it = m_byText.constFind(text);
    if (it == m_byText.constEnd()) return text;
    const Entry& e = m_entries[*it];
    return QCoreApplication::translate(e.context.toUtf8().constData(), e.source.toUtf8().constData());
}

void LanguageSwitcher::retranslate(QObject* root) const {
    QList<QObject*> objects = root->findChildren<QObject*>();
    objects.prepend(root);
    for (QObject* object : objects) {
        if (!qobject_cast<QWidget*>(object) && !qobject_cast<QAction*>(object)) continue;
        const QMetaObject* meta = object->metaObject();
        for (const char* name : kTextProperties) {
            const int index = meta->indexOfProperty(name);
            if (index < 0) continue;
            const QMetaProperty property = meta->property(index);
            if (!property.isWritable() || property.metaType().id() != QMetaType::QString) continue;
            // An action's tool tip follows its text unless set explicitly; leave the derived one alone.
            // Its icon text (toolbar buttons) is translated too: a derived one is the text without "&"
            // and "...", which is no catalogue string and so stays as it is.
            if (qobject_cast<QAction*>(object) && qstrcmp(name, "text") != 0 && qstrcmp(name, "iconText") != 0) continue;
            // What the user typed is not ours to translate.
            if (qobject_cast<QLineEdit*>(object) && qstrcmp(name, "text") == 0) continue;
            const QString current = property.read(object).toString();
            if (current.isEmpty()) continue;
            const QString next = translated(current);
            if (next != current) property.write(object, next);
        }
        if (auto* combo = qobject_cast<QComboBox*>(object)) {
            for (int i = 0; i < combo->count(); ++i) combo->setItemText(i, translated(combo->itemText(i)));
        } else if (auto* tabs = qobject_cast<QTabWidget*>(object)) {
            for (int i = 0; i < tabs->count(); ++i) tabs->setTabText(i, translated(tabs->tabText(i)));
        }
    }
}

bool LanguageSwitcher::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::LanguageChange) {
        auto* widget = qobject_cast<QWidget*>(watched);
        if (widget && widget->isWindow()) retranslate(widget);
    } else if (event->type() == QEvent::Show) {
        auto* dialog = qobject_cast<SettingsDialog*>(watched);
        if (dialog && !dialog->property(kSettingsHooked).toBool()) {
            dialog->setProperty(kSettingsHooked, true);
            connect(dialog, &QDialog::accepted, this, [this, dialog] {
                const QString chosen = dialog->settings().language;
                const QString resolved = chosen == QLatin1String("system") ? QLocale::system().name() : chosen;
                if (resolved != m_language) setLanguage(chosen);
            });
        }
    }
    return QObject::eventFilter(watched, event);
}
