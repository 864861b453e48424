// The plots of a study with several objectives: the Pareto front of two objectives and the
// hypervolume as trials finish.

#include "study/study_plots.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace tunelab {

using namespace study_plot_painting;

namespace {

const QColor kDominatedColor(kCompleteColor.red(), kCompleteColor.green(), kCompleteColor.blue(), 85);

// Widens a value axis so that every one of `values` lies inside it: PlotAxis::forValues() cuts off
// outlier tails, but a trial of the front must never be drawn pinned to an edge.
void includeValues(PlotAxis& axis, const std::vector<double>& values) {
    for (const double value : values) {
        if (!std::isfinite(value) || (axis.log && value <= 0.0))
            continue;
        if (value < axis.min)
            axis.min =
                axis.log ? value / std::pow(axis.max / value, 0.04) : value - 0.05 * (axis.max - value);
        if (value > axis.max)
            axis.max =
                axis.log ? value * std::pow(value / axis.min, 0.04) : value + 0.05 * (value - axis.min);
    }
}

// Draws small legend entries (a dot or a line, then a label) from right to left, ending at `right`.
void drawLegend(QPainter& painter, double right, double y,
                const std::vector<std::pair<QColor, QString>>& entries, bool lines) {
    const QFontMetrics metrics(painter.font());
    double width = 0.0;
    for (const auto& entry : entries)
        width += 16 + metrics.horizontalAdvance(entry.second) + 14;
    double x = right - width;
    for (const auto& [color, label] : entries) {
        if (lines) {
            painter.setPen(QPen(color, 2.0));
            painter.drawLine(QPointF(x, y), QPointF(x + 12, y));
        } else {
            painter.setPen(QPen(Qt::white, 0.8));
            painter.setBrush(color);
            painter.drawEllipse(QPointF(x + 5, y), 4.0, 4.0);
        }
        painter.setPen(kTextColor);
        painter.drawText(QPointF(x + 16, y + metrics.ascent() / 2.0 - 1), label);
        x += 16 + metrics.horizontalAdvance(label) + 14;
    }
}

} // namespace

// ParetoFrontPlot ----------------------------------------------------------------------------

void ParetoFrontPlot::render(QPainter& painter) {
    m_markers.clear();
    const std::vector<ObjectiveSpec>& objectives = m_model->objectives();
    if (objectives.size() < 2) {
        drawEmptyMessage(painter, tr("The Pareto front needs a study with two objectives"));
        return;
    }
    struct Dot {
        qint64 number;
        double x, y;
        bool front;
    };
    std::vector<Dot> dots;
    std::vector<double> xs, ys, frontXs, frontYs;
    for (const TrialRecord& trial : m_model->trials()) {
        const double x = StudyTrialsModel::objectiveValue(trial, 0);
        const double y = StudyTrialsModel::objectiveValue(trial, 1);
        if (trial.state != TrialState::Complete || !std::isfinite(x) || !std::isfinite(y))
            continue;
        const bool front = m_model->isOnParetoFront(trial.number);
        dots.push_back({trial.number, x, y, front});
        xs.push_back(x);
        ys.push_back(y);
        if (front) {
            frontXs.push_back(x);
            frontYs.push_back(y);
        }
    }
    if (dots.empty()) {
        drawEmptyMessage(painter, tr("No complete trial with a value of both objectives yet"));
        return;
    }
    setMargins(64, 30, 18, 42); // the legend sits above the plot, clear of the dots
    m_xAxis = PlotAxis::forValues(xs, objectiveAxisTitle(objectives[0]));
    m_yAxis = PlotAxis::forValues(ys, objectiveAxisTitle(objectives[1]));
    includeValues(m_xAxis, frontXs);
    includeValues(m_yAxis, frontYs);
    drawFrameAndTicks(painter, m_xAxis, m_yAxis);
    const QRectF area = plotArea();
    auto toPixel = [&](double x, double y) {
        return QPointF(area.left() + std::clamp(m_xAxis.toUnit(x), 0.0, 1.0) * area.width(),
                       area.bottom() - std::clamp(m_yAxis.toUnit(y), 0.0, 1.0) * area.height());
    };

    painter.setPen(Qt::NoPen);
    painter.setBrush(kDominatedColor);
    for (const Dot& dot : dots) {
        if (dot.front)
            continue;
        const QPointF point = toPixel(dot.x, dot.y);
        painter.drawEllipse(point, 3.0, 3.0);
        m_markers.push_back({point, dot.number});
    }

    // The front from its best value of the first objective to its best of the second: the edge of
    // the region its trials dominate, a step at each trial, run out to the plot's worse edges.
    std::vector<const Dot*> front;
    for (const Dot& dot : dots) {
        if (dot.front)
            front.push_back(&dot);
    }
    std::sort(front.begin(), front.end(), [&](const Dot* a, const Dot* b) {
        const double ax = towardsMinimum(objectives[0], a->x);
        const double bx = towardsMinimum(objectives[0], b->x);
        return ax != bx ? ax < bx : towardsMinimum(objectives[1], a->y) < towardsMinimum(objectives[1], b->y);
    });
    if (!front.empty()) {
        const bool yWorseUp = objectives[1].direction == ObjectiveDirection::Minimize;
        const bool xWorseRight = objectives[0].direction == ObjectiveDirection::Minimize;
        QPolygonF steps;
        const QPointF first = toPixel(front.front()->x, front.front()->y);
        steps << QPointF(first.x(), yWorseUp ? area.top() : area.bottom()) << first;
        for (size_t i = 1; i < front.size(); ++i) {
            const QPointF point = toPixel(front[i]->x, front[i]->y);
            steps << QPointF(point.x(), steps.back().y()) << point;
        }
        steps << QPointF(xWorseRight ? area.right() : area.left(), steps.back().y());
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(QColor(kBestColor.red(), kBestColor.green(), kBestColor.blue(), 170), 1.6));
        painter.drawPolyline(steps);
        // Drawn last so that a front trial wins a click on dots that overlap.
        painter.setPen(QPen(Qt::white, 1.0));
        painter.setBrush(kBestColor);
        for (const Dot* dot : front) {
            const QPointF point = toPixel(dot->x, dot->y);
            painter.drawEllipse(point, 4.5, 4.5);
            m_markers.push_back({point, dot->number});
        }
    }
    drawLegend(painter, area.right(), m_marginTop / 2.0,
               {{kBestColor, tr("Pareto front (%1)").arg(static_cast<int>(front.size()))},
                {QColor(kCompleteColor.red(), kCompleteColor.green(), kCompleteColor.blue(), 140),
                 tr("dominated (%1)").arg(static_cast<int>(dots.size() - front.size()))}},
               false);
}

