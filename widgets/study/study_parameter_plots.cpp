// The plot over parameter values: the contour / slice plot.

#include "study/study_plots.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

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
    const PlotAxis valueAxis = PlotAxis::forValues(values, QString::fromStdString(objectiveLabel(objective)));
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
