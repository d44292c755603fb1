// Decoding of user images (files, clipboard/drag bytes) into llava::RgbImage with Qt's image plugins.
// Matches PIL.Image.open(...).convert('RGB') as ORIG does it (docs/spec.md §4.1): EXIF orientation is NOT
// applied unless asked for, alpha is dropped, palette/grayscale expanded, GIFs give their first frame.
// Every failure is a llava::Status whose message names the file. Safe to call from any thread.
// Files are read through llava::readCheckedFile (regular files up to 512 MiB; FIFOs and devices refused).
#pragma once

#include <QByteArray>
#include <QImage>
#include <QSize>
#include <QString>

#include "llava/image.h"
#include "llava/status.h"

namespace imageio {

// Largest image decoded (declared width x height), checked from the header before any pixel buffer is
// allocated: 100 MP covers 48 MP (8064x6048) and 64 MP phone photos. Decoding may take up to 8 bytes per
// pixel (16-bit formats), so Qt's per-reader allocation limit is set to 100 MP x 8 B instead of its
// 128 MB default, which refused 34 MP photos. Documented in docs/limits.md.
inline constexpr qint64 kMaxImageMegapixels = 100;
inline constexpr qint64 kMaxDecodedBytesPerPixel = 8;

// transformers' load_image applies ImageOps.exif_transpose; ORIG and the image processors do not.
enum class ExifTranspose { Off, On };

// Full decode to RGB8. `name` labels error messages for byte input ("clipboard", a URL).
llava::Result<llava::RgbImage> decodeImageFile(const QString& path, ExifTranspose exif = ExifTranspose::Off);
// maxPixels lowers the cap (never raises it): what fuzz_image uses so that a few bytes declaring 24 MP
// (a 91-byte GIF whose screen size says nothing) fail at Qt's allocation limit instead of decoding.
llava::Result<llava::RgbImage> decodeImageBytes(const QByteArray& bytes, const QString& name,
                                                 ExifTranspose exif = ExifTranspose::Off,
                                                 qint64 maxPixels = kMaxImageMegapixels * 1000000);

// The decoded QImage in its native format (for display and for toRgbImage); same checks and errors.
llava::Result<QImage> readImageFile(const QString& path, ExifTranspose exif = ExifTranspose::Off);
llava::Result<QImage> readImageBytes(const QByteArray& bytes, const QString& name,
                                     ExifTranspose exif = ExifTranspose::Off);

// Header-only size (W, H) after the optional EXIF transpose: milliseconds even for a 12 MP photo,
// so the inspector can draw the anyres layout before the pixels are decoded.
llava::Result<QSize> readImageSize(const QString& path, ExifTranspose exif = ExifTranspose::Off);

// A display-sized decode: at most maxSide pixels on the longer side (JPEG uses libjpeg's fast DCT
// scaling). Not for inference: the pixels are not Pillow-exact.
llava::Result<QImage> readPreview(const QString& path, int maxSide, ExifTranspose exif = ExifTranspose::Off);

// True when `bytes` is a JPEG whose entropy-coded data ends without an EOI marker (PIL refuses these
// with "image file is truncated"; libjpeg would silently fill the rest with gray).
bool isTruncatedJpeg(const QByteArray& bytes);

}  // namespace imageio
