#include "widgets/loss_chart_view.h"

#include <QChart>
#include <QChartView>
#include <QLegend>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr int kTickCount = 6;

// Decimates a curve whose x grows with the index to at most two points per pixel column: the
// lowest and the highest point of each column, in the order they occur. A loss spike or dip
// narrower than a pixel stays visible, which averaging or striding would hide.
QList<QPointF> decimateMinMax(const std::vector<QPointF>& points, double xMin, double xMax, int columns,
                              bool positiveOnly) {
    QList<QPointF> out;
    if (points.empty())
        return out;
    const double span = xMax - xMin;
    const double perX = span > 0.0 ? columns / span : 0.0;
    out.reserve(std::min<qsizetype>(static_cast<qsizetype>(points.size()), 2 * qsizetype(columns) + 2));

    int column = -1;
    const QPointF* low = nullptr;
    const QPointF* high = nullptr;
    auto emitColumn = [&] {
        if (!low)
            return;
        if (low == high) {
            out.append(*low);
        } else if (low < high) {
            out.append(*low);
            out.append(*high);
        } else {
            out.append(*high);
            out.append(*low);
        }
    };
    for (const QPointF& point : points) {
        if (positiveOnly && point.y() <= 0.0)
            continue;
        const int c = std::clamp(static_cast<int>((point.x() - xMin) * perX), 0, columns - 1);
        if (c != column) {
            emitColumn();
            column = c;
            low = high = &point;
            continue;
        }
        if (point.y() < low->y())
            low = &point;
        if (point.y() > high->y())
            high = &point;
    }
    emitColumn();
    return out;
}

} // namespace

LossChartView::LossChartView(QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart)
    , m_frameTimer(new QTimer(this)) {
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 8, 4));
    m_chart->setBackgroundRoundness(0.0);
    // Decimated curves hold a few thousand points at most, which the raster painter draws
    // quickly; OpenGL series would also go missing from QWidget::grab() screenshots.

    m_axisX = new QValueAxis(this);
    m_axisX->setLabelFormat(QStringLiteral("%.0f"));
    m_axisX->setRange(0.0, 100.0);
    m_axisYLinear = new QValueAxis(this);
    m_axisYLinear->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLinear->setRange(0.0, 1.0);
    m_axisYLog = new QLogValueAxis(this);
    m_axisYLog->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLog->setBase(10.0);
    m_axisYLog->setMinorTickCount(-1);
    m_axisYLog->setRange(0.01, 1.0);
    m_chart->addAxis(m_axisX, Qt::AlignBottom);
    m_chart->addAxis(m_axisYLinear, Qt::AlignLeft);
    setAxisTitles(tr("step"), tr("train loss"));

    m_view = new QChartView(m_chart, this); // takes ownership of the chart
    m_view->setRenderHint(QPainter::Antialiasing);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);

    m_frameTimer->setSingleShot(true);
    m_frameTimer->setInterval(kFrameIntervalMs);
    connect(m_frameTimer, &QTimer::timeout, this, &LossChartView::drawFrame);
    // A wider or narrower plot needs a new decimation of every curve.
    connect(m_chart, &QChart::plotAreaChanged, this, [this](const QRectF&) {
        if (plotColumns() != m_drawnColumns && !m_curves.empty()) {
            for (auto& [key, curve] : m_curves)
                curve.dirty = true;
            scheduleFrame();
        }
    });
}

LossChartView::~LossChartView() = default;

void LossChartView::addSeries(qint64 key, const QString& label) {
    auto found = m_curves.find(key);
    if (found != m_curves.end()) {
        found->second.series->setName(label);
        return;
    }
    Curve& curve = m_curves[key];
    curve.series = new QLineSeries;
    curve.series->setName(label);
    m_chart->addSeries(curve.series); // takes ownership
    curve.series->attachAxis(m_axisX);
    attachYAxis(curve);
}

void LossChartView::appendPoints(qint64 key, const QVector<QPointF>& points) {
    if (!hasSeries(key))
        addSeries(key, QString::number(key));
    Curve& curve = m_curves[key];
    curve.points.reserve(curve.points.size() + static_cast<size_t>(points.size()));
    bool added = false;
    for (const QPointF& point : points) {
        if (!std::isfinite(point.x()) || !std::isfinite(point.y()))
            continue;
        curve.points.push_back(point);
        added = true;
        if (m_xMin > m_xMax) {
            m_xMin = m_xMax = point.x();
            m_yMin = m_yMax = point.y();
        } else {
            m_xMin = std::min(m_xMin, point.x());
            m_xMax = std::max(m_xMax, point.x());
            m_yMin = std::min(m_yMin, point.y());
            m_yMax = std::max(m_yMax, point.y());
        }
        if (point.y() > 0.0 && (m_yMinPositive <= 0.0 || point.y() < m_yMinPositive))
            m_yMinPositive = point.y();
    }
    if (added) {
        curve.dirty = true;
        scheduleFrame();
    }
}

void LossChartView::removeSeries(qint64 key) {
    auto found = m_curves.find(key);
    if (found == m_curves.end())
        return;
    std::unique_ptr<QLineSeries> series(found->second.series);
    m_chart->removeSeries(series.get()); // hands ownership back
    m_curves.erase(found);
    recomputeBounds();
    for (auto& [otherKey, curve] : m_curves)
        curve.dirty = true;
    scheduleFrame();
}

