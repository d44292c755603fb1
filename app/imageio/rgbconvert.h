// QImage <-> llava::RgbImage, with the pixel rules of PIL's Image.convert('RGB') (docs/spec.md §4.1):
// alpha is dropped (never composited), grayscale is replicated, palettes are looked up.
// Deliberately no decoding here (imagedecoder.h) and no resizing (core does Pillow-exact resizes).
#pragma once

#include <QImage>

#include "llava/image.h"

namespace imageio {

// Any QImage format -> contiguous RGB8. A null QImage gives an empty RgbImage.
// 16-bit formats follow Pillow: RGB(A)64 keeps the high byte of each channel; Grayscale16 is
// clamped to 0..255 (Pillow opens 16-bit gray PNGs as mode "I" and convert('RGB') clips).
llava::RgbImage toRgbImage(const QImage& image);

// RgbImage -> QImage (Format_RGB888, deep copy) for display.
QImage toQImage(const llava::RgbImage& image);

}  // namespace imageio
