// The plots over parameter values: parallel coordinates with brushing, and the contour / slice plot.

#include "study/study_plots.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tunelab {

using namespace study_plot_painting;

namespace {

// A stable pseudo-random offset in [-0.5, 0.5) per trial, so that jittered dots do not move
// between repaints.
double jitterOf(qint64 number, int salt) {
    uint64_t x = static_cast<uint64_t>(number) * 0x9E3779B97F4A7C15ull +
                 static_cast<uint64_t>(salt) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 29;
    return static_cast<double>(x >> 11) / static_cast<double>(1ull << 53) - 0.5;
}

} // namespace

// ParallelCoordinatesPlot --------------------------------------------------------------------

ParallelCoordinatesPlot::ParallelCoordinatesPlot(QWidget* parent)
    : StudyPlot(parent) {
    setMargins(56, 40, 96, 18);
}

void ParallelCoordinatesPlot::rebuildAxes() {
    m_axes.clear();
    m_paths.clear();
    const auto& trials = m_model->trials();
    for (const std::string& path : m_model->parameters()) {
        m_axes.push_back(PlotAxis::forParameter(trials, path, m_model->isLogParameter(path)));
        m_paths.push_back(path);
    }
    std::vector<double> values;
    for (const TrialRecord& trial : trials) {
        if (trial.state == TrialState::Complete)
            values.push_back(trial.value);
    }
    m_axes.push_back(PlotAxis::forValues(values, QString::fromStdString(m_model->objective().metric)));
    m_paths.emplace_back();
    // A brush on an axis that no longer exists would filter on the wrong parameter.
    for (auto it = m_brushUnits.begin(); it != m_brushUnits.end();) {
        it = it->first < axisCount() ? std::next(it) : m_brushUnits.erase(it);
    }
}

double ParallelCoordinatesPlot::axisX(int index) const {
    const QRectF area = plotArea();
    if (axisCount() <= 1)
        return area.center().x();
    return area.left() + area.width() * index / (axisCount() - 1);
}

QPointF ParallelCoordinatesPlot::pointOnAxis(int index, double coordinate) const {
    const QRectF area = plotArea();
    const double unit = std::clamp(m_axes[static_cast<size_t>(index)].toUnit(coordinate), 0.0, 1.0);
    return QPointF(axisX(index), area.bottom() - unit * area.height());
}

double ParallelCoordinatesPlot::unitAtY(double y) const {
    const QRectF area = plotArea();
    return std::clamp((area.bottom() - y) / area.height(), 0.0, 1.0);
}

int ParallelCoordinatesPlot::axisNear(const QPointF& pos) const {
    const QRectF area = plotArea();
    if (pos.y() < area.top() - 8 || pos.y() > area.bottom() + 8)
        return -1;
    for (int i = 0; i < axisCount(); ++i) {
        if (std::fabs(pos.x() - axisX(i)) <= 12.0)
            return i;
    }
    return -1;
}

std::map<int, std::pair<double, double>> ParallelCoordinatesPlot::brushes() const {
    std::map<int, std::pair<double, double>> ranges;
    for (const auto& [index, units] : m_brushUnits) {
        const PlotAxis& a = axis(index);
        ranges[index] = {a.fromUnit(units.first), a.fromUnit(units.second)};
    }
    return ranges;
}

void ParallelCoordinatesPlot::clearBrushes() {
    if (m_brushUnits.empty())
        return;
    m_brushUnits.clear();
    update();
}

bool ParallelCoordinatesPlot::insideBrushes(const TrialRecord& trial) const {
    for (const auto& [index, units] : m_brushUnits) {
        const PlotAxis& a = axis(index);
        const double coordinate = m_paths[static_cast<size_t>(index)].empty()
                                      ? trial.value
                                      : a.coordinateOf(trial.params, m_paths[static_cast<size_t>(index)]);
        if (!std::isfinite(coordinate))
            return false;
        const double unit = std::clamp(a.toUnit(coordinate), 0.0, 1.0);
        if (unit < units.first || unit > units.second)
            return false;
    }
    return true;
}

QList<qint64> ParallelCoordinatesPlot::trialsInBrushes() const {
    QList<qint64> numbers;
    if (!m_model)
        return numbers;
    for (const TrialRecord& trial : m_model->trials()) {
        if (trial.state == TrialState::Complete && std::isfinite(trial.value) && insideBrushes(trial))
            numbers << trial.number;
    }
    return numbers;
}

