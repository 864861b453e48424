// The shared parts of the study plots: axes and their ticks, the objective's colour scale, and the
// StudyPlot base (cached picture, selection, rubber band, hover, frame and colour bar), and MarkerPlot.

#include "study/study_plots.h"

#include "common/axis_ticks.h"
#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QEvent>
#include <QHelpEvent>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace tunelab {

using namespace study_plot_painting;

namespace {

double quantileOfSorted(const std::vector<double>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (sorted[above] - sorted[below]) * (position - static_cast<double>(below));
}

} // namespace

// PlotAxis -----------------------------------------------------------------------------------

double PlotAxis::toUnit(double coordinate) const {
    if (isCategorical())
        return (coordinate + 0.5) / static_cast<double>(categories.size());
    if (log) {
        if (coordinate <= 0.0)
            return 0.0;
        return (std::log10(coordinate) - std::log10(min)) / (std::log10(max) - std::log10(min));
    }
    return (coordinate - min) / (max - min);
}

double PlotAxis::fromUnit(double unit) const {
    if (isCategorical())
        return unit * static_cast<double>(categories.size()) - 0.5;
    if (log)
        return std::pow(10.0, std::log10(min) + unit * (std::log10(max) - std::log10(min)));
    return min + unit * (max - min);
}

double PlotAxis::coordinateOf(const Assignment& params, const std::string& path) const {
    const auto found = params.find(path);
    if (found == params.end())
        return kNoValue;
    if (isCategorical()) {
        const int index = categories.indexOf(StudyTrialsModel::formatParameter(found->second));
        return index >= 0 ? index : kNoValue;
    }
    return found->second.isNumber() ? found->second.toDouble() : kNoValue;
}

std::vector<std::pair<double, QString>> PlotAxis::ticks(int maxTicks) const {
    std::vector<std::pair<double, QString>> result;
    maxTicks = std::max(maxTicks, 2);
    if (isCategorical()) {
        const int count = static_cast<int>(categories.size());
        const int every = std::max(1, (count + maxTicks - 1) / maxTicks);
        for (int i = 0; i < count; i += every)
            result.emplace_back(toUnit(i), categories[i]);
        return result;
    }
    if (log && std::log10(max) - std::log10(min) >= 0.9) {
        const int first = static_cast<int>(std::floor(std::log10(min)));
        const int last = static_cast<int>(std::ceil(std::log10(max)));
        const int decades = last - first;
        const int every = std::max(1, (decades + maxTicks - 1) / maxTicks);
        const bool minor = decades * 3 <= maxTicks;
        for (int e = first; e <= last; e += every) {
            for (double m : {1.0, 2.0, 5.0}) {
                if (m != 1.0 && !minor)
                    continue;
                const double v = m * std::pow(10.0, e);
                if (v >= min * 0.999 && v <= max * 1.001)
                    result.emplace_back(toUnit(v), StudyTrialsModel::formatNumber(v, true));
            }
        }
        return result;
    }
    for (const double v : niceTicks(min, max, maxTicks, integer))
        result.emplace_back(toUnit(v), StudyTrialsModel::formatNumber(v, log));
    return result;
}

PlotAxis PlotAxis::forParameter(const std::vector<TrialRecord>& trials, const std::string& path, bool log) {
    PlotAxis axis;
    axis.title = QString::fromStdString(path);
    bool allNumbers = true;
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (const TrialRecord& trial : trials) {
        const auto found = trial.params.find(path);
        if (found == trial.params.end())
            continue;
        if (found->second.isNumber()) {
            const double v = found->second.toDouble();
            low = std::min(low, v);
            high = std::max(high, v);
        } else {
            allNumbers = false;
        }
    }
    if (!allNumbers) {
        std::set<std::string> jsonChoices;
        for (const TrialRecord& trial : trials) {
            const auto found = trial.params.find(path);
            if (found != trial.params.end())
                jsonChoices.insert(found->second.json);
        }
        for (const std::string& json : jsonChoices)
            axis.categories << StudyTrialsModel::formatParameter(ParamValue{json});
        std::sort(axis.categories.begin(), axis.categories.end());
        return axis;
    }
    if (!(low <= high)) {
        low = 0.0;
        high = 1.0;
    }
    axis.log = log && low > 0.0;
    if (axis.log) {
        if (high / low < 1.0001) {
            low /= 2.0;
            high *= 2.0;
        }
        const double pad = std::pow(high / low, 0.03);
        axis.min = low / pad;
        axis.max = high * pad;
    } else {
        if (high - low < 1e-12) {
            low -= 0.5;
            high += 0.5;
        }
        const double pad = (high - low) * 0.03;
        axis.min = low - pad;
        axis.max = high + pad;
    }
    return axis;
}

