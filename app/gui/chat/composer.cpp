#include "composer.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "icons.h"

namespace {
bool isImageFile(const QString& path) {
    QImageReader reader(path);
    return reader.canRead();
}
}  // namespace

void ComposerEdit::keyPressEvent(QKeyEvent* event) {
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
        emit submitted();
        return;
    }
    if (enter) {  // Shift+Enter: a plain newline (not a paragraph separator)
        insertPlainText(QStringLiteral("\n"));
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

bool ComposerEdit::canInsertFromMimeData(const QMimeData* source) const {
    return Composer::mimeHasImages(source) || QPlainTextEdit::canInsertFromMimeData(source);
}

void ComposerEdit::insertFromMimeData(const QMimeData* source) {
    if (Composer::mimeHasImages(source)) {
        emit mimeImagesOffered(source);
        return;
    }
    QPlainTextEdit::insertFromMimeData(source);
}

Composer::Composer(QWidget* parent) : QWidget(parent) {
    setAcceptDrops(true);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_strip = new QWidget(this);
    m_stripLayout = new QHBoxLayout(m_strip);
    m_stripLayout->setContentsMargins(0, 0, 0, 0);
    m_stripLayout->addStretch();
    m_strip->hide();
    m_editBar = new QWidget(this);
    auto* editRow = new QHBoxLayout(m_editBar);
    editRow->setContentsMargins(0, 0, 0, 0);
    m_editLabel = new QLabel(m_editBar);
    m_editLabel->setWordWrap(true);
    m_cancelEdit = new QPushButton(m_editBar);
    editRow->addWidget(m_editLabel, 1);
    editRow->addWidget(m_cancelEdit);
    m_editBar->hide();
    outer->addWidget(m_editBar);
    outer->addWidget(m_strip);

    auto* row = new QHBoxLayout;
    m_attach = new QToolButton(this);
    m_attach->setIcon(appIcon(AppIcon::Attach));
    m_edit = new ComposerEdit(this);
    m_edit->setTabChangesFocus(true);
    m_edit->setMaximumHeight(120);
    m_send = new QPushButton(this);
    m_send->setDefault(true);
    setBusy(false);
    row->addWidget(m_attach, 0, Qt::AlignBottom);
    row->addWidget(m_edit, 1);
    row->addWidget(m_send, 0, Qt::AlignBottom);
    outer->addLayout(row);
    setTabOrder(m_edit, m_send);
    setTabOrder(m_send, m_attach);

    connect(m_edit, &ComposerEdit::submitted, this, &Composer::submit);
    connect(m_edit, &ComposerEdit::mimeImagesOffered, this, [this](const QMimeData* mime) { acceptMime(mime); });
    connect(m_send, &QPushButton::clicked, this, [this] {
        if (m_busy) emit stopRequested(); else submit();
    });
    connect(m_attach, &QToolButton::clicked, this, &Composer::attachRequested);
    connect(m_cancelEdit, &QPushButton::clicked, this, &Composer::cancelEdit);
    retranslate();
}

void Composer::retranslate() {
    m_attach->setText(tr("Attach"));
    m_attach->setToolTip(tr("Attach images (Ctrl+O)"));
    m_attach->setAccessibleName(tr("Attach image"));
    m_edit->setPlaceholderText(tr("Ask about the image… (Enter sends, Shift+Enter for a new line)"));
    m_edit->setAccessibleName(tr("Message"));
    m_editLabel->setText(tr("Editing a message: Send replaces it and every message after it."));
    m_cancelEdit->setText(tr("Cancel edit"));
    m_cancelEdit->setToolTip(tr("Keep the chat as it is"));
    setBusy(m_busy);
    rebuildStrip();
}

void Composer::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

void Composer::beginEdit(int row, const QString& text, const QStringList& images) {
    m_editRow = row;
    setText(text);
    m_attachments.clear();
    m_thumbnails.clear();
    addAttachments(images);
    m_editBar->show();
    m_edit->setFocus();
}

void Composer::cancelEdit() {
    if (m_editRow < 0) return;
    m_editRow = -1;
    m_editBar->hide();
    m_edit->clear();
    clearAttachments();
}

Composer::Checked Composer::check(const QString& path) {
    QImageReader reader(path);
    const QSize size = reader.size();
    if (size.isValid()) reader.setScaledSize(size.scaled(56, 56, Qt::KeepAspectRatio));
    Checked result;
    result.thumbnail = reader.read();
    if (result.thumbnail.isNull())
        result.error = tr("%1 is not a readable image: %2").arg(QFileInfo(path).fileName(), reader.errorString());
    return result;
}

QString Composer::text() const { return m_edit->toPlainText(); }
void Composer::setText(const QString& text) { m_edit->setPlainText(text); }

void Composer::setBusy(bool busy) {
    m_busy = busy;
    m_send->setIcon(appIcon(busy ? AppIcon::Stop : AppIcon::Send));
    m_send->setText(busy ? tr("Stop") : tr("Send"));
    m_send->setToolTip(busy ? tr("Stop generating (Esc)") : m_blockReason.isEmpty() ? tr("Send message (Enter)") : m_blockReason);
    m_send->setAccessibleName(busy ? tr("Stop generating") : tr("Send message"));
    m_send->setEnabled(busy || m_blockReason.isEmpty());
}

void Composer::setSendBlocked(const QString& reason) {
    m_blockReason = reason;
    setBusy(m_busy);
}

void Composer::addAttachments(const QStringList& paths) {
    for (const QString& p : paths) {
        if (m_attachments.contains(p)) continue;
        Checked checked = check(p);
        if (!checked.error.isEmpty()) {
            emit attachmentRejected(p, checked.error);
            continue;
        }
        m_thumbnails.insert(p, checked.thumbnail);
        m_attachments << p;
    }
    rebuildStrip();
    emit attachmentsChanged(m_attachments);
}

void Composer::clearAttachments() {
    m_attachments.clear();
    m_thumbnails.clear();
    rebuildStrip();
    emit attachmentsChanged(m_attachments);
}

bool Composer::mimeHasImages(const QMimeData* mime) {
    if (!mime) return false;
    if (mime->hasImage()) return true;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile() && isImageFile(url.toLocalFile())) return true;
    return false;
}

