// LossChartView's frame: at most one redraw per frame interval, where the dirty lines are decimated
// into their series, and the axis ranges (the zoom, or nice bounds around the data).

#include "charts/loss_chart_view.h"

#include "charts/chart_canvas.h"
#include "common/axis_ticks.h"

#include <QChart>
#include <QElapsedTimer>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScopeGuard>
#include <QScopedValueRollback>
#include <QTimer>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

constexpr int kTickIntervals = 5;            // at most, between about six ticks
constexpr qsizetype kAntialiasPoints = 8000; // drawn points over all lines, at most, for antialiasing

// An empty range has no step: the axis keeps the one it had.
void setTickStep(QValueAxis* axis, double step) {
    if (step > 0.0)
        axis->setTickInterval(step);
}

} // namespace

void LossChartView::flush() {
    m_frameTimer->stop();
    drawFrame();
}

void LossChartView::markAllDirty() {
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (line)
                line->dirty = true;
        }
    }
}

void LossChartView::scheduleFrame() {
    // A chart in a hidden tab only keeps its points; it draws once when shown (see showEvent).
    if (!isVisible()) {
        m_frameDeferred = true;
        return;
    }
    if (!m_frameTimer->isActive()) {
        const double wait = m_frameCostMs * kFrameCostShare;
        m_frameTimer->start(std::clamp(static_cast<int>(wait), kFrameIntervalMs, kMaxFrameIntervalMs));
    }
}

void LossChartView::notePaintCost(double paintMs) {
    // Smoothed, so one slow frame (a resize, a first paint) does not hold the next ones back long.
    const double cost = m_layoutMs + paintMs;
    m_layoutMs = 0.0;
    m_frameCostMs = m_frameCostMs <= 0.0 ? cost : 0.5 * m_frameCostMs + 0.5 * cost;
}

void LossChartView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_frameDeferred) {
        m_frameDeferred = false;
        markAllDirty();
        scheduleFrame();
    }
}

void LossChartView::drawFrame() {
    QElapsedTimer cost;
    cost.start();
    const auto noteLayout = qScopeGuard([&] { m_layoutMs += cost.nsecsElapsed() / 1e6; });
    // Decimate the changed lines, set the axes once, then let the curve layer draw: the series
    // stay empty, so Qt Charts lays out only its axes and legend.
    const AxisRange x = xRangeToShow();
    int columns = plotColumns();
    // The columns a line is decimated to: every pixel column while the point budget allows it.
    auto linesColumns = [this](int plot) {
        int lines = 0;
        for (const auto& [key, curve] : m_curves) {
            for (const auto& line : curve.lines) {
                if (curve.visible && line && !line->points.empty())
                    lines += m_smoothing > 0.0 ? 2 : 1;
            }
        }
        return budgetedColumns(m_pointBudget, lines, plot);
    };
    int lineColumns = linesColumns(columns);
    const bool redrawAll = columns != m_drawnColumns || lineColumns != m_lineColumns ||
                           x.min != m_drawnXMin || x.max != m_drawnXMax;

    struct Pending {
        Line* line;
        bool visible;
        QList<QPointF> bold;
        QList<QPointF> faint;
    };
    std::vector<Pending> pending;
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (!line || (!line->dirty && !redrawAll))
                continue;
            line->dirty = false;
            pending.push_back(Pending{line.get(), curve.visible, {}, {}});
        }
    }
    for (Pending& p : pending)
        decimateLine(*p.line, p.visible, x.min, x.max, lineColumns, p.bold, p.faint);
    const AxisRange y = yRangeToShow();
    {
        const QScopedValueRollback<bool> guard(m_applyingRange, true);
        // Ticks at multiples of a round step, also inside a zoomed range; whole numbers on step
        // and epoch axes.
        setTickStep(m_axisX, x.step > 0.0 ? x.step : niceTickStep(x.max - x.min, kTickIntervals, integerX()));
        m_axisX->setRange(x.min, x.max);
        if (m_logScale) {
            m_axisYLog->setRange(y.min, y.max);
        } else {
            setTickStep(m_axisYLinear, y.step > 0.0 ? y.step : niceTickStep(y.max - y.min, kTickIntervals));
            m_axisYLinear->setRange(y.min, y.max);
        }
    }
    // New tick labels can change the plot's width; the y range does not depend on the columns.
    if (plotColumns() != columns) {
        columns = plotColumns();
        lineColumns = linesColumns(columns);
        for (Pending& p : pending)
            decimateLine(*p.line, p.visible, x.min, x.max, lineColumns, p.bold, p.faint);
    }
    m_lineColumns = lineColumns;
    m_drawnColumns = columns;
    m_drawnXMin = x.min;
    m_drawnXMax = x.max;
    for (Pending& p : pending) {
        p.line->boldShown = std::move(p.bold);
        p.line->faintShown = std::move(p.faint);
    }
    m_curveLayer->update();
    if (pending.empty())
        return;
    // Antialiased or wide lines cost several times as much to lay out and paint: many long curves
    // are drawn with thin, aliased lines.
    qsizetype drawnPoints = 0;
    for (const auto& [key, curve] : m_curves) {
        for (const auto& line : curve.lines) {
            if (line)
                drawnPoints += line->boldShown.size() + line->faintShown.size();
        }
    }
    const bool lite = drawnPoints > kAntialiasPoints;
    if (lite != m_lite) {
        // Thin pens without antialiasing take the raster engine's fast path for lines.
        m_lite = lite;
        m_view->setRenderHint(QPainter::Antialiasing, !lite);
        for (auto& [key, curve] : m_curves) {
            for (size_t t = 0; t < curve.lines.size(); ++t) {
                if (curve.lines[t])
                    styleLine(key, Trace(t), *curve.lines[t]);
            }
        }
    }
    Q_EMIT frameDrawn();
}

