#include "playground/loss_landscape_view.h"

#include "common/axis_ticks.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr int kAxisMargin = 34; // room for the tick labels left of and below the map
constexpr int kEdgeMargin = 10;
constexpr int kMapCellPixels = 2; // the heat map and contours are sampled every this many pixels

// Pale at the floor, dark on the walls: the paths (Tableau colours) stand out where they end.
constexpr std::array<QRgb, 5> kHeatStops = {0xfffbe8, 0xd5ecd4, 0x92c5c9, 0x5c86b0, 0x3b3f74};

QColor heatColor(double t) {
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(kHeatStops.size() - 1);
    const auto index = std::min(static_cast<size_t>(t), kHeatStops.size() - 2);
    const double f = t - static_cast<double>(index);
    const QColor a = QColor::fromRgb(kHeatStops[index]);
    const QColor b = QColor::fromRgb(kHeatStops[index + 1]);
    return QColor::fromRgbF(static_cast<float>(a.redF() + f * (b.redF() - a.redF())),
                            static_cast<float>(a.greenF() + f * (b.greenF() - a.greenF())),
                            static_cast<float>(a.blueF() + f * (b.blueF() - a.blueF())));
}

// Where the level crosses the edge from a to b, as a fraction of the edge; NaN where it does not.
double crossing(double a, double b, double level) {
    if ((a < level) == (b < level))
        return std::numeric_limits<double>::quiet_NaN();
    return (level - a) / (b - a);
}

} // namespace

LossLandscapeView::LossLandscapeView(QWidget* parent)
    : QWidget(parent) {
    setMouseTracking(false);
    setCursor(Qt::CrossCursor);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    const auto start = defaultStart(m_surface);
    m_start = QPointF(start.first, start.second);
}

void LossLandscapeView::setSurface(const Surface& surface) {
    m_surface = surface;
    invalidateMap();
}

void LossLandscapeView::setStart(double x, double y) {
    m_start = QPointF(x, y);
    update();
}

void LossLandscapeView::setPaths(const QVector<LandscapePath>& paths) {
    m_paths = paths;
    update();
}

void LossLandscapeView::setVisibleStep(int step) {
    m_visibleStep = std::max(0, step);
    update();
}

QRectF LossLandscapeView::plotRect() const {
    const SurfaceBounds bounds = surfaceBounds(m_surface);
    const double width = bounds.xMax - bounds.xMin;
    const double height = bounds.yMax - bounds.yMin;
    const QRectF available(kAxisMargin, kEdgeMargin, std::max(1, this->width() - kAxisMargin - kEdgeMargin),
                           std::max(1, this->height() - kAxisMargin - kEdgeMargin));
    const double scale = std::min(available.width() / width, available.height() / height);
    QRectF plot(0, 0, std::floor(width * scale), std::floor(height * scale));
    plot.moveCenter(available.center());
    return QRectF(std::round(plot.left()), std::round(plot.top()), plot.width(), plot.height());
}

QPointF LossLandscapeView::toWidget(const QPointF& surfacePoint) const {
    const SurfaceBounds bounds = surfaceBounds(m_surface);
    const QRectF plot = plotRect();
    return {plot.left() + (surfacePoint.x() - bounds.xMin) / (bounds.xMax - bounds.xMin) * plot.width(),
            plot.bottom() - (surfacePoint.y() - bounds.yMin) / (bounds.yMax - bounds.yMin) * plot.height()};
}

QPointF LossLandscapeView::toSurface(const QPointF& widgetPoint) const {
    const SurfaceBounds bounds = surfaceBounds(m_surface);
    const QRectF plot = plotRect();
    return {bounds.xMin + (widgetPoint.x() - plot.left()) / plot.width() * (bounds.xMax - bounds.xMin),
            bounds.yMin + (plot.bottom() - widgetPoint.y()) / plot.height() * (bounds.yMax - bounds.yMin)};
}

void LossLandscapeView::invalidateMap() {
    m_mapValid = false;
    update();
}

void LossLandscapeView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_mapValid = false;
}

