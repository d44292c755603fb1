// The message composer: a multi-line editor (Enter sends, Shift+Enter inserts a newline), an attach
// button, a strip of attached image thumbnails, and a Send/Stop button. Images arrive by the attach
// dialog, by pasting (files or pixels) and by drag-and-drop (file URLs or image data); all of them
// are turned into file paths by the `importer` (pixels are saved to the app data folder).
#pragma once

#include <QHash>
#include <QImage>
#include <QPlainTextEdit>
#include <QWidget>
#include <functional>

class QHBoxLayout;
class QMimeData;
class QToolButton;
class QPushButton;

class ComposerEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    using QPlainTextEdit::QPlainTextEdit;
signals:
    void submitted();
    void mimeImagesOffered(const QMimeData* mime);  // images pasted or dropped on the editor

protected:
    void keyPressEvent(QKeyEvent* event) override;
    bool canInsertFromMimeData(const QMimeData* source) const override;
    void insertFromMimeData(const QMimeData* source) override;
};

class Composer : public QWidget {
    Q_OBJECT
public:
    // Saves image pixels (paste/drop without a file) and returns the stored path, or empty on failure.
    using ImageImporter = std::function<QString(const QImage&)>;
    // Decodes a file far enough to know it is a usable image: the thumbnail, or the decoder's reason.
    struct Checked {
        QImage thumbnail;
        QString error;
    };

    explicit Composer(QWidget* parent = nullptr);
    void setImageImporter(ImageImporter importer) { m_importer = std::move(importer); }

    QString text() const;
    void setText(const QString& text);
    const QStringList& attachments() const { return m_attachments; }
    void addAttachments(const QStringList& paths);
    void clearAttachments();
    void setBusy(bool busy);  // Send <-> Stop
    // Non-empty: Send is disabled and says why (the context meter found the message cannot fit).
    void setSendBlocked(const QString& reason);
    // Edit-and-resend: the composer holds message `row`'s text and images; Send replaces that message
    // and the ones after it (resendRequested), Cancel (or Esc) leaves the chat as it was.
    void beginEdit(int row, const QString& text, const QStringList& images);
    void cancelEdit();
    int editingRow() const { return m_editRow; }
    ComposerEdit* editor() const { return m_edit; }

    // Accepts file URLs of images and raw image data; returns the paths added (used by paste and drop).
    QStringList acceptMime(const QMimeData* mime);
    static bool mimeHasImages(const QMimeData* mime);

signals:
    void sendRequested(const QString& text, const QStringList& images);
    void resendRequested(int row, const QString& text, const QStringList& images);
    // A file that is not a readable image is refused at once (nothing is attached or copied).
    void attachmentRejected(const QString& path, const QString& reason);
    void stopRequested();
    void attachRequested();
    void attachmentsChanged(const QStringList& images);
    void imageActivated(const QString& path);  // a thumbnail was clicked: show it in the viewer

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void submit();
    void rebuildStrip();
    QWidget* attachmentTile(const QString& path);
    void retranslate();
    static Checked check(const QString& path);

    ComposerEdit* m_edit;
    QToolButton* m_attach;
    QPushButton* m_send;
    QWidget* m_strip;
    QHBoxLayout* m_stripLayout;
    QStringList m_attachments;
    QHash<QString, QImage> m_thumbnails;  // path -> thumbnail, decoded once when attached
    QWidget* m_editBar;
    class QLabel* m_editLabel;
    QPushButton* m_cancelEdit;
    int m_editRow = -1;
    ImageImporter m_importer;
    bool m_busy = false;
    QString m_blockReason;
};
