// The plots over trial numbers and epochs (best so far, trial curves) and the importance bars.

#include "study/study_plots.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QPainter>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

using namespace study_plot_painting;

// BestSoFarPlot ------------------------------------------------------------------------------

void BestSoFarPlot::render(QPainter& painter) {
    m_markers.clear();
    const auto& trials = m_model->trials();
    const ObjectiveSpec& objective = m_model->objective();
    std::vector<double> values;
    int64_t lastNumber = 0;
    for (const TrialRecord& trial : trials) {
        if (trial.state == TrialState::Complete || trial.state == TrialState::Pruned)
            values.push_back(latestValue(trial));
        lastNumber = std::max(lastNumber, trial.number);
    }
    if (values.empty()) {
        drawEmptyMessage(painter, tr("No finished trial yet"));
        return;
    }
    PlotAxis xAxis;
    xAxis.title = tr("Trial");
    xAxis.integer = true;
    xAxis.min = -0.5;
    xAxis.max = std::max<double>(1.0, static_cast<double>(lastNumber)) + 0.5;
    const PlotAxis yAxis = PlotAxis::forValues(values, QString::fromStdString(objectiveLabel(objective)));
    drawFrameAndTicks(painter, xAxis, yAxis);
    const QRectF area = plotArea();
    auto toPixel = [&](double number, double value) {
        return QPointF(area.left() + xAxis.toUnit(number) * area.width(),
                       area.bottom() - std::clamp(yAxis.toUnit(value), 0.0, 1.0) * area.height());
    };
    painter.setPen(Qt::NoPen);
    // Pruned first so that complete trials draw over them.
    for (const TrialState state : {TrialState::Pruned, TrialState::Complete}) {
        painter.setBrush(state == TrialState::Pruned ? QColor(160, 160, 160, 110)
                                                     : QColor(kCompleteColor.red(), kCompleteColor.green(),
                                                              kCompleteColor.blue(), 170));
        const double radius = state == TrialState::Pruned ? 2.2 : 2.8;
        for (const TrialRecord& trial : trials) {
            if (trial.state != state)
                continue;
            const double value = latestValue(trial);
            if (!std::isfinite(value))
                continue;
            const QPointF point = toPixel(static_cast<double>(trial.number), value);
            painter.drawEllipse(point, radius, radius);
            m_markers.push_back({point, trial.number});
        }
    }
    const auto best = bestSoFar(trials, objective);
    if (!best.empty()) {
        QPolygonF steps;
        for (size_t i = 0; i < best.size(); ++i) {
            const QPointF point = toPixel(static_cast<double>(best[i].first), best[i].second);
            if (i > 0)
                steps << QPointF(point.x(), steps.back().y());
            steps << point;
        }
        steps << QPointF(area.right(), steps.back().y());
        painter.setPen(QPen(kBestColor, 2.0));
        painter.setBrush(Qt::NoBrush);
        painter.drawPolyline(steps);
        const QPointF last = toPixel(static_cast<double>(m_model->bestTrialNumber()), best.back().second);
        painter.setPen(QPen(kBestColor, 2.0));
        painter.drawEllipse(last, 5.0, 5.0);
    }
    // Legend, top right.
    const QFontMetrics metrics(painter.font());
    const QString bestLabel = tr("best so far");
    const QString completeLabel = tr("complete");
    const QString prunedLabel = tr("pruned");
    double x = area.right() - 12 - metrics.horizontalAdvance(bestLabel + completeLabel + prunedLabel) - 90;
    const double y = area.top() + 10;
    // On a light box: the points of the best trials sit just where the legend is.
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(255, 255, 255, 225));
    painter.drawRoundedRect(
        QRectF(x - 6, y - metrics.height() / 2.0 - 3, area.right() - x, metrics.height() + 6), 3, 3);
    painter.setPen(QPen(kBestColor, 2.0));
    painter.drawLine(QPointF(x, y), QPointF(x + 16, y));
    x += 20;
    painter.setPen(kTextColor);
    painter.drawText(QPointF(x, y + metrics.ascent() / 2.0 - 1), bestLabel);
    x += metrics.horizontalAdvance(bestLabel) + 14;
    for (const auto& [color, label] : {std::make_pair(kCompleteColor, completeLabel),
                                       std::make_pair(QColor(160, 160, 160), prunedLabel)}) {
        painter.setPen(Qt::NoPen);
        painter.setBrush(color);
        painter.drawEllipse(QPointF(x + 3, y), 3.0, 3.0);
        painter.setPen(kTextColor);
        painter.drawText(QPointF(x + 10, y + metrics.ascent() / 2.0 - 1), label);
        x += 10 + metrics.horizontalAdvance(label) + 14;
    }
}