void LossLandscapeView::rebuildMap() {
    m_mapValid = true;
    const QRectF plot = plotRect();
    const int columns = std::max(2, static_cast<int>(plot.width()) / kMapCellPixels + 1);
    const int rows = std::max(2, static_cast<int>(plot.height()) / kMapCellPixels + 1);
    const SurfaceBounds bounds = surfaceBounds(m_surface);

    // Values on a grid of corners; row 0 is the top (largest y).
    std::vector<double> values(static_cast<size_t>(columns) * static_cast<size_t>(rows));
    double lowest = std::numeric_limits<double>::infinity();
    double highest = -std::numeric_limits<double>::infinity();
    for (int row = 0; row < rows; ++row) {
        const double y = bounds.yMax - (bounds.yMax - bounds.yMin) * row / (rows - 1);
        for (int column = 0; column < columns; ++column) {
            const double x = bounds.xMin + (bounds.xMax - bounds.xMin) * column / (columns - 1);
            const double value = surfaceValue(m_surface, x, y);
            values[static_cast<size_t>(row) * columns + column] = value;
            lowest = std::min(lowest, value);
            highest = std::max(highest, value);
        }
    }
    for (const auto& [x, y] : surfaceMinima(m_surface))
        lowest = std::min(lowest, surfaceValue(m_surface, x, y));

    // Rastrigin's bumps and the saddle's two wells live in a narrow range; everything else spans
    // decades, where linear colours would paint the whole valley one shade.
    m_logColors = m_surface.kind != SurfaceKind::Rastrigin && m_surface.kind != SurfaceKind::Saddle;
    const double range = std::max(highest - lowest, 1e-12);
    const double logScale = range * 1e-4;
    const double logTop = std::log1p(range / logScale);
    auto position = [&](double value) {
        const double above = std::max(0.0, value - lowest);
        return m_logColors ? std::log1p(above / logScale) / logTop : above / range;
    };
    for (double& value : values)
        value = position(value);

    m_heatMap = QImage(columns, rows, QImage::Format_RGB32);
    for (int row = 0; row < rows; ++row) {
        auto* line = reinterpret_cast<QRgb*>(m_heatMap.scanLine(row));
        for (int column = 0; column < columns; ++column)
            line[column] = heatColor(values[static_cast<size_t>(row) * columns + column]).rgb();
    }

    // Marching squares over the same grid, at levels evenly spaced in colour.
    m_contours.clear();
    const double cellWidth = plot.width() / (columns - 1);
    const double cellHeight = plot.height() / (rows - 1);
    auto corner = [&](int row, int column) { return values[static_cast<size_t>(row) * columns + column]; };
    for (int level = 1; level < kContourLevels; ++level) {
        const double t = static_cast<double>(level) / kContourLevels;
        for (int row = 0; row + 1 < rows; ++row) {
            for (int column = 0; column + 1 < columns; ++column) {
                const double topLeft = corner(row, column), topRight = corner(row, column + 1);
                const double bottomLeft = corner(row + 1, column), bottomRight = corner(row + 1, column + 1);
                const double left = plot.left() + column * cellWidth, top = plot.top() + row * cellHeight;
                std::array<QPointF, 4> points;
                int count = 0;
                double f = crossing(topLeft, topRight, t);
                if (!std::isnan(f))
                    points[count++] = QPointF(left + f * cellWidth, top);
                f = crossing(topRight, bottomRight, t);
                if (!std::isnan(f))
                    points[count++] = QPointF(left + cellWidth, top + f * cellHeight);
                f = crossing(bottomLeft, bottomRight, t);
                if (!std::isnan(f))
                    points[count++] = QPointF(left + f * cellWidth, top + cellHeight);
                f = crossing(topLeft, bottomLeft, t);
                if (!std::isnan(f))
                    points[count++] = QPointF(left, top + f * cellHeight);
                if (count >= 2)
                    m_contours.emplace_back(points[0], points[1]);
                if (count == 4)
                    m_contours.emplace_back(points[2], points[3]);
            }
        }
    }
}

void LossLandscapeView::paintEvent(QPaintEvent*) {
    if (!m_mapValid)
        rebuildMap();
    QPainter painter(this);
    painter.fillRect(rect(), palette().window());
    const QRectF plot = plotRect();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
    painter.drawImage(plot, m_heatMap);

    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setClipRect(plot);
    painter.setPen(QPen(QColor(20, 30, 60, 70), 1.0));
    painter.drawLines(m_contours.data(), static_cast<int>(m_contours.size()));

    drawPathLines(painter);

    // Minima: small yellow stars outlined in black.
    for (const auto& [x, y] : surfaceMinima(m_surface)) {
        const QPointF center = toWidget(QPointF(x, y));
        QPainterPath star;
        for (int k = 0; k < 10; ++k) {
            const double radius = k % 2 == 0 ? 8.0 : 3.5;
            const double angle = -M_PI / 2 + k * M_PI / 5;
            const QPointF point = center + QPointF(radius * std::cos(angle), radius * std::sin(angle));
            if (k == 0)
                star.moveTo(point);
            else
                star.lineTo(point);
        }
        star.closeSubpath();
        painter.setPen(QPen(Qt::black, 1.2));
        painter.setBrush(QColor(255, 215, 0));
        painter.drawPath(star);
    }

    drawPathMarkers(painter);

    // The start: a ring that reads on light and dark parts of the map.
    const QPointF start = toWidget(m_start);
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(Qt::white, 4.0));
    painter.drawEllipse(start, 7.0, 7.0);
    painter.setPen(QPen(Qt::black, 2.0));
    painter.drawEllipse(start, 7.0, 7.0);

    painter.setClipping(false);
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(palette().windowText().color(), 1.0));
    painter.drawRect(plot);
    drawAxes(painter, plot);
    drawLegend(painter, plot);
}

QPolygonF LossLandscapeView::visiblePart(const LandscapePath& path) const {
    const int last = std::min(m_visibleStep, static_cast<int>(path.points.size()) - 1);
    QPolygonF line;
    line.reserve(last + 1);
    for (int i = 0; i <= last; ++i)
        line << toWidget(path.points[i]);
    return line;
}