void LossChartView::decimateLine(Line& line, bool visible, double xMin, double xMax, int columns,
                                 QList<QPointF>& boldPoints, QList<QPointF>& faintPoints) {
    line.drawn = YBounds();
    if (!visible || line.points.empty())
        return;
    line.drawn = line.points.decimate(m_smoothing, xMin, xMax, columns, m_logScale, boldPoints, faintPoints);
}

LossChartView::AxisRange LossChartView::xRangeToShow() const {
    if (!m_autoX)
        return {m_zoomXMin, m_zoomXMax};
    // The shown curves decide the range; all of them while every curve is hidden.
    double low = 0.0;
    double high = -1.0;
    bool any = false;
    for (bool visibleOnly : {true, false}) {
        for (const auto& [key, curve] : m_curves) {
            if (visibleOnly && !curve.visible)
                continue;
            for (const auto& line : curve.lines) {
                if (!line || line->points.empty())
                    continue;
                low = any ? std::min(low, line->points.xMin) : line->points.xMin;
                high = any ? std::max(high, line->points.xMax) : line->points.xMax;
                any = true;
            }
        }
        if (any)
            break;
    }
    if (!any)
        return {0.0, 100.0}; // whole-number step labels while empty
    // Round tick values (0, 250, 500 rather than 1, 5001); steps start near 0 anyway.
    const NiceRange nice =
        niceRange(std::min(low, 0.0), std::max(high, low + 1.0), kTickIntervals, integerX());
    return {nice.min, nice.max, nice.step};
}

LossChartView::AxisRange LossChartView::yRangeToShow() const {
    if (!m_autoY)
        return {m_zoomYMin, m_zoomYMax};
    // The y range fits the points drawn (in the visible x range, of the shown curves).
    YBounds drawn;
    for (const auto& [key, curve] : m_curves) {
        for (const auto& line : curve.lines) {
            if (line)
                drawn.merge(line->drawn);
        }
    }
    const double yMin = drawn.yMin;
    const double yMax = drawn.yMax;
    const double yMinPositive = drawn.yMinPositive;
    if (m_logScale) {
        if (yMinPositive <= 0.0)
            return {0.01, 1.0};
        // Whole decades: a log axis labels the powers of ten only, so each end gets a label.
        const double low = std::pow(10.0, std::floor(std::log10(yMinPositive)));
        const double high = std::pow(10.0, std::ceil(std::log10(yMax)));
        return {low, std::max(high, low * 10.0)};
    }
    if (yMin > yMax)
        return {0.0, 1.0};
    const double span = yMax - yMin;
    const double pad = span > 0.0 ? 0.05 * span : std::max(0.5 * std::abs(yMax), 0.5);
    double low = yMin - pad;
    if (yMin >= 0.0 && low < 0.0)
        low = 0.0; // a loss is not negative; don't show room for it
    NiceRange nice = niceRange(low, yMax + pad, kTickIntervals);
    // An axis ends where the metric does: accuracy stops at 1, not at a round 1.2.
    if (m_metric == Metric::ValAccuracy && yMax <= 1.0 && nice.max > 1.0)
        nice.max = 1.0;
    return {nice.min, nice.max, nice.step};
}

QAbstractAxis* LossChartView::yAxis() const {
    return m_logScale ? static_cast<QAbstractAxis*>(m_axisYLog) : m_axisYLinear;
}

void LossChartView::attachYAxis(QLineSeries* series) {
    series->attachAxis(yAxis());
}

} // namespace tunelab
