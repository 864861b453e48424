#pragma once

#include "charts/chart_decimation.h"

#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <array>
#include <map>
#include <memory>

class QAbstractAxis;
class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QLogValueAxis;
class QPainter;
class QSlider;
class QTimer;
class QToolButton;
class QValueAxis;

namespace tunelab {

class ChartCanvas;
class CurveLayer;

// Plots one metric of any number of runs, one colour per run. This class and ScatterChartView own
// all of TuneLab's Qt Charts code (Qt Charts is deprecated from Qt 6.10; few owners keep a later
// switch cheap). The app creates one instance per metric (per tab) and feeds each from its
// event-queue drain.
//
// Points are only buffered when they arrive, as arrays of the raw data (x and y as double, 16 bytes a
// point, 8 more while smoothing is on). A single-shot timer redraws at most 25 times a second: each
// curve's visible x range is decimated to the minimum and maximum of every pixel column of the plot
// (of every few columns once the curves shown would need more than pointBudget() points, since
// Qt Charts lays out and paints each point) and handed to its series with one QXYSeries::replace().
// Zooming re-decimates from the full data, so a narrow range shows every point. Many drawn points
// switch to thin lines without antialiasing. No OpenGL series: they are missing from grab() (PNG
// export, screenshots) and from the offscreen platform the tests use.
//
// Each run has a primary line and, for EpochLoss, a dashed validation line in the same colour.
// With smoothing above 0 the bold line is the exponential moving average and the raw data is drawn
// faint behind it.
//
// x is in whatever unit the owner feeds (step, epoch or seconds since the start). setXAxisMode()
// only renames the axis, drops the points and emits xAxisModeChanged() so the owner feeds them again
// in the new unit: one unit per point keeps memory at 16 bytes a point and the data never mixes units.
// GUI thread only.
class LossChartView : public QWidget {
    Q_OBJECT

public:
    static constexpr int kFrameIntervalMs = 40; // between frames while they are cheap
    // A frame that costs more (many long curves) waits longer, so the charts take at most about
    // 1/kFrameCostShare of the GUI thread: input and the other panels stay responsive.
    static constexpr int kFrameCostShare = 8;
    static constexpr int kMaxFrameIntervalMs = 250;
    static constexpr int kDefaultPointBudget = 16000;

    enum class Metric { StepLoss, EpochLoss, ValAccuracy, ValMae, LearningRate, GradNorm };
    enum class XAxisMode { Step, Epoch, WallTime };
    // The lines of one run: the primary one (train loss, accuracy, ...) and the dashed validation
    // line of EpochLoss.
    enum class Trace { Primary, Validation };
    Q_ENUM(Metric)
    Q_ENUM(XAxisMode)
    Q_ENUM(Trace)

    explicit LossChartView(QWidget* parent = nullptr); // Metric::StepLoss
    explicit LossChartView(Metric metric, QWidget* parent = nullptr);
    ~LossChartView() override;

    // Sets the metric's axis titles and x mode and drops every point (not the curves).
    void setMetric(Metric metric);
    Metric metric() const { return m_metric; }

    // Adds an empty curve; a key that exists already only gets the new label.
    void addSeries(qint64 key, const QString& label);
    // Buffers points (x, y) for the next frame. Non-finite points are dropped, so a diverged run
    // does not break the axes. An unknown key gets a curve labelled with the key.
    void appendPoints(qint64 key, const QVector<QPointF>& points);
    void appendPoints(qint64 key, const QVector<QPointF>& points, Trace trace);
    void removeSeries(qint64 key);
    void clear();
    // Drops every point but keeps the curves, their labels, colours and visibility.
    void clearPoints();

    bool hasSeries(qint64 key) const;
    int seriesCount() const;
    QString seriesLabel(qint64 key) const;
    // Every point kept for a curve, before decimation.
    qsizetype pointCount(qint64 key, Trace trace = Trace::Primary) const;
    // The points the bold line of a curve draws right now, after decimation (the smoothed values
    // while smoothing is on). Empty while the run is hidden.
    QList<QPointF> displayedPoints(qint64 key, Trace trace = Trace::Primary) const;
    // The faint raw line behind a smoothed curve; empty while smoothing is off.
    QList<QPointF> displayedRawPoints(qint64 key, Trace trace = Trace::Primary) const;

