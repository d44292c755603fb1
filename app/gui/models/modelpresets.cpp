#include "modelpresets.h"

#include <QLinearGradient>
#include <QPainter>
#include <QPainterPath>

llava::ModelConfig defaultInspectorConfig() {
    llava::ModelConfig config;
    config.name = "llava-v1.6-mistral-7b";
    config.gridPinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    config.templateName = "mistral_instruct";
    return config;
}

QImage drawSampleImage() {
    QImage image(1024, 768, QImage::Format_RGB32);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    QLinearGradient sky(0, 0, 0, 500);
    sky.setColorAt(0, QColor(70, 130, 210));
    sky.setColorAt(1, QColor(190, 225, 250));
    p.fillRect(image.rect(), sky);
    p.setBrush(QColor(255, 215, 60));
    p.setPen(Qt::NoPen);
    p.drawEllipse(QPointF(820, 150), 70, 70);
    QPainterPath hills;
    hills.moveTo(0, 560);
    hills.cubicTo(250, 430, 450, 640, 700, 520);
    hills.cubicTo(850, 450, 950, 500, 1024, 480);
    hills.lineTo(1024, 768);
    hills.lineTo(0, 768);
    p.setBrush(QColor(80, 160, 70));
    p.drawPath(hills);
    p.setBrush(QColor(200, 70, 50));
    p.drawRect(300, 440, 180, 130);
    QPolygonF roof{{280, 440}, {390, 360}, {500, 440}};
    p.setBrush(QColor(110, 60, 40));
    p.drawPolygon(roof);
    p.setBrush(QColor(250, 240, 200));
    p.drawRect(330, 470, 40, 40);
    p.drawRect(410, 470, 40, 40);
    p.setBrush(QColor(90, 50, 30));
    p.drawRect(375, 515, 30, 55);
    p.setBrush(QColor(60, 110, 50));
    p.drawEllipse(QPointF(640, 470), 45, 70);
    p.setBrush(QColor(100, 70, 40));
    p.drawRect(633, 530, 14, 50);
    return image;
}
