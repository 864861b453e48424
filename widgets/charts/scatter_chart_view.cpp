#include "charts/scatter_chart_view.h"

#include "common/axis_ticks.h"

#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QGraphicsSimpleTextItem>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr double kLogXRatio = 20.0; // an x range wider than this many times over goes logarithmic
constexpr double kLabelGap = 6.0;   // pixels between a point and its name
constexpr double kNearPixels = 12.0;

const QColor kPlainColor(0x42, 0x85, 0xf4);
const QColor kFrontColor(0x2e, 0x7d, 0x32);
const QColor kHighlightColor(0xef, 0x6c, 0x00);

QScatterSeries* scatter(const QString& name, QScatterSeries::MarkerShape shape, double size,
                        const QColor& color) {
    auto* series = new QScatterSeries;
    series->setName(name);
    series->setMarkerShape(shape);
    series->setMarkerSize(size);
    series->setColor(color);
    series->setBorderColor(color.darker(140));
    return series;
}

} // namespace

ScatterChartView::ScatterChartView(QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart) {
    m_chart->setMargins(QMargins(4, 4, 12, 4));
    m_chart->setBackgroundRoundness(0.0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    QFont titleFont = m_chart->titleFont();
    titleFont.setBold(true);
    m_chart->setTitleFont(titleFont);

    m_frontLine = new QLineSeries;
    QPen linePen(kFrontColor);
    linePen.setWidthF(1.5);
    linePen.setStyle(Qt::DashLine);
    m_frontLine->setPen(linePen);
    m_plain = scatter(tr("variants"), QScatterSeries::MarkerShapeCircle, 10.0, kPlainColor);
    m_front = scatter(tr("Pareto front"), QScatterSeries::MarkerShapeRectangle, 11.0, kFrontColor);
    m_highlight = scatter(tr("source"), QScatterSeries::MarkerShapeStar, 18.0, kHighlightColor);
    m_axisX = new QValueAxis(this);
    m_axisX->setLabelFormat(QStringLiteral("%.4g"));
    m_axisX->setTickType(QValueAxis::TicksDynamic);
    m_logAxisX = new QLogValueAxis(this);
    m_logAxisX->setLabelFormat(QStringLiteral("%g")); // 1000, not 1e+03
    m_logAxisX->setBase(10.0);
    m_logAxisX->setMinorTickCount(-1);
    m_axisY = new QValueAxis(this);
    m_axisY->setLabelFormat(QStringLiteral("%.4g"));
    m_axisY->setTickType(QValueAxis::TicksDynamic);
    m_chart->addAxis(m_axisX, Qt::AlignBottom);
    m_chart->addAxis(m_axisY, Qt::AlignLeft);
    for (QXYSeries* series : {static_cast<QXYSeries*>(m_frontLine), static_cast<QXYSeries*>(m_plain),
                              static_cast<QXYSeries*>(m_front), static_cast<QXYSeries*>(m_highlight)}) {
        m_chart->addSeries(series);
        series->attachAxis(m_axisX);
        series->attachAxis(m_axisY);
    }
    for (QLegendMarker* marker : m_chart->legend()->markers(m_frontLine))
        marker->setVisible(false); // the squares' entry names the front

    m_view = new QChartView(m_chart, this); // takes ownership of the chart
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMouseTracking(true);
    m_empty = new QLabel(this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->hide();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_empty, 1);

    connect(m_chart, &QChart::plotAreaChanged, this, [this] { placeLabels(); });
    for (QScatterSeries* series : {m_plain, m_front, m_highlight})
        connect(series, &QXYSeries::hovered, this,
                [this](const QPointF& point, bool state) { showToolTip(point, state); });
    setMinimumSize(260, 200);
}

void ScatterChartView::setTitle(const QString& title) {
    m_chart->setTitle(title);
}

void ScatterChartView::setAxisTitles(const QString& x, const QString& y) {
    m_axisX->setTitleText(x);
    m_logAxisX->setTitleText(x);
    m_axisY->setTitleText(y);
}

void ScatterChartView::setPoints(const QList<ScatterPoint>& points, const QString& emptyText) {
    m_points = points;
    QList<QPointF> plain, front, highlight, line;
    for (const ScatterPoint& point : points) {
        const QPointF at(point.x, point.y);
        (point.highlighted ? highlight : point.front ? front : plain).append(at);
        if (point.front)
            line.append(at);
    }
    std::sort(line.begin(), line.end(), [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); });
    // One replace() per series: the chart lays out once per series, not per point.
    m_plain->replace(plain);
    m_front->replace(front);
    m_highlight->replace(highlight);
    m_frontLine->replace(line);
    for (QGraphicsSimpleTextItem* label : m_labels)
        delete label; // owned by the chart's scene; gone with the points they named
    m_labels.clear();
    for (const ScatterPoint& point : points) {
        auto* label = new QGraphicsSimpleTextItem(point.name, m_chart);
        QFont font = label->font();
        font.setPointSizeF(font.pointSizeF() * 0.9);
        label->setFont(font);
        label->setBrush(point.highlighted ? kHighlightColor.darker(130) : QColor(0x30, 0x30, 0x30));
        label->setZValue(10.0);
        m_labels.append(label);
    }
    m_empty->setText(emptyText);
    m_view->setVisible(!points.isEmpty());
    m_empty->setVisible(points.isEmpty());
    fitAxes();
    placeLabels();
}