void ParallelCoordinatesPlot::render(QPainter& painter) {
    rebuildAxes();
    m_lines.clear();
    std::vector<const TrialRecord*> complete;
    for (const TrialRecord& trial : m_model->trials()) {
        if (trial.state == TrialState::Complete && std::isfinite(trial.value))
            complete.push_back(&trial);
    }
    if (complete.empty()) {
        drawEmptyMessage(painter, tr("No complete trial yet"));
        return;
    }
    const ObjectiveSpec& objective = m_model->objective();
    const PlotAxis& valueAxis = m_axes.back();
    // Worst first, so that the best trials are drawn on top.
    std::sort(complete.begin(), complete.end(), [&](const TrialRecord* a, const TrialRecord* b) {
        return isBetter(objective, b->value, a->value);
    });
    const QRectF area = plotArea();
    const bool many = complete.size() > 400;
    LineBlender blender(painter);
    if (!many)
        blender = LineBlender(painter, nullptr);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, !many);
    painter.setBrush(Qt::NoBrush);
    for (const TrialRecord* trial : complete) {
        QPolygonF line;
        line.reserve(axisCount());
        for (int i = 0; i < axisCount(); ++i) {
            const std::string& path = m_paths[static_cast<size_t>(i)];
            const double coordinate = path.empty()
                                          ? trial->value
                                          : m_axes[static_cast<size_t>(i)].coordinateOf(trial->params, path);
            if (std::isfinite(coordinate))
                line << pointOnAxis(i, coordinate);
        }
        const QColor color = goodnessColor(goodness(valueAxis, objective, trial->value), many ? 110 : 170);
        if (blender.isValid()) {
            blender.setColor(color);
            blender.drawPolyline(line);
        } else {
            painter.setPen(QPen(color, 1.0));
            drawSegments(painter, line);
        }
        m_lines.emplace_back(trial->number, std::move(line));
    }
    painter.restore();

    // Axes over the lines, each with its ticks on a light plate so that labels stay readable.
    QFont small = painter.font();
    small.setPointSizeF(std::max(7.0, small.pointSizeF() - 1.0));
    const QFontMetrics smallMetrics(small);
    QFont bold = painter.font();
    bold.setBold(true);
    const QFontMetrics boldMetrics(bold);
    const double spacing = axisCount() > 1 ? area.width() / (axisCount() - 1) : area.width();
    for (int i = 0; i < axisCount(); ++i) {
        const PlotAxis& a = m_axes[static_cast<size_t>(i)];
        const double x = axisX(i);
        painter.setPen(QPen(kAxisColor, 1.2));
        painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
        painter.setFont(small);
        const int labelWidth = static_cast<int>(std::min(spacing * 0.55, 90.0));
        for (const auto& [unit, label] : a.ticks(std::max(2, static_cast<int>(area.height() / 32)))) {
            const double y = area.bottom() - unit * area.height();
            const QString text = elided(smallMetrics, label, labelWidth);
            const int w = smallMetrics.horizontalAdvance(text);
            const QRectF plate(x - 5 - w - 2, y - smallMetrics.height() / 2.0, w + 4, smallMetrics.height());
            painter.fillRect(plate, QColor(255, 255, 255, 200));
            painter.setPen(kAxisColor);
            painter.drawLine(QPointF(x - 3, y), QPointF(x, y));
            painter.setPen(kTextColor);
            painter.drawText(plate, Qt::AlignCenter, text);
        }
        painter.setFont(bold);
        const QString title = elided(boldMetrics, a.title, static_cast<int>(std::max(40.0, spacing - 8)));
        painter.setPen(i + 1 == axisCount() ? kBestColor.darker(130) : kTextColor);
        painter.drawText(QPointF(x - boldMetrics.horizontalAdvance(title) / 2.0, area.top() - 14), title);
    }
    painter.setFont(font());
    drawColorBar(painter, QRectF(area.right() + 30, area.top(), 10, area.height()), valueAxis);
}

void ParallelCoordinatesPlot::paintSelection(QPainter& painter) {
    drawSelectedLines(
        painter, m_lines, [this](qint64 number) { return isSelected(number); }, kSelectedColor.darker(110),
        1.6);
}

