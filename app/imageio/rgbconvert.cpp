// Pixel conversion rules of PIL convert('RGB'); see rgbconvert.h.
#include "rgbconvert.h"

#include <algorithm>
#include <cstring>

namespace imageio {
namespace {

void fromGray8(const QImage& src, llava::RgbImage& dst) {
    for (int y = 0; y < src.height(); ++y) {
        const uchar* in = src.constScanLine(y);
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < src.width(); ++x, out += 3) out[0] = out[1] = out[2] = in[x];
    }
}

void fromGray16(const QImage& src, llava::RgbImage& dst) {
    for (int y = 0; y < src.height(); ++y) {
        const auto* in = reinterpret_cast<const quint16*>(src.constScanLine(y));
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < src.width(); ++x, out += 3)
            out[0] = out[1] = out[2] = static_cast<std::uint8_t>(std::min<int>(in[x], 255));
    }
}

void fromRgba64(const QImage& src, llava::RgbImage& dst) {
    // Non-premultiplied 16-bit: keep the high byte, as Pillow's "RGB;16B" unpacker does.
    const QImage img = src.format() == QImage::Format_RGBA64_Premultiplied
                           ? src.convertToFormat(QImage::Format_RGBA64)
                           : src;
    for (int y = 0; y < img.height(); ++y) {
        const auto* in = reinterpret_cast<const QRgba64*>(img.constScanLine(y));
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < img.width(); ++x, out += 3) {
            out[0] = static_cast<std::uint8_t>(in[x].red() >> 8);
            out[1] = static_cast<std::uint8_t>(in[x].green() >> 8);
            out[2] = static_cast<std::uint8_t>(in[x].blue() >> 8);
        }
    }
}

void fromArgb32(const QImage& img, llava::RgbImage& dst) {
    // img is Format_RGB32 or Format_ARGB32 (non-premultiplied): the colour channels are the stored
    // values, alpha is ignored exactly like PIL drops it.
    for (int y = 0; y < img.height(); ++y) {
        const auto* in = reinterpret_cast<const QRgb*>(img.constScanLine(y));
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < img.width(); ++x, out += 3) {
            out[0] = static_cast<std::uint8_t>(qRed(in[x]));
            out[1] = static_cast<std::uint8_t>(qGreen(in[x]));
            out[2] = static_cast<std::uint8_t>(qBlue(in[x]));
        }
    }
}

void fromIndexed(const QImage& src, llava::RgbImage& dst) {
    const QList<QRgb> table = src.colorTable();
    for (int y = 0; y < src.height(); ++y) {
        const uchar* in = src.constScanLine(y);
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < src.width(); ++x, out += 3) {
            const QRgb c = in[x] < table.size() ? table[in[x]] : 0;
            out[0] = static_cast<std::uint8_t>(qRed(c));
            out[1] = static_cast<std::uint8_t>(qGreen(c));
            out[2] = static_cast<std::uint8_t>(qBlue(c));
        }
    }
}

}  // namespace

llava::RgbImage toRgbImage(const QImage& image) {
    if (image.isNull()) return {};
    llava::RgbImage dst = llava::RgbImage::black(image.width(), image.height());
    switch (image.format()) {
    case QImage::Format_Grayscale8: fromGray8(image, dst); break;
    case QImage::Format_Grayscale16: fromGray16(image, dst); break;
    case QImage::Format_Indexed8: fromIndexed(image, dst); break;
    case QImage::Format_RGBA64:
    case QImage::Format_RGBX64:
    case QImage::Format_RGBA64_Premultiplied: fromRgba64(image, dst); break;
    case QImage::Format_RGB888:
        for (int y = 0; y < image.height(); ++y) std::memcpy(dst.row(y), image.constScanLine(y), dst.rowBytes());
        break;
    case QImage::Format_RGB32:
    case QImage::Format_ARGB32: fromArgb32(image, dst); break;
    default: fromArgb32(image.convertToFormat(QImage::Format_ARGB32), dst); break;
    }
    return dst;
}

QImage toQImage(const llava::RgbImage& image) {
    if (!image.isValid()) return {};
    QImage out(image.width, image.height, QImage::Format_RGB888);
    for (int y = 0; y < image.height; ++y) std::memcpy(out.scanLine(y), image.row(y), image.rowBytes());
    return out;
}

}  // namespace imageio
