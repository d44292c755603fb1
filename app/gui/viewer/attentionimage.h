// Colours for attention heatmaps: values (any non-negative scale) -> an ARGB image over the picture,
// where colour and alpha grow with value / max (0 transparent, max opaque red-yellow). The legend uses
// the same ramp, so the colour scale shows the values it stands for.
#pragma once

#include <QColor>
#include <QImage>
#include <vector>

QColor heatColor(double t);  // t in [0, 1]
// values: (height, width). Returns a null image when the sizes do not match.
QImage attentionImage(const std::vector<float>& values, int width, int height, double* maxValue = nullptr);
