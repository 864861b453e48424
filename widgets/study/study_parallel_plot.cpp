// The parallel-coordinates plot with brushing: over the parameters and the objective, or over the
// objectives of a study with several.

#include "study/study_plots.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace tunelab {

using namespace study_plot_painting;

// ParallelCoordinatesPlot --------------------------------------------------------------------

ParallelCoordinatesPlot::ParallelCoordinatesPlot(QWidget* parent, Axes axes)
    : StudyPlot(parent)
    , m_axesShown(axes) {
    // The objectives' view has a legend under the axes instead of the colour bar on the right.
    if (axes == Axes::Objectives)
        setMargins(56, 40, 56, 40);
    else
        setMargins(56, 40, 96, 18);
}

bool ParallelCoordinatesPlot::isDrawn(const TrialRecord& trial) const {
    if (trial.state != TrialState::Complete)
        return false;
    const int objectives = m_axesShown == Axes::Objectives ? m_model->objectiveCount() : 1;
    for (int index = 0; index < objectives; ++index) {
        if (!std::isfinite(StudyTrialsModel::objectiveValue(trial, index)))
            return false;
    }
    return true;
}

double ParallelCoordinatesPlot::coordinateOn(int index, const TrialRecord& trial) const {
    const auto axisIndex = static_cast<size_t>(index);
    if (m_objectiveOf[axisIndex] >= 0)
        return StudyTrialsModel::objectiveValue(trial, m_objectiveOf[axisIndex]);
    return m_axes[axisIndex].coordinateOf(trial.params, m_paths[axisIndex]);
}

void ParallelCoordinatesPlot::rebuildAxes() {
    m_axes.clear();
    m_paths.clear();
    m_objectiveOf.clear();
    const auto& trials = m_model->trials();
    auto addObjectiveAxis = [&](int objective, const QString& title) {
        std::vector<double> values;
        for (const TrialRecord& trial : trials) {
            if (isDrawn(trial))
                values.push_back(StudyTrialsModel::objectiveValue(trial, objective));
        }
        m_axes.push_back(PlotAxis::forValues(values, title));
        m_paths.emplace_back();
        m_objectiveOf.push_back(objective);
    };
    if (m_axesShown == Axes::Objectives) {
        for (int objective = 0; objective < m_model->objectiveCount(); ++objective)
            addObjectiveAxis(objective,
                             objectiveAxisTitle(m_model->objectives()[static_cast<size_t>(objective)]));
    } else {
        for (const std::string& path : m_model->parameters()) {
            m_axes.push_back(PlotAxis::forParameter(trials, path, m_model->isLogParameter(path)));
            m_paths.push_back(path);
            m_objectiveOf.push_back(-1);
        }
        addObjectiveAxis(0, QString::fromStdString(objectiveLabel(m_model->objective())));
    }
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
        const double coordinate = coordinateOn(index, trial);
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
        if (isDrawn(trial) && insideBrushes(trial))
            numbers << trial.number;
    }
    return numbers;
}

void ParallelCoordinatesPlot::render(QPainter& painter) {
    rebuildAxes();
    m_lines.clear();
    std::vector<const TrialRecord*> drawn;
    for (const TrialRecord& trial : m_model->trials()) {
        if (isDrawn(trial))
            drawn.push_back(&trial);
    }
    if (drawn.empty()) {
        drawEmptyMessage(painter, tr("No complete trial yet"));
        return;
    }
    const bool objectivesShown = m_axesShown == Axes::Objectives;
    const ObjectiveSpec& objective = m_model->objective();
    const PlotAxis& valueAxis = m_axes.back();
    // Worst first, so that the best trials are drawn on top; over the objectives, the front on top.
    if (objectivesShown) {
        std::stable_partition(drawn.begin(), drawn.end(), [this](const TrialRecord* trial) {
            return !m_model->isOnParetoFront(trial->number);
        });
    } else {
        std::sort(drawn.begin(), drawn.end(), [&](const TrialRecord* a, const TrialRecord* b) {
            return isBetter(objective, b->value, a->value);
        });
    }
    const bool many = drawn.size() > 400;
    LineBlender blender(painter);
    if (!many)
        blender = LineBlender(painter, nullptr);
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, !many);
    painter.setBrush(Qt::NoBrush);
    for (const TrialRecord* trial : drawn) {
        QPolygonF line;
        line.reserve(axisCount());
        for (int i = 0; i < axisCount(); ++i) {
            const double coordinate = coordinateOn(i, *trial);
            if (std::isfinite(coordinate))
                line << pointOnAxis(i, coordinate);
        }
        const bool onFront = objectivesShown && m_model->isOnParetoFront(trial->number);
        QColor color;
        if (!objectivesShown)
            color = goodnessColor(goodness(valueAxis, objective, trial->value), many ? 110 : 170);
        else
            color = onFront ? kBestColor : QColor(120, 135, 160, many ? 50 : 90);
        if (onFront) {
            // Few, and the point of the view: stroked wide and smooth whatever the count.
            painter.setRenderHint(QPainter::Antialiasing, true);
            painter.setPen(QPen(color, 2.0));
            painter.drawPolyline(line);
        } else if (blender.isValid()) {
            blender.setColor(color);
            blender.drawPolyline(line);
        } else {
            painter.setPen(QPen(color, 1.0));
            drawSegments(painter, line);
        }
        m_lines.emplace_back(trial->number, std::move(line));
    }
    painter.restore();
    drawAxes(painter);
    const QRectF area = plotArea();
    if (!objectivesShown) {
        drawColorBar(painter, QRectF(area.right() + 30, area.top(), 10, area.height()), valueAxis);
        return;
    }
    // Legend, under the axes.
    const QFontMetrics metrics(painter.font());
    const int front = static_cast<int>(m_model->paretoFront().size());
    const QString frontLabel = tr("Pareto front (%1)").arg(front);
    const QString dominatedLabel = tr("dominated (%1)").arg(static_cast<int>(drawn.size()) - front);
    double x = area.left();
    const double y = area.bottom() + 22;
    for (const auto& [color, label] :
         {std::make_pair(kBestColor, frontLabel), std::make_pair(QColor(120, 135, 160), dominatedLabel)}) {
        painter.setPen(QPen(color, 2.0));
        painter.drawLine(QPointF(x, y), QPointF(x + 18, y));
        painter.setPen(kTextColor);
        painter.drawText(QPointF(x + 24, y + metrics.ascent() / 2.0 - 1), label);
        x += 24 + metrics.horizontalAdvance(label) + 18;
    }
}

// Axes over the lines, each with its ticks on a light plate so that labels stay readable.
void ParallelCoordinatesPlot::drawAxes(QPainter& painter) {
    const QRectF area = plotArea();
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
        const bool objectiveAxis = m_axesShown == Axes::ParametersAndObjective && i + 1 == axisCount();
        painter.setPen(objectiveAxis ? kBestColor.darker(130) : kTextColor);
        // Centred over its axis, but kept inside the widget: the outer axes sit near its edges.
        const double titleWidth = boldMetrics.horizontalAdvance(title);
        const double left = std::clamp(x - titleWidth / 2.0, 2.0, std::max(2.0, width() - titleWidth - 2.0));
        painter.drawText(QPointF(left, area.top() - 14), title);
    }
    painter.setFont(font());
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

} // namespace tunelab
