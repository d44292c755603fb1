// See imagedecoder.h. All paths funnel through decodeDevice() so files and bytes share one set of checks.
#include "imagedecoder.h"

#include <algorithm>

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>

#include "llava/anyres.h"
#include "llava/checkedfile.h"
#include "rgbconvert.h"

namespace imageio {
namespace {

llava::Status error(llava::ErrorCode code, const QString& name, const QString& what) {
    return llava::makeError(code, (name + QStringLiteral(": ") + what).toStdString());
}

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(QFile::encodeName(path).toStdString()); }

// The file is opened without blocking and checked (regular file, at most kMaxImageFileBytes) before a
// byte is read: a FIFO, /dev/zero or a sparse 3 GB "png" fail at once (core's checked read, docs/limits.md).
llava::Result<QByteArray> readAll(const QString& path) {
    if (QFileInfo(path).isDir())
        return error(llava::ErrorCode::InvalidArgument, path, QStringLiteral("is a folder, not an image file"));
    auto bytes = llava::readCheckedFile(toPath(path), "image file", llava::kMaxImageFileBytes);
    if (!bytes.isOk()) {
        if (bytes.status().code() == llava::ErrorCode::NotFound)
            return error(llava::ErrorCode::NotFound, path, QStringLiteral("file not found"));
        return bytes.status();  // names the file, what it is and the cap
    }
    return QByteArray(bytes->data(), qsizetype(bytes->size()));
}

// Refuses a declared size above kMaxImageMegapixels before any pixel buffer is allocated.
llava::Status checkDeclaredSize(const QSize& size, const QString& name, qint64 maxPixels = kMaxImageMegapixels * 1000000) {
    if (!size.isValid()) return llava::Status::ok();
    // A side the anyres layout refuses anyway (fuzz_image: a 124-byte BMP declaring 16580613x5, 83 MP,
    // cost 580 MB and seconds of decoding before the layout said no).
    if (size.width() > llava::kMaxImageSide || size.height() > llava::kMaxImageSide)
        return error(llava::ErrorCode::OutOfRange, name,
                     QStringLiteral("image is %1\u00d7%2, a side above the limit of %3 pixels")
                         .arg(size.width()).arg(size.height()).arg(llava::kMaxImageSide));
    if (qint64(size.width()) * size.height() > maxPixels)
        return error(llava::ErrorCode::OutOfRange, name,
                     QStringLiteral("image is %1\u00d7%2, above the limit of %3 megapixels")
                         .arg(size.width()).arg(size.height()).arg(double(maxPixels) / 1e6));
    return llava::Status::ok();
}

// Qt refuses to allocate more than QImageReader::allocationLimit() MB per image (default 128 MB: a
// 34 MP photo as RGB32 needs 137 MB). Ours: the pixel cap at 8 bytes/px (16-bit RGBA64 decodes), per reader.
void setAllocationLimit(QImageReader& reader, qint64 maxPixels = kMaxImageMegapixels * 1000000) {
    reader.setAllocationLimit(int(maxPixels * kMaxDecodedBytesPerPixel / (1024 * 1024)) + 1);
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

llava::Result<QImage> decode(const QByteArray& bytes, const QString& name, ExifTranspose exif, int maxSide,
                             qint64 maxPixels = kMaxImageMegapixels * 1000000) {
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(exif == ExifTranspose::On);
    setAllocationLimit(reader, maxPixels);
    LLAVA_TRY(precheck(bytes, name, reader));
    const QSize size = reader.size();
    LLAVA_TRY(checkDeclaredSize(size, name, maxPixels));
    if (size.isValid() && (size.width() < 1 || size.height() < 1))
        return error(llava::ErrorCode::ParseError, name, QStringLiteral("image has zero width or height"));
    if (maxSide > 0 && size.isValid() && std::max(size.width(), size.height()) > maxSide)
        reader.setScaledSize(size.scaled(maxSide, maxSide, Qt::KeepAspectRatio));
    const QByteArray format = reader.format();  // a failed read() forgets it
    QImage image;
    if (!reader.read(&image))  // the first frame for animated formats
        return error(llava::ErrorCode::ParseError, name,
                     QStringLiteral("cannot decode %1 image: %2").arg(QString::fromLatin1(format), reader.errorString()));
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

llava::Result<llava::RgbImage> decodeImageBytes(const QByteArray& bytes, const QString& name, ExifTranspose exif,
                                                 qint64 maxPixels) {
    LLAVA_ASSIGN_OR_RETURN(QImage image, decode(bytes, name, exif, 0, std::min(maxPixels, kMaxImageMegapixels * 1000000)));
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
    // QImageReader opens the path itself (a blocking open): check what it is first.
    if (auto checked = llava::checkRegularFile(toPath(path), "image file", llava::kMaxImageFileBytes); !checked.isOk())
        return checked.status();
    QImageReader reader(path);
    setAllocationLimit(reader);
    reader.setAutoTransform(exif == ExifTranspose::On);
    if (!reader.canRead())
        return error(llava::ErrorCode::ParseError, path, QStringLiteral("not an image (no decoder recognises it)"));
    QSize size = reader.size();
    if (!size.isValid()) {  // formats without a cheap header read: decode once
        QImage image;
        if (!reader.read(&image)) return error(llava::ErrorCode::ParseError, path, reader.errorString());
        return image.size();
    }
    LLAVA_TRY(checkDeclaredSize(size, path));
    if (exif == ExifTranspose::On && reader.transformation().testFlag(QImageIOHandler::TransformationRotate90))
        size.transpose();
    if (size.width() < 1 || size.height() < 1)
        return error(llava::ErrorCode::ParseError, path, QStringLiteral("image has zero width or height"));
    return size;
}

}  // namespace imageio