PlotAxis PlotAxis::forValues(std::vector<double> values, const QString& title, double logAboveRatio) {
    PlotAxis axis;
    axis.title = title;
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
                 values.end());
    if (values.empty())
        return axis;
    std::sort(values.begin(), values.end());
    double low = values.front();
    double high = values.back();
    if (values.size() >= 10) {
        const double q10 = quantileOfSorted(values, 0.1);
        const double q90 = quantileOfSorted(values, 0.9);
        const double body = q90 - q10;
        if (body > 0.0 && high - q90 > 4.0 * body)
            high = q90 + 1.5 * body;
        if (body > 0.0 && q10 - low > 4.0 * body)
            low = q10 - 1.5 * body;
    }
    axis.log = low > 0.0 && high / low > logAboveRatio;
    if (axis.log) {
        const double pad = std::pow(high / low, 0.04);
        axis.min = low / pad;
        axis.max = high * pad;
    } else {
        if (high - low < 1e-12) {
            const double half = std::max(std::fabs(low) * 0.05, 1e-6);
            low -= half;
            high += half;
        }
        const double pad = (high - low) * 0.05;
        axis.min = low - pad;
        axis.max = high + pad;
    }
    return axis;
}

double goodness(const PlotAxis& valueAxis, const ObjectiveSpec& objective, double value) {
    const double unit = std::clamp(valueAxis.toUnit(value), 0.0, 1.0);
    return objective.direction == ObjectiveDirection::Minimize ? 1.0 - unit : unit;
}

QColor goodnessColor(double goodness, int alpha) {
    // Light amber (worst) through rose to deep indigo (best): the best trials are the darkest and
    // stand out on the light background; every stop keeps enough contrast against white.
    struct Stop {
        double at;
        int r, g, b;
    };
    static const Stop stops[] = {
        {0.0, 240, 196, 70}, {0.35, 233, 120, 80}, {0.65, 190, 55, 120}, {1.0, 40, 30, 120}};
    goodness = std::clamp(goodness, 0.0, 1.0);
    for (size_t i = 1; i < std::size(stops); ++i) {
        if (goodness <= stops[i].at) {
            const Stop& a = stops[i - 1];
            const Stop& b = stops[i];
            const double t = (goodness - a.at) / (b.at - a.at);
            return QColor(static_cast<int>(a.r + (b.r - a.r) * t), static_cast<int>(a.g + (b.g - a.g) * t),
                          static_cast<int>(a.b + (b.b - a.b) * t), alpha);
        }
    }
    return QColor(stops[3].r, stops[3].g, stops[3].b, alpha);
}

double latestValue(const TrialRecord& trial) {
    if (std::isfinite(trial.value))
        return trial.value;
    if (!trial.intermediate.empty())
        return trial.intermediate.rbegin()->second;
    return kNoValue;
}

QString objectiveAxisTitle(const ObjectiveSpec& objective) {
    return QStringLiteral("%1 (%2)").arg(QString::fromStdString(objectiveLabel(objective)),
                                         QString::fromLatin1(toString(objective.direction)));
}

// StudyPlot ----------------------------------------------------------------------------------

