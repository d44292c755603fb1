// Pure geometry of the inspector drawing, derived only from llava::ImageLayout (core's anyres
// arithmetic), in canvas pixel coordinates (0,0)-(canvasWidth, canvasHeight). The widget maps it to
// the screen with one transform, so tests can check these rects against computeImageLayout directly.
#pragma once

#include <QList>
#include <QRect>
#include <QString>

#include "llava/anyres.h"

struct InspectorGeometry {
    QRect canvas;            // the chosen pinpoint, e.g. 672x672
    QRect image;             // the resized image (nw x nh) at (padLeft, padTop)
    QList<QRect> padding;    // black letterbox bands (0, 1 or 2 of them)
    QList<QRect> tiles;      // 336-px tiles, row-major: tiles[r * cols + c]
    QRect kept;              // feature rows/cols kept by unpadding, scaled to pixels (cell = 14 px)
    QList<QRect> removed;    // feature bands removed by unpadding (pixels)
    int cellPixels = 14;     // tileSize / patchesPerSide
};

InspectorGeometry inspectorGeometry(const llava::ImageLayout& layout, int tileSize = 336, int patchesPerSide = 24);

// One run of the prompt as the LLM sees it: text | base 576 | grid H'xW' + H' newlines | text.
struct TokenStripSegment {
    enum class Kind { Text, Base, Grid, Newlines };
    Kind kind = Kind::Text;
    int begin = 0;        // position of its first token in the full sequence
    int count = 0;
    QString label;        // "text 5", "base 576", "grid 36x48", "newlines 36"
    bool estimated = false;  // text counts without a tokenizer are estimates
};

// textBefore/textAfter: tokens around the image; layout: the image's anyres layout.
QList<TokenStripSegment> tokenStrip(int textBefore, const llava::ImageLayout& layout, int textAfter, bool estimated);

// Where a crop's tokens lie in the image's merged token sequence (docs/spec.md §5.3: base P² first, then each kept
// map row's W' cells and its newline). crop 0 is the base thumbnail (one run of P²); crop k >= 1 is tile
// k - 1 (row-major): one run per kept map row crossing it, the cells unpadding kept in its columns.
// Positions are relative to the image's first token.
struct TokenRun {
    int begin = 0;
    int count = 0;
};
QList<TokenRun> cropTokenRuns(const llava::ImageLayout& layout, int crop, int patchesPerSide = 24);
// The crop (0 base, k >= 1 tile k - 1) an image-relative token position belongs to; -1 for newline tokens
// and positions outside the image.
int cropOfToken(const llava::ImageLayout& layout, int position, int patchesPerSide = 24);
