// See screenshottour.h. Each step waits for the state it shows (a signal, then a short settle delay for
// the thread-pool decodes), grabs the window and moves on; a watchdog ends a tour that stalls.
#include "screenshottour.h"

#include <QApplication>
#include <QDir>
#include <QKeyEvent>
#include <QPainter>
#include <QPixmap>
#include <QTimer>

#include "chat/chatview.h"
#include "chat/composer.h"
#include "chat/messagewidget.h"
#include "chat/stagechart.h"
#include "inspector/inspectorwidget.h"
#include "viewer/imageviewer.h"
#include "viewer/viewercontroller.h"
#include <QAction>
#include <QCheckBox>
#include <QScreen>
#include <QTextBrowser>
#include <QToolButton>
#include <QToolTip>
#include "inference/inferencecontroller.h"
#include "mainwindow.h"
#include "models/modelpresets.h"
#include "settings/settingsdialog.h"

namespace {

constexpr int kSettleMs = 1500;

struct Tour {
    MainWindow* window;
    QDir out;
    int failures = 0;

    void save(QWidget* widget, const QString& name) {
        QApplication::processEvents();
        const QPixmap pixmap = widget->grab();
        if (!pixmap.save(out.filePath(name))) ++failures;
        qInfo("screenshot %s (%dx%d)", qPrintable(out.filePath(name)), pixmap.width(), pixmap.height());
    }
    static void after(int ms, std::function<void()> step) { QTimer::singleShot(ms, qApp, std::move(step)); }
    void finish() { QApplication::exit(failures ? 1 : 0); }

    void start() {
        // 1: wait for the model (the demo model is written on first use, then loaded by the real engine).
        auto* c = window->controller();
        auto once = std::make_shared<QMetaObject::Connection>();
        *once = QObject::connect(window, &MainWindow::statusChanged, qApp, [this, once] {
            QObject::disconnect(*once);
            after(kSettleMs, [this] {
                save(window, QStringLiteral("01-first-start.png"));
                ask();
            });
        });
        QObject::connect(c, &InferenceController::loadFailed, qApp, [this](const QString& m, const QString& d, bool) {
            qWarning("model load failed: %s %s", qPrintable(m), qPrintable(d));
            ++failures;
            finish();
        });
    }

    void ask() {
        // 2: press Return in the composer (the real send path: sample image + question). The first
        // streamed piece is grabbed at once: Send has turned into Stop while the answer streams.
        auto streaming = std::make_shared<QMetaObject::Connection>();
        *streaming = QObject::connect(window->controller(), &InferenceController::tokensGenerated, qApp, [this, streaming] {
            QObject::disconnect(*streaming);
            save(window, QStringLiteral("02-generating.png"));
        });
        auto done = std::make_shared<QMetaObject::Connection>();
        *done = QObject::connect(window->controller(), &InferenceController::generationFinished, qApp, [this, done] {
            QObject::disconnect(*done);
            after(500, [this] {
                save(window, QStringLiteral("02-streamed-answer.png"));
                insight();
            });
        });
        QKeyEvent press(QEvent::KeyPress, Qt::Key_Return, Qt::NoModifier);
        QCoreApplication::sendEvent(window->composer()->editor(), &press);
    }

    // The whole screen (tool tips are windows of their own), cut to the main window.
    void saveScreen(const QString& name) {
        QApplication::processEvents();
        const QPixmap pixmap = QGuiApplication::primaryScreen()->grabWindow(0).copy(window->frameGeometry());
        if (!pixmap.save(out.filePath(name))) ++failures;
        qInfo("screenshot %s (%dx%d)", qPrintable(out.filePath(name)), pixmap.width(), pixmap.height());
    }

