// See imagedecoder.h. All paths funnel through decodeDevice() so files and bytes share one set of checks.
#include "imagedecoder.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>

#include "rgbconvert.h"

namespace imageio {
namespace {

llava::Status error(llava::ErrorCode code, const QString& name, const QString& what) {
    return llava::makeError(code, (name + QStringLiteral(": ") + what).toStdString());
}

llava::Result<QByteArray> readAll(const QString& path) {
    QFileInfo info(path);
    if (!info.exists()) return error(llava::ErrorCode::NotFound, path, QStringLiteral("file not found"));
    if (info.isDir()) return error(llava::ErrorCode::InvalidArgument, path, QStringLiteral("is a folder, not an image file"));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return error(llava::ErrorCode::IoError, path, QStringLiteral("cannot open: ") + file.errorString());
    QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError)
        return error(llava::ErrorCode::IoError, path, QStringLiteral("read failed: ") + file.errorString());
    return bytes;
}

// Checks shared by every reader: empty input, unknown format, truncated JPEG.
llava::Status precheck(const QByteArray& bytes, const QString& name, QImageReader& reader) {
    if (bytes.isEmpty()) return error(llava::ErrorCode::ParseError, name, QStringLiteral("file is empty (0 bytes)"));
    if (!reader.canRead())
        return error(llava::ErrorCode::ParseError, name,
                     QStringLiteral("not an image (no decoder recognises these bytes)"));
    if (isTruncatedJpeg(bytes))
        return error(llava::ErrorCode::ParseError, name,
                     QStringLiteral("truncated JPEG (data ends before the end-of-image marker)"));
    return llava::Status::ok();
}

llava::Result<QImage> decode(const QByteArray& bytes, const QString& name, ExifTranspose exif, int maxSide) {
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(exif == ExifTranspose::On);
    LLAVA_TRY(precheck(bytes, name, reader));
    const QSize size = reader.size();
    if (size.isValid() && (size.width() < 1 || size.height() < 1))
        return error(llava::ErrorCode::ParseError, name, QStringLiteral("image has zero width or height"));
    if (maxSide > 0 && size.isValid() && std::max(size.width(), size.height()) > maxSide)
        reader.setScaledSize(size.scaled(maxSide, maxSide, Qt::KeepAspectRatio));
    QImage image;
    if (!reader.read(&image))  // the first frame for animated formats
        return error(llava::ErrorCode::ParseError, name,
                     QStringLiteral("cannot decode %1 image: %2")
                         .arg(QString::fromLatin1(reader.format()), reader.errorString()));
    if (image.width() < 1 || image.height() < 1)
        return error(llava::ErrorCode::ParseError, name, QStringLiteral("image has zero width or height"));
    return image;
}

}  // namespace

bool isTruncatedJpeg(const QByteArray& bytes) {
    if (bytes.size() < 4 || static_cast<uchar>(bytes[0]) != 0xFF || static_cast<uchar>(bytes[1]) != 0xD8) return false;
    const qsizetype sos = bytes.lastIndexOf(QByteArrayView("\xFF\xDA", 2));
    const qsizetype eoi = bytes.lastIndexOf(QByteArrayView("\xFF\xD9", 2));
    return eoi < 0 || (sos >= 0 && eoi < sos);
}

llava::Result<QImage> readImageBytes(const QByteArray& bytes, const QString& name, ExifTranspose exif) {
    return decode(bytes, name, exif, 0);
}

llava::Result<QImage> readImageFile(const QString& path, ExifTranspose exif) {
    LLAVA_ASSIGN_OR_RETURN(QByteArray bytes, readAll(path));
    return decode(bytes, path, exif, 0);
}

llava::Result<llava::RgbImage> decodeImageBytes(const QByteArray& bytes, const QString& name, ExifTranspose exif) {
    LLAVA_ASSIGN_OR_RETURN(QImage image, decode(bytes, name, exif, 0));
    return toRgbImage(image);
}

llava::Result<llava::RgbImage> decodeImageFile(const QString& path, ExifTranspose exif) {
    LLAVA_ASSIGN_OR_RETURN(QImage image, readImageFile(path, exif));
    return toRgbImage(image);
}

llava::Result<QImage> readPreview(const QString& path, int maxSide, ExifTranspose exif) {
    LLAVA_ASSIGN_OR_RETURN(QByteArray bytes, readAll(path));
    return decode(bytes, path, exif, maxSide);
}

llava::Result<QSize> readImageSize(const QString& path, ExifTranspose exif) {
    if (!QFileInfo::exists(path)) return error(llava::ErrorCode::NotFound, path, QStringLiteral("file not found"));
    QImageReader reader(path);
    reader.setAutoTransform(exif == ExifTranspose::On);
    if (!reader.canRead())
        return error(llava::ErrorCode::ParseError, path, QStringLiteral("not an image (no decoder recognises it)"));
    QSize size = reader.size();
    if (!size.isValid()) {  // formats without a cheap header read: decode once
        QImage image;
        if (!reader.read(&image)) return error(llava::ErrorCode::ParseError, path, reader.errorString());
        return image.size();
    }
    if (exif == ExifTranspose::On && reader.transformation().testFlag(QImageIOHandler::TransformationRotate90))
        size.transpose();
    if (size.width() < 1 || size.height() < 1)
        return error(llava::ErrorCode::ParseError, path, QStringLiteral("image has zero width or height"));
    return size;
}

}  // namespace imageio