// TrialCurvesPlot ----------------------------------------------------------------------------

void TrialCurvesPlot::render(QPainter& painter) {
    m_curves.clear();
    const auto& trials = m_model->trials();
    std::vector<double> values;
    std::vector<double> finals;
    int lastEpoch = 1;
    for (const TrialRecord& trial : trials) {
        for (const auto& [epoch, value] : trial.intermediate)
            values.push_back(value);
        if (!trial.intermediate.empty())
            lastEpoch = std::max(lastEpoch, trial.intermediate.rbegin()->first);
        if (trial.state == TrialState::Complete)
            finals.push_back(trial.value);
    }
    if (values.empty()) {
        drawEmptyMessage(painter, tr("No intermediate values yet"));
        return;
    }
    PlotAxis xAxis;
    xAxis.title = tr("Epoch");
    xAxis.integer = true;
    xAxis.min = 0.0;
    xAxis.max = lastEpoch + 0.5;
    const PlotAxis yAxis =
        PlotAxis::forValues(values, QString::fromStdString(objectiveLabel(m_model->objective())));
    const PlotAxis colorAxis = PlotAxis::forValues(finals, QString());
    drawFrameAndTicks(painter, xAxis, yAxis);
    const QRectF area = plotArea();
    painter.save();
    painter.setClipRect(area.adjusted(-1, -3, 1, 3));
    painter.setBrush(Qt::NoBrush);
    // Thin aliased lines draw several times faster; with many curves the eye cannot tell.
    const bool many = trials.size() > 400;
    painter.setRenderHint(QPainter::Antialiasing, !many);
    const qint64 bestNumber = m_model->bestTrialNumber();
    LineBlender blender(painter);
    if (!many)
        blender = LineBlender(painter, nullptr);
    // Faint states first, then complete trials worst first, so that the best curves lie on top.
    std::vector<const TrialRecord*> ordered;
    ordered.reserve(trials.size());
    for (const TrialRecord& trial : trials) {
        if (!trial.intermediate.empty() && trial.number != bestNumber)
            ordered.push_back(&trial);
    }
    auto layer = [](TrialState state) {
        switch (state) {
        case TrialState::Complete:
            return 2;
        case TrialState::Running:
            return 3;
        default:
            return 1;
        }
    };
    const ObjectiveSpec& objective = m_model->objective();
    std::stable_sort(ordered.begin(), ordered.end(), [&](const TrialRecord* a, const TrialRecord* b) {
        if (layer(a->state) != layer(b->state))
            return layer(a->state) < layer(b->state);
        if (a->state != TrialState::Complete)
            return false;
        // Higher is worse here; a complete trial without a value counts as the worst.
        auto badness = [&](const TrialRecord* t) {
            return std::isfinite(t->value) ? towardsMinimum(objective, t->value)
                                           : std::numeric_limits<double>::infinity();
        };
        return badness(a) > badness(b);
    });
    {
        for (const TrialRecord* record : ordered) {
            const TrialRecord& trial = *record;
            const TrialState state = trial.state;
            QPolygonF line;
            line.reserve(static_cast<int>(trial.intermediate.size()));
            for (const auto& [epoch, value] : trial.intermediate) {
                if (std::isfinite(value))
                    line << QPointF(area.left() + xAxis.toUnit(epoch) * area.width(),
                                    area.bottom() -
                                        std::clamp(yAxis.toUnit(value), -0.01, 1.01) * area.height());
            }
            QColor color;
            switch (state) {
            case TrialState::Complete:
                color =
                    goodnessColor(goodness(colorAxis, m_model->objective(), trial.value), many ? 90 : 150);
                break;
            case TrialState::Running:
                color = QColor(25, 100, 200, many ? 120 : 200);
                break;
            case TrialState::Failed:
                color = QColor(200, 30, 30, 90);
                break;
            default:
                color = QColor(150, 150, 150, many ? 45 : 80);
                break;
            }
            if (blender.isValid()) {
                blender.setColor(color);
                blender.drawPolyline(line);
            } else {
                painter.setPen(QPen(color, 1.0));
                drawSegments(painter, line);
            }
            m_curves.emplace_back(trial.number, std::move(line));
        }
    }
    if (const TrialRecord* best = trialByNumber(bestNumber); best && !best->intermediate.empty()) {
        QPolygonF line;
        for (const auto& [epoch, value] : best->intermediate) {
            if (std::isfinite(value))
                line << QPointF(area.left() + xAxis.toUnit(epoch) * area.width(),
                                area.bottom() - std::clamp(yAxis.toUnit(value), -0.01, 1.01) * area.height());
        }
        painter.setRenderHint(QPainter::Antialiasing, true);
        painter.setPen(QPen(kBestColor, 2.5));
        painter.drawPolyline(line);
        m_curves.emplace_back(bestNumber, std::move(line));
    }
    painter.restore();
}

