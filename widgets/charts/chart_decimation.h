#pragma once

#include <QList>
#include <QPointF>
#include <QVector>
#include <QtGlobal>

#include <cstddef>
#include <vector>

namespace tunelab {

// The data side of LossChartView: how a curve's points are kept and decimated for drawing. Plain
// C++ and Qt Core value types only, no Qt Charts, so a later switch of the plotting library keeps it.

// Decimation columns per line, at least.
constexpr int kMinDecimationColumns = 64;

// The columns each line is decimated to (at most two points a column): one per pixel column of the
// plot while `lines` lines fit in pointBudget points together, fewer but at least
// kMinDecimationColumns (or plotColumns, if fewer) beyond it.
int budgetedColumns(int pointBudget, int lines, int plotColumns);

// The bounds of a set of y values; yMin > yMax while it is empty. yMinPositive is the lowest y above
// 0, or 0 while there is none (for a log axis).
struct YBounds {
    double yMin = 0.0;
    double yMax = -1.0;
    double yMinPositive = 0.0;

    bool isEmpty() const { return yMin > yMax; }
    void add(double y);
    void merge(const YBounds& other);
};

// The lowest and the highest point of each block of kBlockSize points, so that decimating a long
// curve reads a block's extremes instead of its points.
struct BlockExtremes {
    static constexpr size_t kBlockSize = 32;
    std::vector<quint32> low;
    std::vector<quint32> high;
};

// Summarises the blocks of kBlockSize points that are complete since the last call.
void extendBlocks(BlockExtremes& blocks, const double* ys, size_t size);

struct Decimated {
    QList<QPointF> points;
    // Bounds of the emitted points inside [xMin, xMax].
    YBounds bounds;
};

// Decimates a curve to at most two points per pixel column of [xMin, xMax]: the lowest and the
// highest point of each column, in the order they occur. A loss spike or dip narrower than a pixel
// stays visible, which averaging or striding would hide. Where x never decreases (sorted) only the
// visible range is scanned, plus one neighbour on each side so the line runs on to the plot's edges;
// a narrow range therefore shows every point. Otherwise all points are clamped into the columns.
// positiveOnly leaves out y <= 0 (log scale). blocks summarises ys.
Decimated decimateMinMax(const std::vector<double>& xs, const double* ys, const BlockExtremes& blocks,
                         bool sorted, double xMin, double xMax, int columns, bool positiveOnly);

// Every point of one line as arrays of the raw data (16 bytes a point, 8 more while smoothing is
// on), with what decimation needs to stay fast on long curves.
struct SeriesPoints {
    std::vector<double> x;
    std::vector<double> y;
    std::vector<double> smoothed; // valid up to smoothedCount while smoothing is on
    size_t smoothedCount = 0;
    BlockExtremes rawBlocks;
    BlockExtremes smoothedBlocks;
    bool sorted = true; // x never decreases, so the visible range is found by bisection
    // Bounds of all points.
    double xMin = 0.0;
    double xMax = -1.0;

    bool empty() const { return x.empty(); }
    size_t size() const { return x.size(); }

    // Appends the finite points; returns whether there were any.
    bool append(const QVector<QPointF>& points);
    // Drops every point and releases the memory.
    void clear();
    // Forgets the moving average (the smoothing amount changed); release frees its memory too.
    void resetSmoothing(bool release);
    // The index of the point whose x is nearest to x; the data must not be empty.
    size_t nearestIndex(double x) const;
    // Decimates the visible range [xMin, xMax] to `columns` columns into bold (the exponential
    // moving average with this smoothing amount, 0 for the raw data) and, while smoothing, faint
    // (the raw data); faint is left as it is while smoothing is off. Returns the bounds of both.
    YBounds decimate(double smoothing, double xMin, double xMax, int columns, bool positiveOnly,
                     QList<QPointF>& bold, QList<QPointF>& faint);
};

} // namespace tunelab
