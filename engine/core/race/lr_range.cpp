#include "race/lr_range.h"

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

// The slope of the smoothed loss per unit of log learning rate at point i, over a window of
// neighbours on each side (the smoothed curve still wiggles from step to step).
double slopeAt(const std::vector<LrRangePoint>& points, size_t i, size_t last, size_t window) {
    const size_t from = i >= window ? i - window : 0;
    const size_t to = std::min(last, i + window);
    if (to <= from)
        return kNoValue;
    const double run = std::log(points[to].learningRate) - std::log(points[from].learningRate);
    if (!(run > 0.0))
        return kNoValue;
    return (points[to].smoothedLoss - points[from].smoothedLoss) / run;
}

} // namespace

double suggestLearningRate(const std::vector<LrRangePoint>& points) {
    if (points.size() < 3)
        return kNoValue;
    // Only the part before the minimum counts: past it the loss rises towards the blow-up.
    size_t minimum = 0;
    for (size_t i = 1; i < points.size(); ++i)
        if (points[i].smoothedLoss < points[minimum].smoothedLoss)
            minimum = i;
    if (minimum < 2)
        return kNoValue;
    const size_t window = std::max<size_t>(1, points.size() / 40);
    double steepest = 0.0;
    double suggestion = kNoValue;
    for (size_t i = 0; i < minimum; ++i) {
        const double slope = slopeAt(points, i, minimum, window);
        if (std::isfinite(slope) && slope < steepest) {
            steepest = slope;
            suggestion = points[i].learningRate;
        }
    }
    return suggestion;
}

} // namespace tunelab
