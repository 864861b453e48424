#pragma once

// Helpers shared by the model-based samplers (TPE, GP and random forest); private to
// engine/core/search/*_sampler.cpp.

#include "search/samplers.h"
#include "search/search_space.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace tunelab::sampler_support {

// A small deterministic generator: std distributions differ between standard libraries.
class Rng {
public:
    explicit Rng(uint64_t seed)
        : m_state(seed) {}
    uint64_t next() { return mixBits(m_state++); }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double normal() {
        const double u1 = std::max(uniform(), 1e-300);
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    size_t index(size_t count) { return std::min(count - 1, static_cast<size_t>(uniform() * count)); }

private:
    uint64_t m_state;
};

// The standard normal distribution's cumulative probability.
inline double normalCdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Whether a parameter is sampled as one of a list (categorical, fixed, explicit values).
bool isChoice(const SearchParameter& parameter);
// Cells of a numeric parameter on a grid (ints, steps); 0 for a continuous or log-int one.
int64_t gridCells(const SearchParameter& parameter);
// The inverse of valueAtUnit for a numeric parameter: the unit coordinate (cell centre on a grid).
double unitOf(const SearchParameter& parameter, double value);
// Moves u onto the point that valueAtUnit would turn into the same value, so that models are
// evaluated where the suggestion will actually be.
double snapUnit(const SearchParameter& parameter, double u);
// A canonical JSON number read directly: ParamValue::toDouble goes through a full JSON parser,
// which dominates a suggestion over a long history.
bool readNumber(const ParamValue& value, double& number);
// The index of `value` among a choice parameter's values (numbers compared by value); -1 if none.
int choiceOf(const SearchParameter& parameter, const ParamValue& value);
// log(phi(z) + z Phi(z)), the log of the standardised expected improvement, stable for very negative z.
double logExpectedImprovementFactor(double z);

} // namespace tunelab::sampler_support
