// LossChartView's curves, drawn by its CurveLayer over the plot area: the decimated points of each
// visible line, mapped through the axes' ranges, and the hover tooltip of the nearest point.

#include "charts/loss_chart_view.h"

#include "charts/chart_canvas.h"

#include <QLineF>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QValueAxis>
#include <QVector>

#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr double kHoverPixels = 6.0; // how near the pointer must come to a point

// Data to chart coordinates for the axes' current ranges; y <= 0 has no place on a log axis.
struct PlotMapping {
    QRectF plot;
    double xMin, xSpan, yMin, ySpan;
    bool log;

    bool map(const QPointF& point, QPointF& out) const {
        double y = point.y();
        if (log) {
            if (!(y > 0.0))
                return false;
            y = std::log10(y);
        }
        out = QPointF(plot.left() + (point.x() - xMin) / xSpan * plot.width(),
                      plot.bottom() - (y - yMin) / ySpan * plot.height());
        return std::isfinite(out.x()) && std::isfinite(out.y());
    }
};

} // namespace

void LossChartView::paintCurves(QPainter& painter, const QRectF& plot) const {
    const double xMin = m_axisX->min();
    const double xSpan = m_axisX->max() - xMin;
    double yMin = m_logScale ? std::log10(m_axisYLog->min()) : m_axisYLinear->min();
    double ySpan = (m_logScale ? std::log10(m_axisYLog->max()) : m_axisYLinear->max()) - yMin;
    if (!(xSpan > 0.0) || !(ySpan > 0.0) || plot.isEmpty())
        return;
    const PlotMapping mapping{plot, xMin, xSpan, yMin, ySpan, m_logScale};
    painter.save();
    painter.setClipRect(plot);
    // Many long curves: thin aliased lines take the raster engine's fast path.
    painter.setRenderHint(QPainter::Antialiasing, !m_lite);
    // Segments, not one polyline: an antialiased polyline is filled as one self-crossing polygon,
    // hundreds of times slower for a noisy curve than its segments one by one.
    QVector<QLineF> segments;
    auto draw = [&](const QList<QPointF>& points, const QPen& pen) {
        segments.clear();
        QPointF previous;
        bool havePrevious = false;
        for (const QPointF& point : points) {
            QPointF mapped;
            if (!mapping.map(point, mapped)) { // a gap (y <= 0 on a log axis) splits the line
                havePrevious = false;
                continue;
            }
            if (havePrevious)
                segments.append(QLineF(previous, mapped));
            previous = mapped;
            havePrevious = true;
        }
        if (!segments.isEmpty()) {
            painter.setPen(pen);
            painter.drawLines(segments);
        }
    };
    // Every faint raw line first, then the bold ones over them.
    for (const bool bold : {false, true}) {
        for (const auto& [key, curve] : m_curves) {
            if (!curve.visible)
                continue;
            for (const auto& line : curve.lines) {
                if (line)
                    draw(bold ? line->boldShown : line->faintShown,
                         bold ? line->bold->pen() : line->faint->pen());
            }
        }
    }
    painter.restore();
}

void LossChartView::hoverAt(const QPointF& at) {
    const QRectF plot = m_chart->plotArea();
    double bestDistance = kHoverPixels;
    qint64 bestKey = 0;
    Trace bestTrace = Trace::Primary;
    QPointF bestPoint;
    bool found = false;
    if (plot.contains(at)) {
        const double xMin = m_axisX->min();
        const double yMin = m_logScale ? std::log10(m_axisYLog->min()) : m_axisYLinear->min();
        const double ySpan = (m_logScale ? std::log10(m_axisYLog->max()) : m_axisYLinear->max()) - yMin;
        const PlotMapping mapping{plot, xMin, m_axisX->max() - xMin, yMin, ySpan, m_logScale};
        for (const auto& [key, curve] : m_curves) {
            if (!curve.visible)
                continue;
            for (size_t t = 0; t < curve.lines.size(); ++t) {
                if (!curve.lines[t])
                    continue;
                for (const QPointF& point : curve.lines[t]->boldShown) {
                    QPointF mapped;
                    if (!mapping.map(point, mapped))
                        continue;
                    const double distance = std::hypot(mapped.x() - at.x(), mapped.y() - at.y());
                    if (distance < bestDistance) {
                        bestDistance = distance;
                        bestKey = key;
                        bestTrace = Trace(t);
                        bestPoint = point;
                        found = true;
                    }
                }
            }
        }
    }
    if (found) {
        m_hovering = true;
        handleHover(bestKey, bestTrace, bestPoint, true, at);
    } else if (m_hovering) {
        m_hovering = false;
        handleHover(0, Trace::Primary, QPointF(), false);
    }
}

} // namespace tunelab