void LossLandscapeView::drawPathLines(QPainter& painter) const {
    for (const LandscapePath& path : m_paths) {
        const QPolygonF line = visiblePart(path);
        if (line.isEmpty())
            continue;
        // A white halo keeps each path readable where it crosses another or a dark wall.
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(QColor(255, 255, 255, 200), 4.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter.drawPolyline(line);
        painter.setPen(QPen(path.color, 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter.drawPolyline(line);
        // One dot per step shows the step length: long strides, crawling, shrinking steps.
        painter.setPen(Qt::NoPen);
        painter.setBrush(path.color.darker(130));
        for (const QPointF& point : line)
            painter.drawEllipse(point, 2.2, 2.2);
    }
}

// The current positions go on top of every path and the minima, so a slow optimizer hidden under
// a faster one's trail still shows where it is.
void LossLandscapeView::drawPathMarkers(QPainter& painter) const {
    for (const LandscapePath& path : m_paths) {
        const QPolygonF line = visiblePart(path);
        if (line.isEmpty())
            continue;
        painter.setPen(QPen(Qt::white, 2.0));
        painter.setBrush(path.color);
        painter.drawEllipse(line.last(), 6.0, 6.0);
        if (path.diverged && line.size() == path.points.size()) {
            painter.setPen(QPen(path.color, 3.0));
            const QPointF end = line.last();
            painter.drawLine(end + QPointF(-8, -8), end + QPointF(8, 8));
            painter.drawLine(end + QPointF(-8, 8), end + QPointF(8, -8));
        }
    }
}

void LossLandscapeView::drawAxes(QPainter& painter, const QRectF& plot) const {
    const SurfaceBounds bounds = surfaceBounds(m_surface);
    const QFontMetrics metrics(font());
    painter.setPen(palette().windowText().color());
    for (const double x :
         niceTicks(bounds.xMin, bounds.xMax, std::max(2, static_cast<int>(plot.width() / 80)))) {
        const double px = toWidget(QPointF(x, bounds.yMin)).x();
        painter.drawLine(QPointF(px, plot.bottom()), QPointF(px, plot.bottom() + 4));
        const QString text = QString::number(x, 'g', 3);
        painter.drawText(QRectF(px - 30, plot.bottom() + 5, 60, metrics.height()), Qt::AlignHCenter, text);
    }
    for (const double y :
         niceTicks(bounds.yMin, bounds.yMax, std::max(2, static_cast<int>(plot.height() / 60)))) {
        const double py = toWidget(QPointF(bounds.xMin, y)).y();
        painter.drawLine(QPointF(plot.left() - 4, py), QPointF(plot.left(), py));
        const QString text = QString::number(y, 'g', 3);
        painter.drawText(QRectF(0, py - metrics.height() / 2.0, plot.left() - 6, metrics.height()),
                         Qt::AlignRight | Qt::AlignVCenter, text);
    }
}

void LossLandscapeView::drawLegend(QPainter& painter, const QRectF& plot) const {
    if (m_paths.isEmpty())
        return;
    const QFontMetrics metrics(font());
    int width = 0;
    for (const LandscapePath& path : m_paths)
        width = std::max(width, metrics.horizontalAdvance(path.label));
    const int lineHeight = metrics.height() + 2;
    const QRectF box(plot.right() - width - 40, plot.top() + 8, width + 32, lineHeight * m_paths.size() + 8);
    painter.setPen(QPen(QColor(0, 0, 0, 60)));
    painter.setBrush(QColor(255, 255, 255, 215));
    painter.drawRoundedRect(box, 4, 4);
    for (int i = 0; i < m_paths.size(); ++i) {
        const double y = box.top() + 4 + i * lineHeight;
        painter.setPen(QPen(m_paths[i].color, 3.0));
        painter.drawLine(QPointF(box.left() + 6, y + lineHeight / 2.0),
                         QPointF(box.left() + 20, y + lineHeight / 2.0));
        painter.setPen(Qt::black);
        painter.drawText(QRectF(box.left() + 24, y, width + 4, lineHeight), Qt::AlignLeft | Qt::AlignVCenter,
                         m_paths[i].label);
    }
}

void LossLandscapeView::moveStartTo(const QPointF& widgetPoint) {
    const SurfaceBounds bounds = surfaceBounds(m_surface);
    const QPointF point = toSurface(widgetPoint);
    const double x = std::clamp(point.x(), bounds.xMin, bounds.xMax);
    const double y = std::clamp(point.y(), bounds.yMin, bounds.yMax);
    if (QPointF(x, y) == m_start)
        return;
    setStart(x, y);
    Q_EMIT startMoved(x, y);
}

void LossLandscapeView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || !plotRect().contains(event->position())) {
        QWidget::mousePressEvent(event);
        return;
    }
    moveStartTo(event->position());
}

void LossLandscapeView::mouseMoveEvent(QMouseEvent* event) {
    if (event->buttons() & Qt::LeftButton)
        moveStartTo(event->position());
}

} // namespace tunelab