    // A run's colour depends on its key only, so it is the same in every chart and after clear().
    static QColor colorForKey(qint64 key);
    // The run's colour here: its key's colour, unless another curve of this chart has that one
    // already (run 13 beside run 1), then the first free colour of the palette.
    QColor seriesColor(qint64 key) const;
    QChart* chart() const { return m_chart; } // axes and legend; the curves are drawn over it
    // The tooltip the pointer shows now; empty while it is over no curve point.
    QString shownHoverText() const { return m_hoverText; }

    // A hidden run stays in the legend (struck out) and can be shown again by clicking it there.
    void setSeriesVisible(qint64 key, bool visible);
    bool isSeriesVisible(qint64 key) const;

    // Exponential smoothing 0 (off) .. 0.99: s[0] = y[0], s[i] = a * s[i-1] + (1 - a) * y[i].
    void setSmoothing(double amount);
    double smoothing() const { return m_smoothing; }

    // Logarithmic y axis; points with y <= 0 are left out of the drawing while it is on.
    void setLogScale(bool on);
    bool isLogScale() const { return m_logScale; }
    void setAxisTitles(const QString& x, const QString& y);
    QString xAxisTitle() const;

    void setXAxisMode(XAxisMode mode);
    XAxisMode xAxisMode() const { return m_xMode; }

    // Zoom: the wheel zooms x around the cursor, a rubber band zooms into a rectangle, right- or
    // middle-drag pans, the reset button or Ctrl+0 goes back to ranges that follow the data.
    void setXRange(double min, double max);
    void zoomX(double factor, double centerX); // factor < 1 zooms in
    void resetZoom();
    bool isZoomed() const { return !m_autoX || !m_autoY; }
    double visibleXMin() const;
    double visibleXMax() const;
    double visibleYMin() const;
    double visibleYMax() const;

    // The hover text for the point of a run nearest to x: "run — step N: value".
    QString hoverText(qint64 key, double x, Trace trace = Trace::Primary) const;

    // The plot as it is drawn now (no toolbar).
    // Both write through saveFileBytes: on failure `error` (when given) names the file and reason.
    bool exportPng(const QString& path, QString* error = nullptr);
    // "series,x,y" and one row per raw point of every visible line.
    bool exportCsv(const QString& path, QString* error = nullptr) const;

    // The smoothing slider, log toggle, x mode, reset and export buttons above the plot.
    void setToolBarVisible(bool visible);
    QSlider* smoothingSlider() const { return m_smoothingSlider; }

    // Pixel columns of the plot area.
    int plotColumns() const;
    // Each line is decimated to at most two points per column: one column per pixel while the
    // lines shown need at most pointBudget() points together, fewer (but at least 64) beyond it.
    // Qt Charts lays out and paints each drawn point, so the budget bounds the frame time.
    int decimationColumns() const { return m_lineColumns; }
    void setPointBudget(int points);
    int pointBudget() const { return m_pointBudget; }
    // Draws buffered points now instead of at the next frame.
    void flush();

Q_SIGNALS:
    // After a frame handed new points to the chart.
    void frameDrawn();
    void logScaleChanged(bool on);
    void smoothingChanged(double amount);
    void seriesVisibilityChanged(qint64 key, bool visible);
    // The points were dropped; feed them again with x in the new unit.
    void xAxisModeChanged(tunelab::LossChartView::XAxisMode mode);
    void zoomChanged();

private:
    friend class ChartCanvas;
    friend class CurveLayer;

    struct Line {
        // Owned by m_chart, and empty: they carry the legend entries and the pens. The curves
        // themselves are drawn by CurveLayer from boldShown and faintShown.
        QLineSeries* bold = nullptr;  // raw or smoothed values
        QLineSeries* faint = nullptr; // raw values behind a smoothed line
        QList<QPointF> boldShown;     // after decimation, in data coordinates
        QList<QPointF> faintShown;
        SeriesPoints points;
        bool dirty = false;
        // Bounds of the in-range points of the last decimation, for the automatic y range.
        YBounds drawn;
    };
    struct Curve {
        QString label;
        QColor color;
        bool visible = true;
        std::array<std::unique_ptr<Line>, 2> lines; // by Trace; created on first use
    };

