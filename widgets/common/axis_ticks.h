#pragma once

#include <vector>

namespace tunelab {

// Round axis ticks, one rule for every chart and plot: the step is the smallest of 1, 2 or 5 times a
// power of ten that splits the span into at most `maxIntervals` intervals. An integer axis (trial
// numbers, epochs, steps) never steps below 1, so its ticks are whole numbers only.

// The tick step; 0 for an empty, reversed or non-finite span.
double niceTickStep(double span, int maxIntervals, bool integer = false);

// The ticks inside [min, max] (the ends included), multiples of niceTickStep(); exactly 0 where the
// axis crosses zero. Empty for an empty, reversed or non-finite range.
std::vector<double> niceTicks(double min, double max, int maxIntervals, bool integer = false);

// [min, max] widened out to the nearest ticks: a range whose ends are ticks, for an axis that
// draws evenly spaced ticks from end to end. An empty range first grows to a width of 1.
struct NiceRange {
    double min = 0.0;
    double max = 1.0;
    double step = 0.0;
    int ticks = 0; // tick count, the ends included
};
NiceRange niceRange(double min, double max, int maxIntervals, bool integer = false);

} // namespace tunelab
