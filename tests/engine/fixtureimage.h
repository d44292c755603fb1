// A fixture image (tests/fixtures/images) decoded to RGB8 with Qt, for the engine tests that compare with
// the golden files (the PNGs are plain RGB: Qt's decode equals PIL's convert('RGB'), tst_imageio).
// Header-only, test code only.
#pragma once

#include <QImage>
#include <QString>

#include <cstring>

#include "llava/image.h"

namespace llava::test {

inline RgbImage loadFixtureRgb(const QString& path) {
    const QImage image = QImage(path).convertToFormat(QImage::Format_RGB888);
    RgbImage rgb = RgbImage::black(image.width(), image.height());
    for (int y = 0; y < image.height(); ++y) std::memcpy(rgb.row(y), image.constScanLine(y), rgb.rowBytes());
    return rgb;
}

}  // namespace llava::test