void TrialCurvesPlot::paintSelection(QPainter& painter) {
    drawSelectedLines(
        painter, m_curves, [this](qint64 number) { return isSelected(number); }, kSelectedColor.darker(115),
        2.0);
}

qint64 TrialCurvesPlot::trialAt(const QPointF& pos) const {
    // Nearest segment within a few pixels; later (drawn on top) curves win ties.
    qint64 best = -1;
    double bestDistance = 5.0 * 5.0;
    for (const auto& [number, line] : m_curves) {
        const double distance = squaredDistanceToLine(line, pos, 5.0);
        if (distance <= bestDistance) {
            bestDistance = distance;
            best = number;
        }
    }
    return best;
}

QList<qint64> TrialCurvesPlot::trialsIn(const QRectF& rect) const {
    QList<qint64> numbers;
    for (const auto& [number, line] : m_curves) {
        if (std::any_of(line.begin(), line.end(), [&](const QPointF& p) { return rect.contains(p); }))
            numbers << number;
    }
    return numbers;
}

// ImportancePlot -----------------------------------------------------------------------------

void ImportancePlot::render(QPainter& painter) {
    ImportanceBasis basis;
    const auto scored = importanceTrials(m_model->trials(), m_model->objective(), basis);
    m_importance = parameterImportance(scored, m_model->parameters(), m_model->objective());
    if (m_importance.empty() || !basis.missing.empty()) {
        drawEmptyMessage(painter, basis.missing.empty()
                                      ? tr("No parameter to rank")
                                      : tr("Importance needs 3 complete trials, or 3 that reached the same "
                                           "epoch: %1 complete, %2 pruned so far")
                                            .arg(basis.complete)
                                            .arg(basis.pruned));
        return;
    }
    const QFontMetrics metrics(painter.font());
    int labelWidth = 0;
    for (const auto& entry : m_importance)
        labelWidth = std::max(labelWidth, metrics.horizontalAdvance(QString::fromStdString(entry.parameter)));
    labelWidth = std::min(labelWidth + 12, width() * 2 / 5);
    const QRectF area(labelWidth + 8, 16, std::max(40, width() - labelWidth - 8 - 64),
                      std::max(40, height() - 50));
    const int count = static_cast<int>(m_importance.size());
    const double slot = area.height() / count;
    const double barHeight = std::clamp(slot * 0.65, 4.0, 26.0);
    const double top = std::max(m_importance.front().importance, 1e-9);
    painter.setPen(kGridColor);
    for (double fraction : {0.25, 0.5, 0.75, 1.0}) {
        const double x = area.left() + fraction * area.width();
        painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
    }
    for (int i = 0; i < count; ++i) {
        const auto& entry = m_importance[static_cast<size_t>(i)];
        const double centre = area.top() + slot * (i + 0.5);
        const double length = entry.importance / top * area.width();
        const QRectF bar(area.left(), centre - barHeight / 2.0, std::max(1.0, length), barHeight);
        painter.setPen(Qt::NoPen);
        painter.setBrush(goodnessColor(0.55 + 0.45 * entry.importance / top));
        painter.drawRoundedRect(bar, 2, 2);
        painter.setPen(kTextColor);
        const QString label = elided(metrics, QString::fromStdString(entry.parameter), labelWidth - 8);
        painter.drawText(QRectF(0, centre - slot / 2, labelWidth, slot), Qt::AlignRight | Qt::AlignVCenter,
                         label);
        painter.drawText(QPointF(bar.right() + 6, centre + metrics.ascent() / 2.0 - 1),
                         QStringLiteral("%1%").arg(entry.importance * 100.0, 0, 'f', 1));
    }
    painter.setPen(QPen(kAxisColor, 1.0));
    painter.drawLine(area.topLeft(), area.bottomLeft());
    painter.setPen(QColor(120, 120, 120));
    const QString metric = QString::fromStdString(objectiveLabel(m_model->objective()));
    painter.drawText(
        QRectF(0, height() - 26, width(), 20), Qt::AlignCenter,
        basis.epoch == 0
            ? tr("Share of the variance of %1 explained by each parameter alone (%2 complete trials)")
                  .arg(metric)
                  .arg(basis.trials)
            : tr("Share of the variance of %1 at epoch %2 explained by each parameter alone (%3 "
                 "complete and pruned trials; %4 complete)")
                  .arg(metric)
                  .arg(basis.epoch)
                  .arg(basis.trials)
                  .arg(basis.complete));
}

} // namespace tunelab
