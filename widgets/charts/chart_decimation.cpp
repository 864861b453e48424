#include "charts/chart_decimation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr size_t kBlockSize = BlockExtremes::kBlockSize;

// Finds the lowest and the highest y in [begin, end) (above floor), using the block extremes for
// the blocks that lie wholly inside. low and high stay at `none` where no y is above floor.
void scanExtremes(const double* ys, const BlockExtremes& blocks, size_t begin, size_t end, double floor,
                  size_t none, size_t& low, size_t& high) {
    low = high = none;
    double lowY = std::numeric_limits<double>::infinity();
    double highY = -lowY;
    auto scan = [&](size_t from, size_t to) {
        for (size_t k = from; k < to; ++k) {
            const double y = ys[k];
            if (y <= floor)
                continue;
            if (y < lowY) {
                lowY = y;
                low = k;
            }
            if (y > highY) {
                highY = y;
                high = k;
            }
        }
    };
    const size_t firstBlock = (begin + kBlockSize - 1) / kBlockSize;
    const size_t lastBlock = std::min(end / kBlockSize, blocks.low.size());
    if (firstBlock >= lastBlock) {
        scan(begin, end);
        return;
    }
    scan(begin, firstBlock * kBlockSize);
    for (size_t b = firstBlock; b < lastBlock; ++b) {
        const size_t l = blocks.low[b];
        const size_t h = blocks.high[b];
        if (ys[l] <= floor) { // only the log scale's floor cuts into a block
            scan(b * kBlockSize, (b + 1) * kBlockSize);
            continue;
        }
        // Earlier indices win ties, as in scan().
        if (ys[l] < lowY) {
            lowY = ys[l];
            low = l;
        }
        if (ys[h] > highY) {
            highY = ys[h];
            high = h;
        }
    }
    scan(lastBlock * kBlockSize, end);
}

} // namespace

int budgetedColumns(int pointBudget, int lines, int plotColumns) {
    return std::clamp(pointBudget / (2 * std::max(lines, 1)), std::min(kMinDecimationColumns, plotColumns),
                      plotColumns);
}

void YBounds::add(double y) {
    if (yMin > yMax) {
        yMin = yMax = y;
    } else {
        yMin = std::min(yMin, y);
        yMax = std::max(yMax, y);
    }
    if (y > 0.0 && (yMinPositive <= 0.0 || y < yMinPositive))
        yMinPositive = y;
}

void YBounds::merge(const YBounds& other) {
    if (other.isEmpty())
        return;
    const bool any = !isEmpty();
    yMin = any ? std::min(yMin, other.yMin) : other.yMin;
    yMax = any ? std::max(yMax, other.yMax) : other.yMax;
    if (other.yMinPositive > 0.0 && (yMinPositive <= 0.0 || other.yMinPositive < yMinPositive))
        yMinPositive = other.yMinPositive;
}

void extendBlocks(BlockExtremes& blocks, const double* ys, size_t size) {
    for (size_t b = blocks.low.size(); (b + 1) * kBlockSize <= size; ++b) {
        size_t low = b * kBlockSize;
        size_t high = low;
        for (size_t k = low + 1; k < (b + 1) * kBlockSize; ++k) {
            if (ys[k] < ys[low])
                low = k;
            if (ys[k] > ys[high])
                high = k;
        }
        blocks.low.push_back(static_cast<quint32>(low));
        blocks.high.push_back(static_cast<quint32>(high));
    }
}

Decimated decimateMinMax(const std::vector<double>& xs, const double* ys, const BlockExtremes& blocks,
                         bool sorted, double xMin, double xMax, int columns, bool positiveOnly) {
    Decimated out;
    const size_t size = xs.size();
    if (size == 0 || columns <= 0)
        return out;
    size_t begin = 0;
    size_t end = size;
    if (sorted) {
        begin = static_cast<size_t>(std::lower_bound(xs.begin(), xs.end(), xMin) - xs.begin());
        end = static_cast<size_t>(std::upper_bound(xs.begin() + begin, xs.end(), xMax) - xs.begin());
    }
    const double span = xMax - xMin;
    const double perX = span > 0.0 ? columns / span : 0.0;
    out.points.reserve(std::min<qsizetype>(qsizetype(end - begin), 2 * qsizetype(columns)) + 4);

    auto keep = [&](size_t i) { return !positiveOnly || ys[i] > 0.0; };
    auto note = [&](double y) { out.bounds.add(y); };
    if (sorted && begin > 0 && keep(begin - 1))
        out.points.append(QPointF(xs[begin - 1], ys[begin - 1]));

    if (sorted && perX > 0.0) {
        // x never decreases: each column is a contiguous run of points, found by bisection, and its
        // extremes come from a tight loop over y.
        const double* x = xs.data();
        const double floor = positiveOnly ? 0.0 : -std::numeric_limits<double>::infinity();
        size_t i = begin;
        int c = 0;
        while (i < end) {
            c = std::max(c, std::min(static_cast<int>((x[i] - xMin) * perX), columns - 1));
            const size_t j =
                c + 1 >= columns
                    ? end
                    : static_cast<size_t>(std::lower_bound(x + i, x + end, xMin + (c + 1) / perX) - x);
            if (j == i) { // rounding put x[i] one column early
                ++c;
                continue;
            }
            size_t low = end;
            size_t high = end;
            scanExtremes(ys, blocks, i, j, floor, end, low, high);
            if (low != end) {
                const size_t first = std::min(low, high);
                const size_t second = std::max(low, high);
                out.points.append(QPointF(x[first], ys[first]));
                if (second != first)
                    out.points.append(QPointF(x[second], ys[second]));
                note(ys[low]);
                note(ys[high]);
            }
            i = j;
            ++c;
        }
        if (end < size && keep(end))
            out.points.append(QPointF(xs[end], ys[end]));
        return out;
    }

    int column = -1;
    size_t low = 0;
    size_t high = 0;
    bool open = false;
    auto emitColumn = [&] {
        if (!open)
            return;
        const size_t first = std::min(low, high);
        const size_t second = std::max(low, high);
        out.points.append(QPointF(xs[first], ys[first]));
        if (second != first)
            out.points.append(QPointF(xs[second], ys[second]));
        if (sorted || (xs[low] >= xMin && xs[low] <= xMax))
            note(ys[low]);
        if (sorted || (xs[high] >= xMin && xs[high] <= xMax))
            note(ys[high]);
    };
    for (size_t i = begin; i < end; ++i) {
        if (!keep(i))
            continue;
        const double y = ys[i];
        const int c = std::clamp(static_cast<int>((xs[i] - xMin) * perX), 0, columns - 1);
        if (c != column || !open) {
            emitColumn();
            column = c;
            low = high = i;
            open = true;
            continue;
        }
        if (y < ys[low])
            low = i;
        if (y > ys[high])
            high = i;
    }
    emitColumn();
    if (sorted && end < size && keep(end))
        out.points.append(QPointF(xs[end], ys[end]));
    return out;
}