StudyPlot::StudyPlot(QWidget* parent)
    : QWidget(parent) {
    setMouseTracking(true);
    setMinimumSize(240, 180);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void StudyPlot::setSources(const StudyTrialsModel* model, const QSet<qint64>* selection) {
    m_model = model;
    m_selection = selection;
    invalidate();
}

void StudyPlot::invalidate() {
    m_cacheValid = false;
    m_composedValid = false;
    update();
}

void StudyPlot::selectionUpdated() {
    m_composedValid = false;
    update();
}

QRectF StudyPlot::plotArea() const {
    return QRectF(m_marginLeft, m_marginTop, std::max(10, width() - m_marginLeft - m_marginRight),
                  std::max(10, height() - m_marginTop - m_marginBottom));
}

void StudyPlot::setMargins(int left, int top, int right, int bottom) {
    m_marginLeft = left;
    m_marginTop = top;
    m_marginRight = right;
    m_marginBottom = bottom;
}

const TrialRecord* StudyPlot::trialByNumber(qint64 number) const {
    if (!m_model)
        return nullptr;
    const int row = m_model->rowOfTrial(number);
    return row >= 0 ? &m_model->trialAt(row) : nullptr;
}

QString StudyPlot::trialToolTip(qint64 number) const {
    const TrialRecord* trial = trialByNumber(number);
    if (!trial)
        return QString();
    QString text = tr("<b>Trial %1</b> (%2)").arg(number).arg(QString::fromLatin1(toString(trial->state)));
    if (m_model->isMultiObjective()) {
        if (m_model->isOnParetoFront(number))
            text += tr(" — on the Pareto front");
        for (int index = 0; index < m_model->objectiveCount(); ++index) {
            // The first objective of a running trial: its latest intermediate value.
            const double value =
                index == 0 ? latestValue(*trial) : StudyTrialsModel::objectiveValue(*trial, index);
            const ObjectiveSpec& objective = m_model->objectives()[static_cast<size_t>(index)];
            text += QStringLiteral("<br>%1: %2")
                        .arg(QString::fromStdString(objectiveLabel(objective)).toHtmlEscaped(),
                             std::isfinite(value) ? StudyTrialsModel::formatValue(value) : tr("none"));
        }
    } else {
        const double value = latestValue(*trial);
        if (std::isfinite(value)) {
            text += QStringLiteral("<br>%1: %2")
                        .arg(QString::fromStdString(objectiveLabel(m_model->objective())).toHtmlEscaped(),
                             StudyTrialsModel::formatValue(value));
        }
        if (number == m_model->bestTrialNumber())
            text += tr(" — best");
    }
    // Population-based training: where the trial's weights came from.
    if (trial->member >= 0) {
        text += tr("<br>member %1").arg(trial->member);
        if (trial->parentNumber < 0) {
            text += tr(", from scratch");
        } else {
            text += tr(", from trial %1 at epoch %2").arg(trial->parentNumber).arg(trial->startEpoch);
            if (m_model->isExploit(*trial))
                text += tr(" (exploit of member %1)").arg(trialByNumber(trial->parentNumber)->member);
        }
    }
    for (const auto& [path, param] : trial->params) {
        text +=
            QStringLiteral("<br>%1 = %2")
                .arg(QString::fromStdString(path).toHtmlEscaped(),
                     StudyTrialsModel::formatParameter(param, m_model->isLogParameter(path)).toHtmlEscaped());
    }
    return text;
}

void StudyPlot::paintEvent(QPaintEvent*) {
    const qreal ratio = devicePixelRatioF();
    const QSize pixels = (QSizeF(size()) * ratio).toSize();
    if (!m_cacheValid || m_cache.size() != pixels) {
        m_cache = QImage(pixels, QImage::Format_ARGB32_Premultiplied);
        m_cache.setDevicePixelRatio(ratio);
        m_cache.fill(Qt::white);
        QPainter cachePainter(&m_cache);
        cachePainter.setRenderHint(QPainter::Antialiasing, true);
        cachePainter.setFont(font());
        if (m_model)
            render(cachePainter);
        m_cacheValid = true;
        m_composedValid = false;
        ++m_renderCount;
    }
    const bool selection = hasSelection() && m_model;
    if (selection && (!m_composedValid || m_composed.size() != pixels)) {
        m_composed = m_cache.copy();
        QPainter composer(&m_composed);
        composer.setRenderHint(QPainter::Antialiasing, true);
        composer.setClipRect(plotArea().adjusted(-6, -6, 6, 6));
        composer.fillRect(plotArea().adjusted(-6, -6, 6, 6), QColor(255, 255, 255, 150));
        paintSelection(composer);
        m_composedValid = true;
    }
    QPainter painter(this);
    painter.drawImage(0, 0, selection ? m_composed : m_cache);
    painter.setRenderHint(QPainter::Antialiasing, true);
    paintOverlay(painter);
    if (m_banding) {
        painter.setPen(QPen(QColor(40, 90, 200), 1.0, Qt::DashLine));
        painter.setBrush(QColor(40, 90, 200, 30));
        painter.drawRect(m_band);
    }
}

void StudyPlot::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_cacheValid = false;
}