QStringList Composer::acceptMime(const QMimeData* mime) {
    QStringList added;
    if (!mime) return added;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile() && isImageFile(url.toLocalFile())) added << url.toLocalFile();
    if (added.isEmpty() && mime->hasImage() && m_importer) {
        const QImage image = qvariant_cast<QImage>(mime->imageData());
        const QString stored = m_importer(image);
        if (!stored.isEmpty()) added << stored;
    }
    if (!added.isEmpty()) addAttachments(added);
    return added;
}

void Composer::dragEnterEvent(QDragEnterEvent* event) {
    if (mimeHasImages(event->mimeData())) event->acceptProposedAction();
}

void Composer::dropEvent(QDropEvent* event) {
    if (!acceptMime(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void Composer::submit() {
    const QString t = text().trimmed();
    if (m_busy || !m_blockReason.isEmpty() || (t.isEmpty() && m_attachments.isEmpty())) return;
    const QStringList images = m_attachments;
    const int editRow = std::exchange(m_editRow, -1);
    m_editBar->hide();
    m_edit->clear();
    m_attachments.clear();
    m_thumbnails.clear();
    rebuildStrip();
    if (editRow >= 0) emit resendRequested(editRow, t, images);
    else emit sendRequested(t, images);
}

// One attachment: the thumbnail opens the image viewer, the small cross in its corner removes it.
QWidget* Composer::attachmentTile(const QString& path) {
    const QString name = QFileInfo(path).fileName();
    auto* tile = new QWidget(m_strip);
    auto* grid = new QGridLayout(tile);
    grid->setContentsMargins(0, 0, 0, 0);
    auto* thumb = new QToolButton(tile);
    thumb->setIcon(QPixmap::fromImage(m_thumbnails.value(path)));
    thumb->setIconSize(QSize(56, 56));
    thumb->setToolTip(tr("%1 — click to view").arg(name));
    thumb->setAccessibleName(tr("View attachment %1").arg(name));
    connect(thumb, &QToolButton::clicked, this, [this, path] { emit imageActivated(path); });
    auto* remove = new QToolButton(tile);
    remove->setText(QStringLiteral("✕"));
    remove->setFixedSize(18, 18);
    remove->setToolTip(tr("Remove %1").arg(name));
    remove->setAccessibleName(tr("Remove attachment %1").arg(name));
    connect(remove, &QToolButton::clicked, this, [this, path] {
        m_attachments.removeAll(path);
        m_thumbnails.remove(path);
        rebuildStrip();
        emit attachmentsChanged(m_attachments);
    });
    grid->addWidget(thumb, 0, 0);
    grid->addWidget(remove, 0, 0, Qt::AlignTop | Qt::AlignRight);
    return tile;
}

void Composer::rebuildStrip() {
    while (m_stripLayout->count() > 1) {
        QLayoutItem* item = m_stripLayout->takeAt(0);
        delete item->widget();
        delete item;
    }
    for (int i = 0; i < m_attachments.size(); ++i) m_stripLayout->insertWidget(i, attachmentTile(m_attachments[i]));
    m_strip->setVisible(!m_attachments.isEmpty());
}
