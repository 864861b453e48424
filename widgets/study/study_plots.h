#pragma once

#include "study/pareto_results.h"
#include "study/study.h"
#include "study/study_analysis.h"

#include <QColor>
#include <QImage>
#include <QList>
#include <QPolygonF>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tunelab {

class StudyTrialsModel;

// One axis of a study plot: linear, logarithmic or categorical (a choice per tick). Positions run
// from 0 at the low end to 1 at the high end; categories sit at the middle of equal slots.
struct PlotAxis {
    QString title;
    double min = 0.0;
    double max = 1.0;
    bool log = false;
    bool integer = false;   // whole numbers only (trial numbers, epochs): integer ticks
    QStringList categories; // non-empty: categorical, coordinates are category indices

    bool isCategorical() const { return !categories.isEmpty(); }
    double toUnit(double coordinate) const;
    double fromUnit(double unit) const;
    // A parameter's value on this axis (a number, or its category's index); NaN when absent.
    double coordinateOf(const Assignment& params, const std::string& path) const;
    // Tick positions (unit) and labels, at most about `maxTicks` of them.
    std::vector<std::pair<double, QString>> ticks(int maxTicks) const;

    // The axis of a parameter over the trials that set it: categorical when any value is not a
    // number, logarithmic when asked for and every value is positive.
    static PlotAxis forParameter(const std::vector<TrialRecord>& trials, const std::string& path, bool log);
    // The axis of objective values. An outlier tail (a diverged trial) is cut off so that it does not
    // squash the rest; values beyond the ends draw at the edge. Logarithmic for positive values whose
    // largest is more than `logAboveRatio` times the smallest (two decades unless said otherwise).
    static PlotAxis forValues(std::vector<double> values, const QString& title, double logAboveRatio = 100.0);
};

// The value's position on the objective's colour scale: 0 for the worst, 1 for the best.
double goodness(const PlotAxis& valueAxis, const ObjectiveSpec& objective, double value);
// Colour of a trial on the value scale, from light (worst) to dark (best).
QColor goodnessColor(double goodness, int alpha = 255);
// The value a pruned or running trial reached last (its value when set, else its last intermediate).
double latestValue(const TrialRecord& trial);
// An objective's axis title: its label and direction, "val_loss (minimize)".
QString objectiveAxisTitle(const ObjectiveSpec& objective);

// Base of the study plots: paints with QPainter into a cached image that is rebuilt only after
// invalidate() or a resize, and draws the linked selection, the rubber band and hover on top of it,
// so selection changes and hover cost a blit. Clicking a trial, or dragging a rubber band around
// trials, asks for a selection (Ctrl or Shift adds to it); clicking empty space clears it. GUI
// thread only.
class StudyPlot : public QWidget {
    Q_OBJECT

public:
    explicit StudyPlot(QWidget* parent = nullptr);

    // Neither is owned; both must outlive the plot.
    void setSources(const StudyTrialsModel* model, const QSet<qint64>* selection);
    // The trials changed: rebuild the cached picture at the next paint.
    void invalidate();
    // The linked selection changed: repaint the highlight only.
    void selectionUpdated();
    // How many times the cached picture was rebuilt.
    int renderCount() const { return m_renderCount; }
    QRectF plotArea() const;
    // The trial drawn nearest to `pos` (within a few pixels), -1 for none.
    virtual qint64 trialAt(const QPointF& pos) const;
    // The trials drawn inside `rect`.
    virtual QList<qint64> trialsIn(const QRectF& rect) const;
    // The hover text for a trial: number, every objective's value and parameters.
    QString trialToolTip(qint64 number) const;
    bool isSelected(qint64 number) const { return m_selection && m_selection->contains(number); }

Q_SIGNALS:
    void selectionRequested(const QList<qint64>& numbers, bool extend);

protected:
    struct Marker {
        QPointF pos;
        qint64 number;
    };

    virtual void render(QPainter& painter) = 0;
    // Draws the selected trials over the cached picture (which is faded first).
    virtual void paintSelection(QPainter& painter) { (void)painter; }
    // Draws what sits over everything, selection or not (brushes).
    virtual void paintOverlay(QPainter& painter) { (void)painter; }
    virtual bool selectsByRubberBand() const { return true; }

    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