bool SeriesPoints::append(const QVector<QPointF>& points) {
    // Grows geometrically: reserving the exact size on every call would copy the whole curve
    // on every append of a live run.
    const size_t needed = x.size() + static_cast<size_t>(points.size());
    if (x.capacity() < needed) {
        x.reserve(std::max(needed, 2 * x.capacity()));
        y.reserve(std::max(needed, 2 * y.capacity()));
    }
    bool added = false;
    for (const QPointF& point : points) {
        if (!std::isfinite(point.x()) || !std::isfinite(point.y()))
            continue;
        if (x.empty()) {
            xMin = xMax = point.x();
        } else {
            if (point.x() < x.back())
                sorted = false;
            xMin = std::min(xMin, point.x());
            xMax = std::max(xMax, point.x());
        }
        x.push_back(point.x());
        y.push_back(point.y());
        added = true;
    }
    return added;
}

void SeriesPoints::clear() {
    std::vector<double>().swap(x);
    std::vector<double>().swap(y);
    std::vector<double>().swap(smoothed);
    rawBlocks = {};
    smoothedBlocks = {};
    smoothedCount = 0;
    sorted = true;
    xMin = 0.0;
    xMax = -1.0;
}

void SeriesPoints::resetSmoothing(bool release) {
    smoothedCount = 0;
    smoothedBlocks = {};
    if (release)
        std::vector<double>().swap(smoothed);
}

size_t SeriesPoints::nearestIndex(double at) const {
    size_t nearest = 0;
    if (sorted) {
        const size_t after = static_cast<size_t>(std::lower_bound(x.begin(), x.end(), at) - x.begin());
        nearest = std::min(after, x.size() - 1);
        if (after > 0 && (after == x.size() || at - x[after - 1] <= x[after] - at))
            nearest = after - 1;
    } else {
        for (size_t i = 1; i < x.size(); ++i) {
            if (std::abs(x[i] - at) < std::abs(x[nearest] - at))
                nearest = i;
        }
    }
    return nearest;
}

YBounds SeriesPoints::decimate(double smoothing, double visibleXMin, double visibleXMax, int columns,
                               bool positiveOnly, QList<QPointF>& boldPoints, QList<QPointF>& faintPoints) {
    const bool smooth = smoothing > 0.0;
    if (smooth && smoothedCount < y.size()) {
        // Extends the moving average over the points that arrived since the last frame:
        // s[0] = y[0], s[i] = a * s[i-1] + (1 - a) * y[i].
        smoothed.resize(y.size());
        const double a = smoothing;
        double s = smoothedCount > 0 ? smoothed[smoothedCount - 1] : y[0];
        for (size_t i = smoothedCount; i < y.size(); ++i) {
            s = i == 0 ? y[0] : a * s + (1.0 - a) * y[i];
            smoothed[i] = s;
        }
        smoothedCount = y.size();
    }
    extendBlocks(rawBlocks, y.data(), y.size());
    if (smooth)
        extendBlocks(smoothedBlocks, smoothed.data(), smoothedCount);
    Decimated bold = smooth ? decimateMinMax(x, smoothed.data(), smoothedBlocks, sorted, visibleXMin,
                                             visibleXMax, columns, positiveOnly)
                            : decimateMinMax(x, y.data(), rawBlocks, sorted, visibleXMin, visibleXMax,
                                             columns, positiveOnly);
    YBounds bounds = bold.bounds;
    boldPoints = std::move(bold.points);
    if (!smooth)
        return bounds;
    Decimated faint =
        decimateMinMax(x, y.data(), rawBlocks, sorted, visibleXMin, visibleXMax, columns, positiveOnly);
    bounds.merge(faint.bounds);
    faintPoints = std::move(faint.points);
    return bounds;
}

} // namespace tunelab
