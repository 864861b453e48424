#pragma once

// Private to the study plots' .cpp files (not a public header): the palette, segment-wise
// polylines, a fast blender for thousands of aliased lines, and label elision.

#include <QColor>
#include <QFontMetrics>
#include <QImage>
#include <QLineF>
#include <QPainter>
#include <QPolygonF>
#include <QString>
#include <QVarLengthArray>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tunelab::study_plot_painting {

inline const QColor kAxisColor(90, 90, 90);
inline const QColor kGridColor(232, 232, 236);
inline const QColor kTextColor(60, 60, 60);
inline const QColor kSelectedColor(255, 150, 0);
inline const QColor kBestColor(214, 39, 40);
inline const QColor kCompleteColor(45, 100, 175);

// A polyline as separate segments: QPainter strokes a translucent polyline as one path so that
// its own overlaps do not blend twice, which costs ten times more than drawing its segments as lines.
inline void drawSegments(QPainter& painter, const QPolygonF& line) {
    if (line.size() < 2)
        return;
    QVarLengthArray<QLineF, 64> segments;
    for (int i = 0; i + 1 < line.size(); ++i)
        segments.append(QLineF(line[i], line[i + 1]));
    painter.drawLines(segments.constData(), static_cast<int>(segments.size()));
}

// Draws one-pixel lines straight into the plot's cached image, blending source-over. With
// thousands of translucent lines QPainter hands the raster engine one span per pixel (and, on
// large batches, to its thread pool), about 50 ns a pixel; this loop costs a few. Used only where
// so many lines are drawn that they are aliased anyway.
class LineBlender {
public:
    explicit LineBlender(QPainter& painter)
        : m_image(dynamic_cast<QImage*>(painter.device())) {
        if (m_image && m_image->format() != QImage::Format_ARGB32_Premultiplied)
            m_image = nullptr;
        if (m_image) {
            m_ratio = m_image->devicePixelRatio();
            m_width = m_image->width();
            m_height = m_image->height();
            m_bits = reinterpret_cast<QRgb*>(m_image->bits());
            m_stride = static_cast<int>(m_image->bytesPerLine() / 4);
        }
    }
    // A blender that draws nothing: the caller paints with QPainter (antialiased) instead.
    LineBlender(QPainter&, std::nullptr_t) {}
    bool isValid() const { return m_image != nullptr; }

    void setColor(const QColor& color) {
        m_inverse = 255u - static_cast<uint>(color.alpha());
        m_source = qPremultiply(color.rgba());
    }

    void drawPolyline(const QPolygonF& line) {
        for (int i = 0; i + 1 < line.size(); ++i)
            drawSegment(line[i], line[i + 1]);
        if (!line.isEmpty())
            blendPixel(static_cast<int>(std::lround(line.back().x() * m_ratio)),
                       static_cast<int>(std::lround(line.back().y() * m_ratio)));
    }

private:
    // The end pixel is left to the next segment, so joints do not blend twice. A DDA in 16.16 fixed
    // point along the longer axis.
    void drawSegment(const QPointF& from, const QPointF& to) {
        const double x0 = from.x() * m_ratio;
        const double y0 = from.y() * m_ratio;
        const double dx = to.x() * m_ratio - x0;
        const double dy = to.y() * m_ratio - y0;
        const int steps = static_cast<int>(std::ceil(std::max(std::fabs(dx), std::fabs(dy))));
        if (steps <= 0)
            return;
        constexpr double kOne = 65536.0;
        auto x = static_cast<int64_t>((x0 + 0.5) * kOne);
        auto y = static_cast<int64_t>((y0 + 0.5) * kOne);
        const auto sx = static_cast<int64_t>(dx / steps * kOne);
        const auto sy = static_cast<int64_t>(dy / steps * kOne);
        for (int i = 0; i < steps; ++i, x += sx, y += sy)
            blendPixel(static_cast<int>(x >> 16), static_cast<int>(y >> 16));
    }

    // Each of the four 8-bit channels of `x` times a / 255, two channels per multiplication.
    static uint byteMul(uint x, uint a) {
        uint t = (x & 0xff00ffu) * a;
        t = (t + ((t >> 8) & 0xff00ffu) + 0x800080u) >> 8;
        t &= 0xff00ffu;
        x = ((x >> 8) & 0xff00ffu) * a;
        x = x + ((x >> 8) & 0xff00ffu) + 0x800080u;
        x &= 0xff00ff00u;
        return x | t;
    }

    void blendPixel(int x, int y) {
        if (static_cast<unsigned>(x) >= static_cast<unsigned>(m_width) ||
            static_cast<unsigned>(y) >= static_cast<unsigned>(m_height))
            return;
        QRgb& pixel = m_bits[y * m_stride + x];
        pixel = m_source + byteMul(pixel, m_inverse);
    }

    QImage* m_image = nullptr;
    QRgb* m_bits = nullptr;
    int m_stride = 0;
    int m_width = 0;
    int m_height = 0;
    qreal m_ratio = 1.0;
    uint m_inverse = 0;
    QRgb m_source = 0;
};

// Draws the selected ones of `lines` (pairs of trial number and polyline) in `color`. Up to a few
// dozen are stroked antialiased `width` wide; more go through a LineBlender (when the painter paints
// an image), each drawn twice a pixel apart, since stroking hundreds of wide lines costs a frame.
template <typename Lines, typename IsSelected>
void drawSelectedLines(QPainter& painter, const Lines& lines, IsSelected isSelected, const QColor& color,
                       qreal width) {
    constexpr int kStrokedAtMost = 40;
    int selected = 0;
    for (const auto& [number, line] : lines)
        selected += isSelected(number) ? 1 : 0;
    LineBlender blender(painter);
    if (selected > kStrokedAtMost && blender.isValid()) {
        blender.setColor(color);
        for (const auto& [number, line] : lines) {
            if (!isSelected(number))
                continue;
            blender.drawPolyline(line);
            blender.drawPolyline(line.translated(0.0, 1.0));
        }
        return;
    }
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(color, width));
    for (const auto& [number, line] : lines) {
        if (isSelected(number))
            drawSegments(painter, line);
    }
}

// The squared distance from `pos` to the nearest point of `line` (a line of one point is that point),
// over the segments that reach within `reach` pixels of it horizontally; infinity when none does.
inline double squaredDistanceToLine(const QPolygonF& line, const QPointF& pos, double reach) {
    double nearest = std::numeric_limits<double>::infinity();
    for (int i = 0; i < line.size(); ++i) {
        const QPointF a = line[i];
        const QPointF b = i + 1 < line.size() ? line[i + 1] : a;
        if (pos.x() < std::min(a.x(), b.x()) - reach || pos.x() > std::max(a.x(), b.x()) + reach)
            continue;
        const QPointF ab = b - a;
        const double length = ab.x() * ab.x() + ab.y() * ab.y();
        const double t = length > 0.0 ? std::clamp(QPointF::dotProduct(pos - a, ab) / length, 0.0, 1.0) : 0.0;
        const QPointF d = a + ab * t - pos;
        nearest = std::min(nearest, d.x() * d.x() + d.y() * d.y());
    }
    return nearest;
}

inline QString elided(const QFontMetrics& metrics, const QString& text, int width) {
    return metrics.elidedText(text, Qt::ElideMiddle, std::max(width, 12));
}

} // namespace tunelab::study_plot_painting
