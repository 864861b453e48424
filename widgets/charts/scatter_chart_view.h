#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

class QChart;
class QChartView;
class QGraphicsSimpleTextItem;
class QLabel;
class QLineSeries;
class QScatterSeries;
class QValueAxis;
class QLogValueAxis;

namespace tunelab {

// One named point of a ScatterChartView.
struct ScatterPoint {
    QString name; // drawn beside the point
    double x = 0.0;
    double y = 0.0;
    QString toolTip;          // shown while the mouse is over the point; the name when empty
    bool front = false;       // on the Pareto front: a square marker, joined to the others by a line
    bool highlighted = false; // the reference (a compression's source): larger, in its own colour
};

// A scatter chart of a few named points: ordinary points as circles, front points as squares
// joined in x order by the front's line, the highlighted point as a larger orange star, and every
// name written beside its point (moved down where it would cover another name). Hovering a point
// shows its tooltip. The axes fit the points with round ticks; an x range wider than 20 times over
// goes logarithmic. Like LossChartView, it keeps its Qt Charts code to itself (its header names
// none of it). GUI thread only.
class ScatterChartView : public QWidget {
    Q_OBJECT

public:
    explicit ScatterChartView(QWidget* parent = nullptr);

    void setTitle(const QString& title);
    void setAxisTitles(const QString& x, const QString& y);
    // Replaces the points; none shows `emptyText` in place of the chart.
    void setPoints(const QList<ScatterPoint>& points, const QString& emptyText = {});
    const QList<ScatterPoint>& points() const { return m_points; }

    // What is drawn, for tests: the squares of the front (a highlighted point on it keeps its star),
    // the points on the front's line, the names written, and whether x is logarithmic.
    int frontMarkerCount() const;
    int frontLinePointCount() const;
    QStringList labelTexts() const;
    bool logarithmicX() const { return m_logX; }
    // The tooltip of the point nearest `value` (chart coordinates), empty when none is within 12 pixels.
    QString toolTipNear(const QPointF& value) const;
    QChart* chart() const { return m_chart; }

private:
    void fitAxes();
    void placeLabels();
    void showToolTip(const QPointF& value, bool hovering);

    QList<ScatterPoint> m_points;
    QChart* m_chart = nullptr;
    QChartView* m_view = nullptr;
    QLabel* m_empty = nullptr;
    QScatterSeries* m_plain = nullptr;
    QScatterSeries* m_front = nullptr;
    QScatterSeries* m_highlight = nullptr;
    QLineSeries* m_frontLine = nullptr;
    QValueAxis* m_axisX = nullptr;
    QLogValueAxis* m_logAxisX = nullptr;
    QValueAxis* m_axisY = nullptr;
    bool m_logX = false;
    QList<QGraphicsSimpleTextItem*> m_labels; // one per point, in the order of m_points
};

} // namespace tunelab