    void buildToolBar();
    QColor freeColorFor(qint64 key) const;
    Line& lineFor(qint64 key, Trace trace);
    QString lineLabel(qint64 key, Trace trace) const;
    void styleLine(qint64 key, Trace trace, Line& line) const;
    void updateLegendMarker(qint64 key);
    void releaseLine(Line& line);
    void markAllDirty();
    void scheduleFrame();
    void showEvent(QShowEvent* event) override;
    void drawFrame();
    struct AxisRange {
        double min;
        double max;
        double step = 0.0; // the tick step; 0: a round step for the range (a zoom)
    };
    void decimateLine(Line& line, bool visible, double xMin, double xMax, int columns,
                      QList<QPointF>& boldPoints, QList<QPointF>& faintPoints);
    // Step and epoch axes count whole things: their ticks are whole numbers.
    bool integerX() const { return m_xMode != XAxisMode::WallTime; }
    AxisRange xRangeToShow() const;
    AxisRange yRangeToShow() const;
    void attachYAxis(QLineSeries* series);
    QAbstractAxis* yAxis() const;
    void handleAxisRangeChanged(bool xAxis);
    // The tooltip of a curve's point, shown at `at` (chart coordinates); `state` false hides it.
    void handleHover(qint64 key, Trace trace, const QPointF& point, bool state, const QPointF& at = {});
    void chooseCsvFile();
    void choosePngFile();

    Metric m_metric = Metric::StepLoss;
    XAxisMode m_xMode = XAxisMode::Step;
    QChart* m_chart = nullptr;     // owned by m_view
    ChartCanvas* m_view = nullptr; // child widget
    QWidget* m_toolBar = nullptr;  // child widget
    QSlider* m_smoothingSlider = nullptr;
    QLabel* m_smoothingLabel = nullptr;
    QToolButton* m_logButton = nullptr;
    QComboBox* m_xModeBox = nullptr;
    // Axes belong to the chart while attached and to this widget otherwise; one y axis at a time.
    QValueAxis* m_axisX = nullptr;
    QValueAxis* m_axisYLinear = nullptr;
    QLogValueAxis* m_axisYLog = nullptr;
    QTimer* m_frameTimer = nullptr;     // child object
    CurveLayer* m_curveLayer = nullptr; // owned by m_chart
    bool m_hovering = false;            // a hover tooltip is up
    QString m_hoverText;                // its text
    double m_frameCostMs = 0.0;         // the last frames' layout plus paint, smoothed
    double m_layoutMs = 0.0;            // of the newest frame, until its paint adds to it
    void notePaintCost(double paintMs);
    // CurveLayer's work (loss_chart_curves.cpp): every visible curve over `plot` (chart
    // coordinates), and the hover tooltip for the curve point nearest `at`.
    void paintCurves(QPainter& painter, const QRectF& plot) const;
    void hoverAt(const QPointF& at);
    bool m_frameDeferred = false; // points arrived while hidden
    std::map<qint64, Curve> m_curves;
    bool m_logScale = false;
    bool m_lite = false; // thin aliased lines while many points are drawn
    double m_smoothing = 0.0;
    int m_drawnColumns = 0; // plot columns of the last frame
    int m_lineColumns = 0;  // decimation columns of the last frame
    int m_pointBudget = kDefaultPointBudget;
    double m_drawnXMin = 0.0;
    double m_drawnXMax = -1.0;
    // Ranges: automatic (follow the data) or set by zooming and panning.
    bool m_autoX = true;
    bool m_autoY = true;
    double m_zoomXMin = 0.0;
    double m_zoomXMax = 1.0;
    double m_zoomYMin = 0.0;
    double m_zoomYMax = 1.0;
    mutable bool m_applyingRange = false; // our own setRange(), not a user's zoom
};

} // namespace tunelab