void ParetoFrontPlot::paintSelection(QPainter& painter) {
    painter.setPen(QPen(QColor(120, 60, 0), 1.2));
    painter.setBrush(kSelectedColor);
    for (const Marker& marker : m_markers) {
        if (isSelected(marker.number)) {
            const double radius = m_model && m_model->isOnParetoFront(marker.number) ? 5.5 : 4.5;
            painter.drawEllipse(marker.pos, radius, radius);
        }
    }
}

bool ParetoFrontPlot::dotOf(qint64 number, QPointF* pos) const {
    for (const Marker& marker : m_markers) {
        if (marker.number == number) {
            if (pos)
                *pos = marker.pos;
            return true;
        }
    }
    return false;
}

// HypervolumePlot ----------------------------------------------------------------------------

QString HypervolumePlot::referenceText() const {
    if (!m_model)
        return QString();
    QStringList parts;
    const std::vector<ObjectiveSpec>& objectives = m_model->objectives();
    for (size_t i = 0; i < m_reference.size() && i < objectives.size(); ++i) {
        parts << QStringLiteral("%1 %2").arg(QString::fromStdString(objectiveLabel(objectives[i])),
                                             StudyTrialsModel::formatValue(m_reference[i]));
    }
    return parts.join(QStringLiteral(", "));
}

void HypervolumePlot::render(QPainter& painter) {
    m_markers.clear();
    const std::vector<ObjectiveSpec>& objectives = m_model->objectives();
    m_reference = hypervolumeReference(objectives, m_model->trials());
    m_history.clear();
    if (!m_reference.empty())
        m_history = hypervolumeHistory(objectives, m_model->trials(), m_reference);
    if (m_history.empty()) {
        drawEmptyMessage(painter, tr("No complete trial yet"));
        return;
    }
    setMargins(64, 30, 18, 42); // the reference point is stated above the plot
    double highest = 0.0;
    for (const HypervolumeAt& at : m_history) {
        if (std::isfinite(at.hypervolume))
            highest = std::max(highest, at.hypervolume);
    }
    PlotAxis xAxis;
    xAxis.title = tr("Finished trials");
    xAxis.integer = true;
    xAxis.min = 0.5;
    xAxis.max = static_cast<double>(std::max<int64_t>(1, m_history.back().finished)) + 0.5;
    // From zero: a volume, so that the curve's rise reads in proportion.
    PlotAxis yAxis;
    yAxis.title = tr("Hypervolume");
    yAxis.min = 0.0;
    yAxis.max = highest > 0.0 ? highest * 1.05 : 1.0;
    drawFrameAndTicks(painter, xAxis, yAxis);
    const QRectF area = plotArea();
    auto toPixel = [&](const HypervolumeAt& at) {
        const double value = std::isfinite(at.hypervolume) ? at.hypervolume : 0.0;
        return QPointF(area.left() + xAxis.toUnit(static_cast<double>(at.finished)) * area.width(),
                       area.bottom() - std::clamp(yAxis.toUnit(value), 0.0, 1.0) * area.height());
    };
    QPolygonF steps;
    for (const HypervolumeAt& at : m_history) {
        const QPointF point = toPixel(at);
        if (!steps.isEmpty())
            steps << QPointF(point.x(), steps.back().y());
        steps << point;
    }
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(kBestColor, 2.0));
    painter.drawPolyline(steps);
    // A dot per finished trial; the ones that added volume in the line's colour.
    double previous = 0.0;
    for (const HypervolumeAt& at : m_history) {
        const QPointF point = toPixel(at);
        const bool added = at.hypervolume > previous;
        previous = std::max(previous, at.hypervolume);
        painter.setPen(added ? QPen(Qt::white, 0.8) : Qt::NoPen);
        painter.setBrush(added ? kBestColor : QColor(150, 150, 150, 110));
        const double radius = added ? 3.8 : 1.8;
        painter.drawEllipse(point, radius, radius);
        m_markers.push_back({point, at.trialNumber});
    }
    bool derived = false;
    for (const ObjectiveSpec& objective : objectives)
        derived = derived || !std::isfinite(objective.reference);
    const QString caption = derived ? tr("Reference point: %1 (derived from the trials)").arg(referenceText())
                                    : tr("Reference point: %1 (the study's)").arg(referenceText());
    const QFontMetrics metrics(painter.font());
    painter.setPen(kTextColor);
    painter.drawText(QPointF(area.left(), m_marginTop / 2.0 + metrics.ascent() / 2.0 - 1),
                     elided(metrics, caption, static_cast<int>(area.width())));
}

} // namespace tunelab
