// tst_imageio: Qt decode + convert must equal PIL Image.open(f).convert('RGB') byte for byte (spec §3.1),
// for every mode PIL converts differently (alpha dropped not composited, palettes, 16-bit gray,
// GIF first frame, JPEG subsamplings, EXIF off by default). Expectations come from
// tools/pil_reference.py run at test time with Debian's python3-pil; skipped when it is absent.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "imagedecoder.h"
#include "rgbconvert.h"

class TstImageIo : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesPillow_data();
    void matchesPillow();
    void errors_data();
    void errors();
    void missingFileIsNamed();
    void headerSizeWithoutDecode();
    void roundTripQImage();

private:
    QTemporaryDir m_dir;
    bool m_havePil = false;
};

void TstImageIo::initTestCase() {
    QVERIFY(m_dir.isValid());
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"),
             {QStringLiteral(LLAVA_SOURCE_DIR "/tests/app/tools/pil_reference.py"), m_dir.path()});
    m_havePil = py.waitForFinished(60000) && py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0;
    if (!m_havePil) qWarning("pil_reference.py failed: %s", py.readAllStandardError().constData());
}

void TstImageIo::matchesPillow_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<bool>("transpose");
    if (!m_havePil) return;
    QFile manifest(m_dir.filePath(QStringLiteral("manifest.txt")));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    for (const QByteArray& line : manifest.readAll().split('\n')) {
        const QList<QByteArray> f = line.split(' ');
        if (f.size() != 5) continue;
        QTest::newRow(f[0].constData()) << QString::fromUtf8(f[1]) << f[2].toInt() << f[3].toInt()
                                        << (f[4] == "transpose");
    }
}

void TstImageIo::matchesPillow() {
    if (!m_havePil) QSKIP("/usr/bin/python3 with PIL is not available");
    QFETCH(QString, file);
    QFETCH(int, width);
    QFETCH(int, height);
    QFETCH(bool, transpose);
    const auto exif = transpose ? imageio::ExifTranspose::On : imageio::ExifTranspose::Off;
    auto image = imageio::decodeImageFile(m_dir.filePath(file), exif);
    QVERIFY2(image.isOk(), image.status().toString().c_str());
    QCOMPARE(image->width, width);
    QCOMPARE(image->height, height);
    QFile ref(m_dir.filePath(QFileInfo(file).completeBaseName() + QStringLiteral(".rgb")));
    QVERIFY(ref.open(QIODevice::ReadOnly));
    const QByteArray expected = ref.readAll();
    QCOMPARE(qsizetype(image->pixels.size()), expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i) {
        if (image->pixels[size_t(i)] != static_cast<uchar>(expected[i])) {
            const qsizetype px = i / 3;
            QFAIL(qPrintable(QStringLiteral("pixel (%1,%2) channel %3: got %4, Pillow %5")
                                 .arg(px % width).arg(px / width).arg(i % 3)
                                 .arg(image->pixels[size_t(i)]).arg(static_cast<uchar>(expected[i]))));
        }
    }
    // The size read from the header alone must agree with the decode.
    auto size = imageio::readImageSize(m_dir.filePath(file), exif);
    QVERIFY(size.isOk());
    QCOMPARE(*size, QSize(width, height));
}

void TstImageIo::errors_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("messagePart");
    QTest::newRow("truncated jpeg") << "truncated.jpg" << "truncated JPEG";
    QTest::newRow("text file") << "not_an_image.png" << "not an image";
    QTest::newRow("empty file") << "empty.jpg" << "empty";
}

void TstImageIo::errors() {
    if (!m_havePil) QSKIP("/usr/bin/python3 with PIL is not available");
    QFETCH(QString, file);
    QFETCH(QString, messagePart);
    auto image = imageio::decodeImageFile(m_dir.filePath(file));
    QVERIFY(!image.isOk());
    const QString message = QString::fromStdString(image.status().message());
    QVERIFY2(message.contains(file), qPrintable(message));  // names the file
    QVERIFY2(message.contains(messagePart), qPrintable(message));
}

void TstImageIo::missingFileIsNamed() {
    auto image = imageio::decodeImageFile(QStringLiteral("/nonexistent/dir/photo.jpg"));
    QVERIFY(!image.isOk());
    QCOMPARE(image.status().code(), llava::ErrorCode::NotFound);
    QVERIFY(QString::fromStdString(image.status().message()).contains(QStringLiteral("/nonexistent/dir/photo.jpg")));
    auto bytes = imageio::decodeImageBytes(QByteArray("\x89PNG\r\n\x1a\n garbage", 16), QStringLiteral("clipboard"));
    QVERIFY(!bytes.isOk());
    QVERIFY(QString::fromStdString(bytes.status().message()).startsWith(QStringLiteral("clipboard")));
}

void TstImageIo::headerSizeWithoutDecode() {
    // A 4032x3024 JPEG: the header read must not decode 12 MP (the inspector's ≤ 100 ms budget).
    QImage big(4032, 3024, QImage::Format_RGB888);
    big.fill(Qt::darkCyan);
    const QString path = m_dir.filePath(QStringLiteral("big.jpg"));
    QVERIFY(big.save(path, "JPEG", 70));
    QElapsedTimer timer;
    timer.start();
    auto size = imageio::readImageSize(path);
    QVERIFY(size.isOk());
    QCOMPARE(*size, QSize(4032, 3024));
    QVERIFY2(timer.elapsed() < 50, qPrintable(QString::number(timer.elapsed())));
    auto preview = imageio::readPreview(path, 800);
    QVERIFY(preview.isOk());
    QVERIFY(std::max(preview->width(), preview->height()) <= 800);
}

void TstImageIo::roundTripQImage() {
    QImage argb(3, 2, QImage::Format_ARGB32);
    argb.fill(qRgba(10, 20, 30, 0));  // fully transparent: colour survives, no compositing
    const llava::RgbImage rgb = imageio::toRgbImage(argb);
    QVERIFY(rgb.isValid());
    QCOMPARE(int(rgb.pixel(2, 1)[0]), 10);
    QCOMPARE(int(rgb.pixel(2, 1)[2]), 30);
    const QImage back = imageio::toQImage(rgb);
    QCOMPARE(back.size(), QSize(3, 2));
    QCOMPARE(back.pixel(1, 1), qRgb(10, 20, 30));
}

QTEST_GUILESS_MAIN(TstImageIo)
#include "tst_imageio.moc"
