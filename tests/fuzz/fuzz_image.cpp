// Fuzz target: the image path of a chat message, bytes -> decode (app/imageio, Qt's plugins, as for a
// dropped or pasted image) -> anyres layout -> preprocess (Pillow-exact resize, pad, tiles, normalise).
// Checks beyond "no crash / UB / leak": a decoded image is never larger than the 100 MP cap, its layout
// satisfies the spec's invariants in both reference flavours, and the pixel tensor has one crop per
// tile + base.
// Speed (hundreds to thousands of executions per second): inputs declaring more than 512x512 are skipped
// (a few bytes may declare up to the 100 MP cap, seconds of decoding; tst_imageio covers that size), images
// above 256x256 are only decoded and laid out, and the pixels run through a scaled-down model (tile 28 px, 2 patches per side, the v1.6 pinpoint list / 12),
// which exercises the same code paths as 336-px tiles at 1/144 of the work.
#include <QBuffer>
#include <QByteArray>
#include <QCoreApplication>
#include <QImageReader>
#include <QSize>
#include <QtGlobal>
#include <QString>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "imagedecoder.h"
#include "llava/anyres.h"
#include "llava/preprocess.h"

namespace {

// Under ASan + coverage the resize costs ~2 us per source pixel (a 63483x5 BMP of 131 bytes took 0.5-11 s
// on the loaded 2-core machine, 0.28 s for the whole release `preprocess`): bound what one execution may
// decode and resample, so small inputs run at hundreds to thousands per second. Layouts are checked for
// every size that decodes; the caps themselves are tst_imageio's.
constexpr std::int64_t kMaxDecodedPixels = 1 << 18;       // 512 x 512
constexpr std::int64_t kMaxPreprocessedPixels = 1 << 16;  // 256 x 256

void check(bool ok) {
    if (!ok) std::abort();
}

void checkLayout(const llava::ImageLayout& l, const llava::AnyresParams& p) {
    check(l.canvasWidth % p.tileSize == 0 && l.canvasHeight % p.tileSize == 0);
    check(l.gridCols * p.tileSize == l.canvasWidth && l.gridRows * p.tileSize == l.canvasHeight);
    check(l.resizedWidth >= 1 && l.resizedHeight >= 1);
    check(l.padLeft + l.resizedWidth + l.padRight == l.canvasWidth);
    check(l.padTop + l.resizedHeight + l.padBottom == l.canvasHeight);
    // Empty is possible: a 9x2 image on a 2-patch map keeps int(2 * 2/9) = 0 rows, as both references do.
    check(0 <= l.keptRowBegin && l.keptRowBegin <= l.keptRowEnd && l.keptRowEnd <= l.mapRows);
    check(0 <= l.keptColBegin && l.keptColBegin <= l.keptColEnd && l.keptColEnd <= l.mapCols);
    const int pps = p.patchesPerSide;
    check(l.imageTokens == pps * pps + l.unpaddedRows * l.unpaddedCols + l.unpaddedRows);
}

llava::AnyresParams params(int tile, int pps, llava::Reference reference) {
    llava::AnyresParams p;
    p.tileSize = tile;
    p.patchesPerSide = pps;
    p.reference = reference;
    for (auto [w, h] : {std::array{1, 2}, {2, 1}, {2, 2}, {3, 1}, {1, 3}}) p.candidates.push_back({w * tile, h * tile});
    return p;
}

}  // namespace

// Qt's image plugins (JPEG, GIF, ...) are found through the application's library paths. Decoder
// warnings ("libpng error: IDAT: CRC error" on nearly every mutated input) are dropped: printing them
// cost more than decoding.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    static QCoreApplication app(*argc, *argv);
    qInstallMessageHandler([](QtMsgType, const QMessageLogContext&, const QString&) {});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
    {  // A few bytes can declare up to the 100 MP cap, whose decode costs seconds (tst_imageio covers it):
       // skip declared sizes above kMaxDecodedPixels so each execution stays in milliseconds.
        QBuffer buffer;
        buffer.setData(bytes);
        buffer.open(QIODevice::ReadOnly);
        const QSize declared = QImageReader(&buffer).size();
        if (declared.isValid() && std::int64_t(declared.width()) * declared.height() > kMaxDecodedPixels) return 0;
    }
    // Also through Qt's allocation limit: a GIF may declare no size and decode to 24 MP from 91 bytes.
    auto image = imageio::decodeImageBytes(bytes, QStringLiteral("fuzz"), imageio::ExifTranspose::Off, kMaxDecodedPixels);
    if (!image.isOk()) return 0;
    check(image->isValid());
    check(std::int64_t(image->width) * image->height <= imageio::kMaxImageMegapixels * 1000000);
    for (llava::Reference r : {llava::Reference::Original, llava::Reference::Transformers}) {
        const llava::AnyresParams real = params(336, 24, r);
        auto layout = llava::computeImageLayout(image->width, image->height, real);
        if (!layout.isOk()) {  // only sides above kMaxImageSide may be refused
            check(image->width > llava::kMaxImageSide || image->height > llava::kMaxImageSide);
            continue;
        }
        checkLayout(*layout, real);
    }
    if (std::int64_t(image->width) * image->height > kMaxPreprocessedPixels) return 0;
    llava::VisionConfig tiny;
    tiny.imageSize = 28;
    tiny.patchSize = 14;
    const llava::AnyresParams small = params(28, 2, size % 2 ? llava::Reference::Original : llava::Reference::Transformers);
    llava::ResampleOptions options;
    options.maxThreads = 1;
    auto pre = llava::preprocessImage(*image, small, tiny, options);
    check(pre.isOk());
    checkLayout(pre->layout, small);
    check(pre->crops.size() == std::size_t(pre->layout.cropCount()));
    check(pre->pixels.size() == std::size_t(pre->layout.cropCount()) * 3 * 28 * 28);
    for (float v : pre->pixels) check(std::isfinite(v));
    return 0;
}
