#include "compress/inference_latency.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace tunelab::detail {

double medianMilliseconds(const std::function<void()>& forward, int repeats) {
    repeats = std::max(repeats, 1);
    for (int i = 0; i < std::max(5, repeats / 10); ++i)
        forward();
    std::vector<double> times(static_cast<size_t>(repeats));
    for (double& time : times) {
        const auto start = std::chrono::steady_clock::now();
        forward();
        time = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    const auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    return *middle;
}

} // namespace tunelab::detail