    void setMargins(int left, int top, int right, int bottom);
    void drawFrameAndTicks(QPainter& painter, const PlotAxis& xAxis, const PlotAxis& yAxis);
    void drawColorBar(QPainter& painter, const QRectF& bar, const PlotAxis& valueAxis);
    void drawEmptyMessage(QPainter& painter, const QString& text);
    bool hasSelection() const { return m_selection && !m_selection->isEmpty(); }
    const TrialRecord* trialByNumber(qint64 number) const;

    const StudyTrialsModel* m_model = nullptr;
    const QSet<qint64>* m_selection = nullptr;
    int m_marginLeft = 64;
    int m_marginTop = 16;
    int m_marginRight = 18;
    int m_marginBottom = 42;

private:
    QImage m_cache;
    bool m_cacheValid = false;
    // The cached picture with the selection drawn over it, rebuilt when either changes, so that
    // hovering and rubber-banding over a large selection only blit it.
    QImage m_composed;
    bool m_composedValid = false;
    int m_renderCount = 0;
    QPoint m_pressPos;
    bool m_pressed = false;
    bool m_banding = false;
    QRect m_band;
};

// A plot of one dot per trial: clicking, the rubber band and the selection's highlight use the dots
// drawn in the last picture.
class MarkerPlot : public StudyPlot {
    Q_OBJECT

public:
    using StudyPlot::StudyPlot;
    qint64 trialAt(const QPointF& pos) const override;
    QList<qint64> trialsIn(const QRectF& rect) const override;

protected:
    void paintSelection(QPainter& painter) override;

    std::vector<Marker> m_markers; // filled by render()
};

// Every finished trial's value by trial number (pruned ones faint) and a step line of the best
// value so far.
class BestSoFarPlot : public MarkerPlot {
    Q_OBJECT

public:
    using MarkerPlot::MarkerPlot;

protected:
    void render(QPainter& painter) override;
};

// Every trial's intermediate values (objective per epoch) as one polyline: pruned ones faint, the
// best one bold. Clicking a curve selects its trial.
class TrialCurvesPlot : public StudyPlot {
    Q_OBJECT

public:
    using StudyPlot::StudyPlot;
    qint64 trialAt(const QPointF& pos) const override;
    QList<qint64> trialsIn(const QRectF& rect) const override;

protected:
    void render(QPainter& painter) override;
    void paintSelection(QPainter& painter) override;

private:
    std::vector<std::pair<qint64, QPolygonF>> m_curves;
};

// One vertical axis per parameter and one for the objective; each complete trial is a polyline
// coloured by its value that skips the axes of parameters that did not apply. Dragging along an
// axis sets a range filter ("brush") on it; the trials inside every brush are selected. Clicking an
// axis without dragging removes its brush.
// With Axes::Objectives it draws one axis per objective instead (the Pareto view of a study with
// three or more): the trials on the Pareto front stand out, the dominated ones are faint.
class ParallelCoordinatesPlot : public StudyPlot {
    Q_OBJECT

public:
    enum class Axes { ParametersAndObjective, Objectives };

    explicit ParallelCoordinatesPlot(QWidget* parent = nullptr, Axes axes = Axes::ParametersAndObjective);

    Axes axesShown() const { return m_axesShown; }
    int axisCount() const { return static_cast<int>(m_axes.size()); }
    const PlotAxis& axis(int index) const { return m_axes[static_cast<size_t>(index)]; }
    // Where `coordinate` (a number, or a category's index) lies on axis `index`, in widget pixels.
    QPointF pointOnAxis(int index, double coordinate) const;
    // Brushes as ranges of axis coordinates (low, high), by axis index.
    std::map<int, std::pair<double, double>> brushes() const;
    void clearBrushes();
    // The complete trials inside every brush (every complete trial when there is none).
    QList<qint64> trialsInBrushes() const;
    qint64 trialAt(const QPointF& pos) const override;

protected:
    void render(QPainter& painter) override;
    void paintSelection(QPainter& painter) override;
    void paintOverlay(QPainter& painter) override;
    bool selectsByRubberBand() const override { return false; }
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void rebuildAxes();
    double axisX(int index) const;
    int axisNear(const QPointF& pos) const;
    double unitAtY(double y) const;
    // The trial's coordinate on axis `index`: a parameter's value or category, or an objective's value.
    double coordinateOn(int index, const TrialRecord& trial) const;
    // Complete, with a value of every objective the axes show.
    bool isDrawn(const TrialRecord& trial) const;
    bool insideBrushes(const TrialRecord& trial) const;
    void drawAxes(QPainter& painter);

