#include "search/sampler_support.h"

#include <charconv>
#include <string>

namespace tunelab::sampler_support {

namespace {

constexpr double kLogTwoPi = 1.83787706640934548356;

} // namespace

bool isChoice(const SearchParameter& parameter) {
    return parameter.kind == ParamKind::Categorical || parameter.kind == ParamKind::Fixed ||
           !parameter.values.empty();
}

// Cells of a numeric parameter on a grid (ints, steps); 0 for a continuous or log-int one.
int64_t gridCells(const SearchParameter& parameter) {
    if (parameter.log || !(parameter.step > 0.0))
        return 0;
    return static_cast<int64_t>(std::floor((parameter.high - parameter.low) / parameter.step + 1e-9)) + 1;
}

// The inverse of valueAtUnit for a numeric parameter: the unit coordinate (cell centre on a grid).
double unitOf(const SearchParameter& parameter, double value) {
    const double low = parameter.low, high = parameter.high;
    if (!(high > low))
        return 0.5;
    if (parameter.kind == ParamKind::Int && parameter.log) {
        const double lo = std::log(low - 0.5), hi = std::log(high + 0.5);
        return std::clamp((std::log(std::max(value, 1e-300)) - lo) / (hi - lo), 0.0, 1.0);
    }
    if (const int64_t cells = gridCells(parameter)) {
        const double k = std::clamp(std::round((value - low) / parameter.step), 0.0, double(cells - 1));
        return (k + 0.5) / static_cast<double>(cells);
    }
    if (parameter.log)
        return std::clamp(
            (std::log(std::max(value, 1e-300)) - std::log(low)) / (std::log(high) - std::log(low)), 0.0, 1.0);
    return std::clamp((value - low) / (high - low), 0.0, 1.0);
}

// Moves u onto the point that valueAtUnit would turn into the same value, so that the density is
// evaluated where the suggestion will actually be.
double snapUnit(const SearchParameter& parameter, double u) {
    u = std::clamp(u, 0.0, 1.0);
    if (parameter.kind == ParamKind::Int && parameter.log) {
        const double lo = std::log(parameter.low - 0.5), hi = std::log(parameter.high + 0.5);
        const double value = std::clamp(std::round(std::exp(lo + std::min(u, 1.0 - 1e-12) * (hi - lo))),
                                        parameter.low, parameter.high);
        return unitOf(parameter, value);
    }
    if (const int64_t cells = gridCells(parameter)) {
        const double k = std::min(static_cast<double>(cells - 1), std::floor(u * static_cast<double>(cells)));
        return (k + 0.5) / static_cast<double>(cells);
    }
    return u;
}

// A canonical JSON number read directly: ParamValue::toDouble goes through a full JSON parser,
// which dominates a suggestion over a long history.
bool readNumber(const ParamValue& value, double& number) {
    const std::string& text = value.json;
    if (text.empty() || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
        return false;
    // from_chars, unlike strtod, does not follow the C locale's decimal separator.
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, number);
    return error == std::errc() && stop == end && std::isfinite(number);
}

int choiceOf(const SearchParameter& parameter, const ParamValue& value) {
    for (size_t i = 0; i < parameter.values.size(); ++i) {
        if (parameter.values[i] == value)
            return static_cast<int>(i);
    }
    double number = 0.0, candidate = 0.0;
    if (readNumber(value, number)) { // the same number written another way
        for (size_t i = 0; i < parameter.values.size(); ++i) {
            if (readNumber(parameter.values[i], candidate) && candidate == number)
                return static_cast<int>(i);
        }
    }
    return -1;
}

double logExpectedImprovementFactor(double z) {
    if (z > -10.0) {
        const double phi = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
        const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
        return std::log(std::max(phi + z * cdf, 1e-300));
    }
    // phi(z) (1 - t R(t)) with t = -z and the asymptotic series of the Mills ratio R.
    const double t2 = z * z;
    const double series = (1.0 - 3.0 / t2 + 15.0 / (t2 * t2) - 105.0 / (t2 * t2 * t2)) / t2;
    return -0.5 * t2 - 0.5 * kLogTwoPi + std::log(series);
}

} // namespace tunelab::sampler_support