void ParallelCoordinatesPlot::paintOverlay(QPainter& painter) {
    const QRectF area = plotArea();
    for (const auto& [index, units] : m_brushUnits) {
        const double x = axisX(index);
        const QRectF band(x - 7, area.bottom() - units.second * area.height(), 14,
                          std::max(2.0, (units.second - units.first) * area.height()));
        painter.setPen(QPen(QColor(40, 90, 200), 1.2));
        painter.setBrush(QColor(40, 90, 200, 60));
        painter.drawRoundedRect(band, 3, 3);
    }
}

qint64 ParallelCoordinatesPlot::trialAt(const QPointF& pos) const {
    qint64 best = -1;
    double bestDistance = 5.0;
    for (const auto& [number, line] : m_lines) {
        for (int i = 0; i + 1 < line.size(); ++i) {
            const QPointF a = line[i];
            const QPointF b = line[i + 1];
            if (pos.x() < a.x() || pos.x() > b.x() || b.x() <= a.x())
                continue;
            const double y = a.y() + (b.y() - a.y()) * (pos.x() - a.x()) / (b.x() - a.x());
            if (std::fabs(y - pos.y()) <= bestDistance) {
                bestDistance = std::fabs(y - pos.y());
                best = number;
            }
            break;
        }
    }
    return best;
}

void ParallelCoordinatesPlot::mousePressEvent(QMouseEvent* event) {
    const int index = event->button() == Qt::LeftButton ? axisNear(event->position()) : -1;
    if (index < 0) {
        StudyPlot::mousePressEvent(event);
        return;
    }
    m_dragAxis = index;
    m_dragStartUnit = unitAtY(event->position().y());
}

void ParallelCoordinatesPlot::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragAxis < 0) {
        StudyPlot::mouseMoveEvent(event);
        return;
    }
    const double unit = unitAtY(event->position().y());
    if (std::fabs(unit - m_dragStartUnit) * plotArea().height() < 3.0)
        return;
    m_brushUnits[m_dragAxis] = {std::min(unit, m_dragStartUnit), std::max(unit, m_dragStartUnit)};
    update();
}

void ParallelCoordinatesPlot::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragAxis < 0) {
        StudyPlot::mouseReleaseEvent(event);
        return;
    }
    const double unit = unitAtY(event->position().y());
    if (std::fabs(unit - m_dragStartUnit) * plotArea().height() < 3.0)
        m_brushUnits.erase(m_dragAxis);
    else
        m_brushUnits[m_dragAxis] = {std::min(unit, m_dragStartUnit), std::max(unit, m_dragStartUnit)};
    m_dragAxis = -1;
    update();
    Q_EMIT selectionRequested(m_brushUnits.empty() ? QList<qint64>() : trialsInBrushes(), false);
}

// ContourPlot --------------------------------------------------------------------------------

void ContourPlot::setParameters(const std::string& xPath, const std::string& yPath) {
    m_xPath = xPath;
    m_yPath = yPath;
    invalidate();
}

