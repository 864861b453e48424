#pragma once

// The test functions of the sampler benchmarks (bench_sampler_quality): four sets, each a list of
// functions with their search spaces and minima. bench_sampler_suite.py writes the same definitions in
// Python for the Optuna side; `bench_sampler_quality check` and the bench_sampler_definitions test
// compare the two.

#include "search/samplers.h"
#include "search/search_space.h"

#include <functional>
#include <string>
#include <vector>

namespace sampler_bench {

// `value` is noiseless; a noisy function adds noiseSd times a standard normal draw per trial.
struct TestFunction {
    std::string name;
    tunelab::SearchSpace space;
    std::function<double(const tunelab::Assignment&)> value;
    double minimum;
    double noiseSd = 0.0;
};

// Branin, Hartmann-6, Rosenbrock-4, a conditional optimizer space, Ackley-5 and Levy-4: the set whose
// numbers are reported.
std::vector<TestFunction> reportedFunctions();
// The development sets ("dev" and "dev8"): the only functions a sampler's constants may be chosen on.
std::vector<TestFunction> devFunctions();
std::vector<TestFunction> highDevFunctions();
// Never used to choose a constant.
std::vector<TestFunction> heldoutFunctions();

} // namespace sampler_bench
