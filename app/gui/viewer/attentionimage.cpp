// See attentionimage.h.
#include "attentionimage.h"

#include <algorithm>

QColor heatColor(double t) {
    t = std::clamp(t, 0.0, 1.0);
    // blue -> red -> yellow, the usual "hot" ramp; alpha keeps cold cells see-through.
    const int r = int(255 * std::min(1.0, t * 2));
    const int g = int(255 * std::max(0.0, t * 2 - 1));
    const int b = int(255 * std::max(0.0, 1 - t * 3));
    return QColor(r, g, b, int(40 + 215 * t));
}

QImage attentionImage(const std::vector<float>& values, int width, int height, double* maxValue) {
    if (width <= 0 || height <= 0 || values.size() != size_t(width) * size_t(height)) return {};
    const float top = *std::max_element(values.begin(), values.end());
    if (maxValue) *maxValue = top;
    QImage image(width, height, QImage::Format_ARGB32);
    for (int y = 0; y < height; ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < width; ++x) {
            const float v = values[size_t(y) * size_t(width) + size_t(x)];
            line[x] = v > 0 && top > 0 ? heatColor(v / top).rgba() : qRgba(0, 0, 0, 0);
        }
    }
    return image;
}
