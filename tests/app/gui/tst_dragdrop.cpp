// tst_dragdrop: images reach the composer through real Qt events, not by calling acceptMime().
//  - QDragEnterEvent/QDropEvent on the composer with file URLs: images accepted, other files refused;
//  - a drop of raw pixels (no URL) goes through the importer;
//  - drag-move-drop onto the editor's viewport attaches instead of inserting text;
//  - pasting from the clipboard (pixels or an image file URL) attaches; pasting text inserts text.
#include <QApplication>
#include <QClipboard>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include "chat/composer.h"

namespace {
QString writePng(const QString& path, QSize size) {
    QImage image(size, QImage::Format_RGB32);
    image.fill(QColor(200, 120, 40));
    return image.save(path, "PNG") ? path : QString();
}

// What a drag from a file manager or a browser delivers, as a full enter -> move -> drop sequence.
struct DragResult {
    bool enterAccepted = false;
    bool dropAccepted = false;
};
DragResult dragAndDrop(QWidget* target, QMimeData* mime) {
    const QPointF at(target->width() / 2.0, target->height() / 2.0);
    DragResult r;
    QDragEnterEvent enter(at.toPoint(), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    r.enterAccepted = enter.isAccepted();
    QDragMoveEvent move(at.toPoint(), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &move);
    QDropEvent drop(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    r.dropAccepted = drop.isAccepted();
    return r;
}
}  // namespace

class TstDragDrop : public QObject {
    Q_OBJECT
private slots:
    void init();
    void dropFileUrlsOnComposer();
    void dropPixelsUsesImporter();
    void dropOnEditorAttaches();
    void pasteAttachesOrInsertsText();

private:
    QTemporaryDir m_dir;
    QString m_png, m_text;
    QList<QImage> m_imported;
    std::unique_ptr<Composer> m_composer;
};

void TstDragDrop::init() {
    m_png = writePng(m_dir.filePath(QStringLiteral("photo.png")), QSize(64, 48));
    QVERIFY(!m_png.isEmpty());
    m_text = m_dir.filePath(QStringLiteral("notes.txt"));
    QFile f(m_text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not an image");
    f.close();
    m_imported.clear();
    m_composer = std::make_unique<Composer>();
    m_composer->setImageImporter([this](const QImage& image) {
        m_imported << image;
        return writePng(m_dir.filePath(QStringLiteral("pasted-%1.png").arg(m_imported.size())), image.size());
    });
    m_composer->clearAttachments();
    m_composer->resize(480, 160);
    m_composer->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_composer.get()));
}

void TstDragDrop::dropFileUrlsOnComposer() {
    QSignalSpy changed(m_composer.get(), &Composer::attachmentsChanged);
    QMimeData notImage;
    notImage.setUrls({QUrl::fromLocalFile(m_text)});
    const DragResult refused = dragAndDrop(m_composer.get(), &notImage);
    QVERIFY(!refused.enterAccepted);
    QVERIFY(m_composer->attachments().isEmpty());

    QMimeData both;
    both.setUrls({QUrl::fromLocalFile(m_text), QUrl::fromLocalFile(m_png)});
    const DragResult accepted = dragAndDrop(m_composer.get(), &both);
    QVERIFY(accepted.enterAccepted);
    QVERIFY(accepted.dropAccepted);
    QCOMPARE(m_composer->attachments(), QStringList{m_png});
    QVERIFY(!changed.isEmpty());
    // Dropping the same file again does not attach it twice.
    dragAndDrop(m_composer.get(), &both);
    QCOMPARE(m_composer->attachments().size(), 1);
}

void TstDragDrop::dropPixelsUsesImporter() {
    QMimeData pixels;
    QImage image(33, 21, QImage::Format_RGB32);
    image.fill(Qt::darkGreen);
    pixels.setImageData(image);
    const DragResult r = dragAndDrop(m_composer.get(), &pixels);
    QVERIFY(r.enterAccepted && r.dropAccepted);
    QCOMPARE(m_imported.size(), 1);
    QCOMPARE(m_imported.first().size(), QSize(33, 21));
    QCOMPARE(m_composer->attachments().size(), 1);
    QVERIFY(m_composer->attachments().first().endsWith(QStringLiteral("pasted-1.png")));
}

void TstDragDrop::dropOnEditorAttaches() {
    m_composer->setText(QStringLiteral("hello"));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(m_png)});
    mime.setText(QUrl::fromLocalFile(m_png).toString());  // file managers send both
    dragAndDrop(m_composer->editor()->viewport(), &mime);
    QCOMPARE(m_composer->attachments(), QStringList{m_png});
    QCOMPARE(m_composer->text(), QStringLiteral("hello"));  // no file:// text pasted into the message
}

void TstDragDrop::pasteAttachesOrInsertsText() {
    QClipboard* clipboard = QGuiApplication::clipboard();
    auto* pixels = new QMimeData;
    QImage image(16, 16, QImage::Format_RGB32);
    image.fill(Qt::blue);
    pixels->setImageData(image);
    clipboard->setMimeData(pixels);
    m_composer->editor()->setFocus();
    m_composer->editor()->paste();
    QCOMPARE(m_imported.size(), 1);
    QCOMPARE(m_composer->attachments().size(), 1);

    auto* file = new QMimeData;
    file->setUrls({QUrl::fromLocalFile(m_png)});
    clipboard->setMimeData(file);
    QTest::keySequence(m_composer->editor(), QKeySequence::Paste);  // the real shortcut path
    QCOMPARE(m_composer->attachments().size(), 2);
    QVERIFY(m_composer->attachments().contains(m_png));

    clipboard->setText(QStringLiteral("describe the colours"));
    m_composer->editor()->paste();
    QCOMPARE(m_composer->text(), QStringLiteral("describe the colours"));
    QCOMPARE(m_composer->attachments().size(), 2);
}

QTEST_MAIN(TstDragDrop)
#include "tst_dragdrop.moc"