void ScatterChartView::fitAxes() {
    double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin, yMin = xMin, yMax = -xMin;
    for (const ScatterPoint& point : m_points) {
        xMin = std::min(xMin, point.x);
        xMax = std::max(xMax, point.x);
        yMin = std::min(yMin, point.y);
        yMax = std::max(yMax, point.y);
    }
    if (m_points.isEmpty()) {
        xMin = yMin = 0.0;
        xMax = yMax = 1.0;
    }
    const bool logX = xMin > 0.0 && xMax / xMin > kLogXRatio;
    if (logX != m_logX) {
        QAbstractAxis* from = logX ? static_cast<QAbstractAxis*>(m_axisX) : m_logAxisX;
        QAbstractAxis* to = logX ? static_cast<QAbstractAxis*>(m_logAxisX) : m_axisX;
        for (QAbstractSeries* series : m_chart->series())
            series->detachAxis(from);
        m_chart->removeAxis(from);
        m_chart->addAxis(to, Qt::AlignBottom);
        for (QAbstractSeries* series : m_chart->series())
            series->attachAxis(to);
        m_logX = logX;
    }
    // Room around the outer points for their markers and names.
    const auto padded = [](double low, double high, double share) {
        const double span = high > low ? high - low : std::max(std::abs(high), 1.0) * 0.1;
        return std::pair<double, double>{low - span * share, high + span * share};
    };
    if (m_logX) {
        m_logAxisX->setRange(xMin / 1.3, xMax * 1.6);
    } else {
        auto [low, high] = padded(xMin, xMax, 0.12);
        if (xMin >= 0.0)
            low = std::max(low, 0.0); // sizes and times: the axis starts at 0 at the lowest
        const NiceRange x = niceRange(low, high, 5);
        m_axisX->setRange(x.min, x.max);
        m_axisX->setTickAnchor(x.min);
        m_axisX->setTickInterval(x.step);
    }
    const auto [low, high] = padded(yMin, yMax, 0.15);
    const NiceRange y = niceRange(low, high, 5);
    m_axisY->setRange(y.min, y.max);
    m_axisY->setTickAnchor(y.min);
    m_axisY->setTickInterval(y.step);
}

// Each name goes beside its point, right or left, moved up or down a line at a time until it
// covers neither another name nor another point's marker, nor leaves the plot.
void ScatterChartView::placeLabels() {
    const QRectF plot = m_chart->plotArea();
    QList<QPointF> positions;
    for (const ScatterPoint& point : m_points)
        positions.append(m_chart->mapToPosition(QPointF(point.x, point.y), m_plain));
    QList<QRectF> placed;
    for (int i = 0; i < m_labels.size() && i < m_points.size(); ++i) {
        QGraphicsSimpleTextItem* label = m_labels[i];
        const QPointF at = positions[i];
        const QSizeF size = label->boundingRect().size();
        const double gap = kLabelGap + (m_points[i].highlighted ? 4.0 : 0.0);
        const double right = at.x() + gap;
        const double left = at.x() - gap - size.width();
        const bool rightFits = right + size.width() <= plot.right();
        const auto clear = [&](const QRectF& rect) {
            if (rect.top() < plot.top() - 2.0 || rect.bottom() > plot.bottom() + 2.0 ||
                rect.left() < plot.left() || rect.right() > plot.right() + 2.0)
                return false;
            for (const QRectF& other : placed)
                if (other.intersects(rect))
                    return false;
            for (int j = 0; j < positions.size(); ++j) {
                const double radius = m_points[j].highlighted ? 9.0 : 6.0;
                if (j != i && rect.intersects(QRectF(positions[j] - QPointF(radius, radius),
                                                     QSizeF(2.0 * radius, 2.0 * radius))))
                    return false;
            }
            return true;
        };
        const double top = at.y() - size.height() / 2.0;
        QRectF best(QPointF(rightFits ? right : std::max(left, plot.left()), top), size);
        bool found = false;
        for (int step = 0; step < 12 && !found; ++step) {
            const double shift = (step % 2 == 0 ? 1.0 : -1.0) * ((step + 1) / 2) * (size.height() * 0.8);
            const std::array<double, 2> sides =
                rightFits ? std::array<double, 2>{right, left} : std::array<double, 2>{left, right};
            for (const double x : sides) {
                const QRectF rect(QPointF(x, top + shift), size);
                if (clear(rect)) {
                    best = rect;
                    found = true;
                    break;
                }
            }
        }
        label->setPos(best.topLeft());
        placed.append(best);
    }
}

int ScatterChartView::frontMarkerCount() const {
    return m_front->count();
}

int ScatterChartView::frontLinePointCount() const {
    return m_frontLine->count();
}

QStringList ScatterChartView::labelTexts() const {
    QStringList texts;
    for (const QGraphicsSimpleTextItem* label : m_labels)
        texts << label->text();
    return texts;
}

QString ScatterChartView::toolTipNear(const QPointF& value) const {
    const QPointF at = m_chart->mapToPosition(value, m_plain);
    double nearest = kNearPixels;
    QString tip;
    for (const ScatterPoint& point : m_points) {
        const QPointF position = m_chart->mapToPosition(QPointF(point.x, point.y), m_plain);
        const double distance = std::hypot(position.x() - at.x(), position.y() - at.y());
        if (distance <= nearest) {
            nearest = distance;
            tip = point.toolTip.isEmpty() ? point.name : point.toolTip;
        }
    }
    return tip;
}

void ScatterChartView::showToolTip(const QPointF& value, bool hovering) {
    if (!hovering) {
        QToolTip::hideText();
        return;
    }
    const QString tip = toolTipNear(value);
    if (!tip.isEmpty())
        QToolTip::showText(QCursor::pos(), tip, m_view);
}

} // namespace tunelab