void LossChartView::clear() {
    m_frameTimer->stop();
    m_chart->removeAllSeries(); // deletes the series
    m_curves.clear();
    recomputeBounds();
    updateRanges();
}

bool LossChartView::hasSeries(qint64 key) const {
    return m_curves.count(key) != 0;
}

int LossChartView::seriesCount() const {
    return static_cast<int>(m_curves.size());
}

qsizetype LossChartView::pointCount(qint64 key) const {
    auto found = m_curves.find(key);
    return found == m_curves.end() ? 0 : static_cast<qsizetype>(found->second.points.size());
}

QList<QPointF> LossChartView::displayedPoints(qint64 key) const {
    auto found = m_curves.find(key);
    return found == m_curves.end() ? QList<QPointF>() : found->second.series->points();
}

void LossChartView::setLogScale(bool on) {
    if (on == m_logScale)
        return;
    QAbstractAxis* oldAxis = m_logScale ? static_cast<QAbstractAxis*>(m_axisYLog) : m_axisYLinear;
    for (auto& [key, curve] : m_curves) {
        curve.series->detachAxis(oldAxis);
        curve.series->clear(); // no y <= 0 may meet the log axis; flush() below draws them again
    }
    m_chart->removeAxis(oldAxis);
    oldAxis->setParent(this); // the chart released it; keep it for the next switch
    m_logScale = on;
    m_chart->addAxis(m_logScale ? static_cast<QAbstractAxis*>(m_axisYLog) : m_axisYLinear, Qt::AlignLeft);
    for (auto& [key, curve] : m_curves) {
        attachYAxis(curve);
        curve.dirty = true;
    }
    flush();
}

void LossChartView::setAxisTitles(const QString& x, const QString& y) {
    m_axisX->setTitleText(x);
    m_axisYLinear->setTitleText(y);
    m_axisYLog->setTitleText(y);
}

int LossChartView::plotColumns() const {
    const int width = qRound(m_chart->plotArea().width());
    if (width >= 16)
        return width;
    // Not laid out yet (hidden widget): assume a typical plot width.
    return std::max(640, this->width() - 80);
}

void LossChartView::flush() {
    m_frameTimer->stop();
    drawFrame();
}

void LossChartView::scheduleFrame() {
    if (!m_frameTimer->isActive())
        m_frameTimer->start();
}

void LossChartView::drawFrame() {
    updateRanges();
    const int columns = plotColumns();
    const bool redrawAll = columns != m_drawnColumns;
    m_drawnColumns = columns;
    bool drew = false;
    for (auto& [key, curve] : m_curves) {
        if (!curve.dirty && !redrawAll)
            continue;
        curve.dirty = false;
        curve.series->replace(
            decimateMinMax(curve.points, m_axisX->min(), m_axisX->max(), columns, m_logScale));
        drew = true;
    }
    if (drew)
        Q_EMIT frameDrawn();
}

void LossChartView::updateRanges() {
    if (m_xMin > m_xMax) {
        m_axisX->setTickCount(kTickCount);
        m_axisYLinear->setTickCount(kTickCount);
        m_axisX->setRange(0.0, 100.0); // whole-number step labels while empty
        m_axisYLinear->setRange(0.0, 1.0);
        m_axisYLog->setRange(0.01, 1.0);
        return;
    }
    // Round tick values (0, 250, 500 rather than 1, 5001); steps start near 0 anyway.
    // applyNiceNumbers() also lowers the tick count; start from the same count every frame.
    m_axisX->setTickCount(kTickCount);
    m_axisX->setRange(std::min(m_xMin, 0.0), std::max(m_xMax, m_xMin + 1.0));
    m_axisX->applyNiceNumbers();

    const double span = m_yMax - m_yMin;
    const double pad = span > 0.0 ? 0.05 * span : std::max(0.5 * std::abs(m_yMax), 0.5);
    double low = m_yMin - pad;
    if (m_yMin >= 0.0 && low < 0.0)
        low = 0.0; // a loss is not negative; don't show room for it
    m_axisYLinear->setTickCount(kTickCount);
    m_axisYLinear->setRange(low, m_yMax + pad);
    m_axisYLinear->applyNiceNumbers();

    if (m_yMinPositive > 0.0) {
        // A little headroom in log space, and at least one decade so the axis has labels.
        const double logLow = m_yMinPositive / 1.15;
        m_axisYLog->setRange(logLow, std::max(m_yMax * 1.15, logLow * 10.0));
    } else {
        m_axisYLog->setRange(0.01, 1.0);
    }
}

void LossChartView::attachYAxis(Curve& curve) {
    curve.series->attachAxis(m_logScale ? static_cast<QAbstractAxis*>(m_axisYLog) : m_axisYLinear);
}

void LossChartView::recomputeBounds() {
    m_xMin = m_yMin = m_yMinPositive = 0.0;
    m_xMax = m_yMax = -1.0;
    bool any = false;
    for (const auto& [key, curve] : m_curves) {
        for (const QPointF& point : curve.points) {
            if (!any) {
                m_xMin = m_xMax = point.x();
                m_yMin = m_yMax = point.y();
                any = true;
            }
            m_xMin = std::min(m_xMin, point.x());
            m_xMax = std::max(m_xMax, point.x());
            m_yMin = std::min(m_yMin, point.y());
            m_yMax = std::max(m_yMax, point.y());
            if (point.y() > 0.0 && (m_yMinPositive <= 0.0 || point.y() < m_yMinPositive))
                m_yMinPositive = point.y();
        }
    }
}

} // namespace tunelab