bool StudyPlot::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const qint64 number = trialAt(help->pos());
        if (number >= 0)
            QToolTip::showText(help->globalPos(), trialToolTip(number), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void StudyPlot::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) {
        QWidget::mousePressEvent(event);
        return;
    }
    m_pressed = true;
    m_banding = false;
    m_pressPos = event->position().toPoint();
}

void StudyPlot::mouseMoveEvent(QMouseEvent* event) {
    if (!m_pressed || !selectsByRubberBand())
        return;
    const QPoint pos = event->position().toPoint();
    if (!m_banding && (pos - m_pressPos).manhattanLength() < 5)
        return;
    m_banding = true;
    m_band = QRect(m_pressPos, pos).normalized();
    update();
}

void StudyPlot::mouseReleaseEvent(QMouseEvent* event) {
    if (!m_pressed || event->button() != Qt::LeftButton)
        return;
    m_pressed = false;
    const bool extend = event->modifiers() & (Qt::ControlModifier | Qt::ShiftModifier);
    if (m_banding) {
        m_banding = false;
        update();
        Q_EMIT selectionRequested(trialsIn(QRectF(m_band)), extend);
        return;
    }
    const qint64 number = trialAt(event->position());
    if (number >= 0)
        Q_EMIT selectionRequested({number}, extend);
    else if (!extend)
        Q_EMIT selectionRequested({}, false);
}

qint64 StudyPlot::trialAt(const QPointF&) const {
    return -1;
}
QList<qint64> StudyPlot::trialsIn(const QRectF&) const {
    return {};
}

void StudyPlot::drawEmptyMessage(QPainter& painter, const QString& text) {
    painter.setPen(QColor(130, 130, 130));
    painter.drawText(rect(), Qt::AlignCenter, text);
}

