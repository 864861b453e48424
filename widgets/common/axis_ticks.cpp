#include "common/axis_ticks.h"

#include <algorithm>
#include <cmath>

namespace tunelab {

double niceTickStep(double span, int maxIntervals, bool integer) {
    if (!(span > 0.0) || !std::isfinite(span))
        return 0.0;
    const double raw = span / std::max(1, maxIntervals);
    if (integer && raw <= 1.0)
        return 1.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    // A relative tolerance keeps a raw step of exactly 2 (or 0.2) from rounding up to 5.
    for (double factor : {1.0, 2.0, 5.0}) {
        if (factor * magnitude >= raw * (1.0 - 1e-9))
            return factor * magnitude;
    }
    return 10.0 * magnitude;
}

std::vector<double> niceTicks(double min, double max, int maxIntervals, bool integer) {
    std::vector<double> ticks;
    const double step = niceTickStep(max - min, maxIntervals, integer);
    if (step <= 0.0)
        return ticks;
    // Multiples of the step counted, not summed, so that no rounding error builds up.
    const double tolerance = step * 1e-9;
    const double first = std::ceil((min - tolerance) / step);
    const double last = std::floor((max + tolerance) / step);
    for (double i = first; i <= last; i += 1.0)
        ticks.push_back(i == 0.0 ? 0.0 : i * step);
    return ticks;
}

NiceRange niceRange(double min, double max, int maxIntervals, bool integer) {
    if (!std::isfinite(min) || !std::isfinite(max))
        return {};
    if (max < min)
        std::swap(min, max);
    if (max == min) {
        min -= 0.5;
        max += 0.5;
    }
    NiceRange range;
    range.step = niceTickStep(max - min, maxIntervals, integer);
    const double tolerance = range.step * 1e-9;
    const double first = std::floor((min + tolerance) / range.step);
    const double last = std::ceil((max - tolerance) / range.step);
    range.min = first == 0.0 ? 0.0 : first * range.step;
    range.max = last == 0.0 ? 0.0 : last * range.step;
    range.ticks = static_cast<int>(last - first) + 1;
    return range;
}

} // namespace tunelab