void ContourPlot::render(QPainter& painter) {
    m_markers.clear();
    const auto& trials = m_model->trials();
    const ObjectiveSpec& objective = m_model->objective();
    std::vector<double> values;
    for (const TrialRecord& trial : trials) {
        if (trial.state == TrialState::Complete)
            values.push_back(trial.value);
    }
    if (m_xPath.empty() || values.empty()) {
        drawEmptyMessage(painter, m_xPath.empty() ? tr("Choose a parameter") : tr("No complete trial yet"));
        return;
    }
    const bool slice = m_yPath.empty();
    const PlotAxis valueAxis = PlotAxis::forValues(values, QString::fromStdString(objective.metric));
    m_xAxis = PlotAxis::forParameter(trials, m_xPath, m_model->isLogParameter(m_xPath));
    m_yAxis = slice ? valueAxis : PlotAxis::forParameter(trials, m_yPath, m_model->isLogParameter(m_yPath));
    // Room on the left for the longest Y tick label (choices can be long words).
    const QFontMetrics metrics(painter.font());
    int labelWidth = 0;
    for (const auto& tick : m_yAxis.ticks(12))
        labelWidth = std::max(labelWidth, metrics.horizontalAdvance(tick.second));
    setMargins(std::clamp(labelWidth + 34, 64, std::max(64, width() / 4)), 16, 96, 42);
    const QRectF area = plotArea();

    struct Dot {
        double ux, uy, jx, jy, goodness;
        qint64 number;
    };
    std::vector<Dot> dots;
    for (const TrialRecord& trial : trials) {
        if (trial.state != TrialState::Complete || !std::isfinite(trial.value))
            continue;
        const double x = m_xAxis.coordinateOf(trial.params, m_xPath);
        const double y = slice ? trial.value : m_yAxis.coordinateOf(trial.params, m_yPath);
        if (!std::isfinite(x) || !std::isfinite(y))
            continue;
        Dot dot;
        dot.ux = std::clamp(m_xAxis.toUnit(x), 0.0, 1.0);
        dot.uy = std::clamp(m_yAxis.toUnit(y), 0.0, 1.0);
        dot.jx = dot.ux;
        dot.jy = dot.uy;
        if (m_xAxis.isCategorical())
            dot.jx += jitterOf(trial.number, 1) * 0.6 / m_xAxis.categories.size();
        if (m_yAxis.isCategorical())
            dot.jy += jitterOf(trial.number, 2) * 0.6 / m_yAxis.categories.size();
        dot.goodness = goodness(valueAxis, objective, trial.value);
        dot.number = trial.number;
        dots.push_back(dot);
    }

    if (!slice && dots.size() >= 3) {
        // Inverse-distance weighting (power 2) of the goodness on a coarse grid, smoothed by the
        // scaled blit; lightened so that the dots stay readable over it.
        // The dots as separate float arrays, so that the inner loop vectorises.
        std::vector<float> dotX, dotY, dotGoodness;
        dotX.reserve(dots.size());
        dotY.reserve(dots.size());
        dotGoodness.reserve(dots.size());
        for (const Dot& dot : dots) {
            dotX.push_back(static_cast<float>(dot.ux));
            dotY.push_back(static_cast<float>(dot.uy));
            dotGoodness.push_back(static_cast<float>(dot.goodness));
        }
        const size_t count = dots.size();
        QImage grid(kGridColumns, kGridRows, QImage::Format_RGB32);
        for (int row = 0; row < kGridRows; ++row) {
            const float uy = 1.0f - (static_cast<float>(row) + 0.5f) / kGridRows;
            auto* line = reinterpret_cast<QRgb*>(grid.scanLine(row));
            for (int column = 0; column < kGridColumns; ++column) {
                const float ux = (static_cast<float>(column) + 0.5f) / kGridColumns;
                float weights = 0.0f;
                float sum = 0.0f;
                for (size_t i = 0; i < count; ++i) {
                    const float dx = dotX[i] - ux;
                    const float dy = dotY[i] - uy;
                    const float w = 1.0f / (dx * dx + dy * dy + 1e-4f);
                    weights += w;
                    sum += w * dotGoodness[i];
                }
                const QColor color = goodnessColor(sum / weights);
                line[column] = qRgb((color.red() + 255 * 2) / 3, (color.green() + 255 * 2) / 3,
                                    (color.blue() + 255 * 2) / 3);
            }
        }
        painter.save();
        painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
        painter.drawImage(area, grid);
        painter.restore();
    }
    drawFrameAndTicks(painter, m_xAxis, m_yAxis);
    std::sort(dots.begin(), dots.end(), [](const Dot& a, const Dot& b) { return a.goodness < b.goodness; });
    const qint64 bestNumber = m_model->bestTrialNumber();
    painter.setPen(QPen(QColor(255, 255, 255, 220), 0.8));
    for (const Dot& dot : dots) {
        const QPointF point(area.left() + dot.jx * area.width(), area.bottom() - dot.jy * area.height());
        painter.setBrush(goodnessColor(dot.goodness, 230));
        painter.drawEllipse(point, 3.6, 3.6);
        m_markers.push_back({point, dot.number});
    }
    for (const Marker& marker : m_markers) {
        if (marker.number == bestNumber) {
            painter.setBrush(Qt::NoBrush);
            painter.setPen(QPen(kBestColor, 2.0));
            painter.drawEllipse(marker.pos, 6.5, 6.5);
        }
    }
    drawColorBar(painter, QRectF(area.right() + 24, area.top(), 10, area.height()), valueAxis);
}

} // namespace tunelab