    void insight() {
        // 2b: the answer's confidence (shading on, a word hovered) and its stage timeline.
        window->chatView()->shadingAction()->setChecked(true);
        MessageWidget* answer = window->chatView()->widgetForRow(1);
        if (answer) {
            answer->timelineButton()->setChecked(true);
            QApplication::processEvents();
            window->chatView()->ensureWidgetVisible(answer->stageChart(), 0, 0);
            const QRect r = answer->body()->viewport()->rect();
            QMouseEvent move(QEvent::MouseMove, QPointF(r.width() * 0.25, 12), answer->body()->viewport()->mapToGlobal(QPointF(r.width() * 0.25, 12)),
                             Qt::NoButton, Qt::NoButton, Qt::NoModifier);
            QCoreApplication::sendEvent(answer->body()->viewport(), &move);
        }
        after(800, [this] {
            saveScreen(QStringLiteral("07-confidence-timeline.png"));
            QToolTip::hideText();
            inspectorHover();
        });
    }

    void inspectorHover() {
        // 2c: a tile hovered in the inspector: its tokens light up in the strip.
        InspectorWidget* inspector = window->inspector();
        inspector->grab();
        if (const auto centre = inspector->cropCentre(2)) inspector->hoverAt(*centre);
        after(500, [this] {
            save(window, QStringLiteral("08-tile-hover.png"));
            window->inspector()->hoverAt(QPointF(-1, -1));
            viewer();
        });
    }

    void viewer() {
        // 2d: the image viewer on the answered picture: tiles overlay and the attention of answer token 0.
        auto done = std::make_shared<QMetaObject::Connection>();
        *done = QObject::connect(window->controller(), &InferenceController::explainFinished, qApp, [this, done] {
            QObject::disconnect(*done);
            after(800, [this] {
                ImageViewer* v = window->viewerController()->viewer();
                v->layoutToggle()->setChecked(true);
                after(300, [this, v] {
                    save(v, QStringLiteral("09-viewer-attention.png"));
                    v->resize(700, 560);
                    after(500, [this, v] {
                        save(v, QStringLiteral("10-viewer-small.png"));
                        v->close();
                        wide();
                    });
                });
            });
        });
        auto failed = std::make_shared<QMetaObject::Connection>();
        *failed = QObject::connect(window->controller(), &InferenceController::explainFailed, qApp,
                                   [this, failed, done](quint64, const QString& message) {
                                       QObject::disconnect(*failed);
                                       QObject::disconnect(*done);
                                       qWarning("explain failed: %s", qPrintable(message));
                                       ++failures;
                                       wide();
                                   });
        QObject::connect(window->controller(), &InferenceController::explainFinished, qApp, [failed] { QObject::disconnect(*failed); });
        window->viewerController()->explainAnswerToken(1, 0);
    }

    void wide() {
        // 3: a 1408x792 picture: ORIG and HF choose different canvases/unpadding -> both panels.
        const QString path = out.filePath(QStringLiteral(".wide-1408x792.png"));
        drawSampleImage().scaled(1408, 792, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).save(path);
        window->composer()->clearAttachments();
        window->composer()->addAttachments({path});
        window->composer()->setText(QStringLiteral("Describe the landscape."));
        after(kSettleMs, [this, path] {
            save(window, QStringLiteral("03-inspector-wide.png"));
            window->inspectPreset(QStringLiteral("llava-v1.6-34b"));
            after(kSettleMs, [this, path] {
                save(window, QStringLiteral("04-preset-34b.png"));
                QFile::remove(path);
                settings();
            });
        });
    }

    void settings() {
        // 4: the settings dialog, shown modeless so the tour keeps running.
        auto* dialog = new SettingsDialog(AppSettings{}, window);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
        after(800, [this, dialog] {
            save(dialog, QStringLiteral("05-settings.png"));
            dialog->close();
            narrow();
        });
    }

    void narrow() {
        // 5: a 1024x700 window: the chats dock becomes a tab behind the inspector, the chat keeps its room.
        window->resize(1024, 700);
        after(kSettleMs, [this] {
            save(window, QStringLiteral("06-narrow-1024x700.png"));
            finish();
        });
    }
};

}  // namespace

bool startScreenshotTourFromEnvironment(MainWindow& window) {
    const QString dir = qEnvironmentVariable("LLAVA_INSIGHT_SCREENSHOTS");
    if (dir.isEmpty()) return false;
    QDir().mkpath(dir);
    auto* tour = new Tour{&window, QDir(dir)};
    tour->start();
    QTimer::singleShot(180000, qApp, [] {
        qWarning("screenshot tour timed out");
        QApplication::exit(1);
    });
    return true;
}
