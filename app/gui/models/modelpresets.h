// Model configurations the app knows without weights: core's built-in presets when available, and
// the demo sample image the app draws for its first start.
#pragma once

#include <QImage>
#include <QStringList>

#include "llava/modelconfig.h"

// The default config for the inspector when nothing is loaded: llava-v1.6-mistral-7b geometry
// (CLIP-L/336, the five v1.6 pinpoints).
llava::ModelConfig defaultInspectorConfig();

// A 1024x768 picture drawn with QPainter (sky, sun, hills, a house): something to ask about offline.
QImage drawSampleImage();