    Axes m_axesShown;
    std::vector<PlotAxis> m_axes;     // parameters, then the objective; or the objectives
    std::vector<std::string> m_paths; // parameter of each axis; empty for an objective
    std::vector<int> m_objectiveOf;   // objective of each axis, -1 for a parameter
    std::vector<std::pair<qint64, QPolygonF>> m_lines;
    std::map<int, std::pair<double, double>> m_brushUnits; // axis -> (low, high) in unit positions
    int m_dragAxis = -1;
    double m_dragStartUnit = 0.0;
};

// A study with two objectives: each complete trial as a dot (x: the first objective, y: the second).
// The trials of the Pareto front are drawn bold and joined by the step line that bounds what they
// dominate; the dominated ones are lighter.
class ParetoFrontPlot : public MarkerPlot {
    Q_OBJECT

public:
    using MarkerPlot::MarkerPlot;
    const PlotAxis& xAxis() const { return m_xAxis; }
    const PlotAxis& yAxis() const { return m_yAxis; }
    // Where a trial's dot was drawn in the last picture; false when it was not drawn.
    bool dotOf(qint64 number, QPointF* pos) const;
    int drawnTrialCount() const { return static_cast<int>(m_markers.size()); }

protected:
    void render(QPainter& painter) override;
    void paintSelection(QPainter& painter) override;

private:
    PlotAxis m_xAxis;
    PlotAxis m_yAxis;
};

// A study with several objectives: the hypervolume the complete trials dominate (hypervolumeHistory)
// against the number of finished trials, measured from hypervolumeReference(), which the plot
// states. A dot per finished trial selects the trial that finished there.
class HypervolumePlot : public MarkerPlot {
    Q_OBJECT

public:
    using MarkerPlot::MarkerPlot;
    // Of the last picture.
    const std::vector<HypervolumeAt>& history() const { return m_history; }
    const std::vector<double>& reference() const { return m_reference; }
    // The reference point in words: "val_loss 0.92, val_accuracy 0.41".
    QString referenceText() const;

protected:
    void render(QPainter& painter) override;

private:
    std::vector<HypervolumeAt> m_history;
    std::vector<double> m_reference;
};

// Horizontal bars of parameterImportance(), most important on top.
class ImportancePlot : public StudyPlot {
    Q_OBJECT

public:
    using StudyPlot::StudyPlot;

protected:
    void render(QPainter& painter) override;
    bool selectsByRubberBand() const override { return false; }

private:
    std::vector<ParameterImportance> m_importance;
};

// Two parameters: each complete trial as a dot coloured by value over a heat map interpolated from
// the trials by inverse-distance weighting, a contour-like view of where good values lie. With no
// Y parameter: a slice plot of the value against one parameter. Categorical axes place each choice
// in its own column, jittered so that trials with the same choice stay apart.
class ContourPlot : public MarkerPlot {
    Q_OBJECT

public:
    static constexpr int kGridColumns = 48;
    static constexpr int kGridRows = 36;

    using MarkerPlot::MarkerPlot;
    // `yPath` empty: a slice plot of the objective against `xPath`.
    void setParameters(const std::string& xPath, const std::string& yPath);
    const std::string& xParameter() const { return m_xPath; }
    const std::string& yParameter() const { return m_yPath; }
    const PlotAxis& xAxis() const { return m_xAxis; }
    const PlotAxis& yAxis() const { return m_yAxis; }
    // Dots drawn in the last picture.
    int drawnTrialCount() const { return static_cast<int>(m_markers.size()); }

protected:
    void render(QPainter& painter) override;

private:
    std::string m_xPath;
    std::string m_yPath;
    PlotAxis m_xAxis;
    PlotAxis m_yAxis;
};

} // namespace tunelab
