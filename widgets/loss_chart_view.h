#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QChart;
class QChartView;
class QLineSeries;
class QLogValueAxis;
class QTimer;
class QValueAxis;

namespace tunelab {

// Plots one loss curve per run against the optimizer step. This class owns all of TuneLab's
// Qt Charts code (Qt Charts is deprecated from Qt 6.10; one owner keeps a later switch cheap).
//
// Points are only buffered when they arrive. A single-shot timer redraws at most 25 times a
// second: each curve is decimated to the minimum and maximum of every pixel column of the plot
// and handed to its series with one QXYSeries::replace(). Axes follow the data.
// GUI thread only.
class LossChartView : public QWidget {
    Q_OBJECT

public:
    static constexpr int kFrameIntervalMs = 40;

    explicit LossChartView(QWidget* parent = nullptr);
    ~LossChartView() override;

    // Adds an empty curve; a key that exists already only gets the new label.
    void addSeries(qint64 key, const QString& label);
    // Buffers points (x = step, y = loss) for the next frame. Non-finite y values are dropped, so
    // a diverged run does not break the axes. An unknown key gets a curve labelled with the key.
    void appendPoints(qint64 key, const QVector<QPointF>& points);
    void removeSeries(qint64 key);
    void clear();

    bool hasSeries(qint64 key) const;
    int seriesCount() const;
    // Every point kept for a curve, before decimation.
    qsizetype pointCount(qint64 key) const;
    // The points the chart draws for a curve right now, after decimation.
    QList<QPointF> displayedPoints(qint64 key) const;

    // Logarithmic y axis; points with y <= 0 are left out of the drawing while it is on.
    void setLogScale(bool on);
    bool isLogScale() const { return m_logScale; }
    void setAxisTitles(const QString& x, const QString& y);

    // Pixel columns of the plot area: each curve is decimated to at most two points per column.
    int plotColumns() const;
    // Draws buffered points now instead of at the next frame.
    void flush();

Q_SIGNALS:
    // After a frame handed new points to the chart.
    void frameDrawn();

private:
    struct Curve {
        QLineSeries* series = nullptr; // owned by m_chart
        std::vector<QPointF> points;
        bool dirty = false;
    };

    void scheduleFrame();
    void drawFrame();
    void updateRanges();
    void attachYAxis(Curve& curve);
    void recomputeBounds();

    QChart* m_chart = nullptr;    // owned by m_view
    QChartView* m_view = nullptr; // child widget
    // Axes belong to the chart while attached and to this widget otherwise; one y axis at a time.
    QValueAxis* m_axisX = nullptr;
    QValueAxis* m_axisYLinear = nullptr;
    QLogValueAxis* m_axisYLog = nullptr;
    QTimer* m_frameTimer = nullptr; // child object
    std::map<qint64, Curve> m_curves;
    bool m_logScale = false;
    int m_drawnColumns = 0; // plot columns of the last frame
    // Data bounds over all curves; min > max while there is no data.
    double m_xMin = 0.0;
    double m_xMax = -1.0;
    double m_yMin = 0.0;
    double m_yMax = -1.0;
    double m_yMinPositive = 0.0; // smallest y > 0, for the log axis; 0 while none
};

} // namespace tunelab