void StudyPlot::drawFrameAndTicks(QPainter& painter, const PlotAxis& xAxis, const PlotAxis& yAxis) {
    const QRectF area = plotArea();
    const QFontMetrics metrics(painter.font());
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, false);
    const auto xTicks = xAxis.ticks(std::max(2, static_cast<int>(area.width() / 90)));
    const auto yTicks = yAxis.ticks(std::max(2, static_cast<int>(area.height() / 40)));
    painter.setPen(kGridColor);
    for (const auto& [unit, label] : xTicks) {
        const double x = area.left() + unit * area.width();
        painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
    }
    for (const auto& [unit, label] : yTicks) {
        const double y = area.bottom() - unit * area.height();
        painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
    }
    painter.setPen(kAxisColor);
    painter.drawLine(area.bottomLeft(), area.bottomRight());
    painter.drawLine(area.bottomLeft(), area.topLeft());
    painter.setPen(kTextColor);
    const int columnWidth = static_cast<int>(area.width() / std::max<size_t>(1, xTicks.size()));
    for (const auto& [unit, label] : xTicks) {
        const double x = area.left() + unit * area.width();
        painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 4));
        const QString text = elided(metrics, label, columnWidth - 4);
        const int w = metrics.horizontalAdvance(text);
        painter.drawText(QPointF(x - w / 2.0, area.bottom() + 6 + metrics.ascent()), text);
    }
    for (const auto& [unit, label] : yTicks) {
        const double y = area.bottom() - unit * area.height();
        painter.drawLine(QPointF(area.left() - 4, y), QPointF(area.left(), y));
        const QString text = elided(metrics, label, m_marginLeft - 24);
        const int w = metrics.horizontalAdvance(text);
        painter.drawText(QPointF(area.left() - 7 - w, y + metrics.ascent() / 2.0 - 1), text);
    }
    // Axis titles: x under the tick labels, y rotated along the left edge.
    painter.setPen(kTextColor);
    QFont titleFont = painter.font();
    titleFont.setBold(true);
    painter.setFont(titleFont);
    const QFontMetrics titleMetrics(titleFont);
    const QString xTitle = elided(titleMetrics, xAxis.title, static_cast<int>(area.width()));
    painter.drawText(QPointF(area.center().x() - titleMetrics.horizontalAdvance(xTitle) / 2.0,
                             area.bottom() + 8 + metrics.height() + titleMetrics.ascent()),
                     xTitle);
    painter.translate(titleMetrics.ascent() + 2, area.center().y());
    painter.rotate(-90);
    const QString yTitle = elided(titleMetrics, yAxis.title, static_cast<int>(area.height()));
    painter.drawText(QPointF(-titleMetrics.horizontalAdvance(yTitle) / 2.0, 0), yTitle);
    painter.restore();
}

void StudyPlot::drawColorBar(QPainter& painter, const QRectF& bar, const PlotAxis& valueAxis) {
    painter.save();
    const ObjectiveSpec& objective = m_model->objective();
    QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
    for (int i = 0; i <= 10; ++i) {
        const double unit = i / 10.0;
        gradient.setColorAt(unit, goodnessColor(goodness(valueAxis, objective, valueAxis.fromUnit(unit))));
    }
    painter.setPen(QPen(kAxisColor, 0.8));
    painter.setBrush(gradient);
    painter.drawRect(bar);
    const QFontMetrics metrics(painter.font());
    painter.setPen(kTextColor);
    for (const auto& [unit, label] : valueAxis.ticks(std::max(2, static_cast<int>(bar.height() / 36)))) {
        const double y = bar.bottom() - unit * bar.height();
        painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 3, y));
        painter.drawText(QPointF(bar.right() + 5, y + metrics.ascent() / 2.0 - 1), label);
    }
    painter.restore();
}

// MarkerPlot ---------------------------------------------------------------------------------

qint64 MarkerPlot::trialAt(const QPointF& pos) const {
    constexpr double kRadius = 6.0;
    qint64 best = -1;
    double bestDistance = kRadius * kRadius;
    for (const Marker& marker : m_markers) {
        const QPointF d = marker.pos - pos;
        const double distance = d.x() * d.x() + d.y() * d.y();
        if (distance <= bestDistance) {
            bestDistance = distance;
            best = marker.number;
        }
    }
    return best;
}

QList<qint64> MarkerPlot::trialsIn(const QRectF& rect) const {
    QList<qint64> numbers;
    for (const Marker& marker : m_markers) {
        if (rect.contains(marker.pos))
            numbers << marker.number;
    }
    return numbers;
}

void MarkerPlot::paintSelection(QPainter& painter) {
    painter.setPen(QPen(QColor(120, 60, 0), 1.2));
    painter.setBrush(kSelectedColor);
    for (const Marker& marker : m_markers) {
        if (isSelected(marker.number))
            painter.drawEllipse(marker.pos, 4.5, 4.5);
    }
}

} // namespace tunelab
