// Sampler quality on standard test functions, in process: Branin (2-D), Hartmann-6 and Rosenbrock-4
// (log1p of the value), each minimised by every sampler for a number of trials over several seeds.
// Prints the median over seeds of the best value found, and for GP on Branin the median number of
// trials needed to come within 0.01 of the minimum.
// Usage: bench_sampler_quality [trials=60] [seeds=10] [sampler=all]
#include "search/samplers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace tunelab;

namespace {

struct TestFunction {
    std::string name;
    std::vector<std::pair<double, double>> bounds;
    std::function<double(const std::vector<double>&)> value;
    double minimum;
};

double branin(const std::vector<double>& x) {
    const double a = x[1] - 5.1 / (4.0 * M_PI * M_PI) * x[0] * x[0] + 5.0 / M_PI * x[0] - 6.0;
    return a * a + 10.0 * (1.0 - 1.0 / (8.0 * M_PI)) * std::cos(x[0]) + 10.0;
}

double hartmann6(const std::vector<double>& x) {
    static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double p[4][6] = {{.1312, .1696, .5569, .0124, .8283, .5886},
                                   {.2329, .4135, .8307, .3736, .1004, .9991},
                                   {.2348, .1451, .3522, .2883, .3047, .6650},
                                   {.4047, .8828, .8732, .5743, .1091, .0381}};
    static const double c[4] = {1.0, 1.2, 3.0, 3.2};
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        double inner = 0.0;
        for (int j = 0; j < 6; ++j)
            inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
        sum -= c[i] * std::exp(-inner);
    }
    return sum;
}

double rosenbrock4(const std::vector<double>& x) {
    double sum = 0.0;
    for (int i = 0; i < 3; ++i)
        sum += 100.0 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1.0 - x[i]) * (1.0 - x[i]);
    return std::log1p(sum);
}

SearchSpace floatSpace(const TestFunction& function) {
    std::string json = R"({"parameters": [)";
    for (size_t i = 0; i < function.bounds.size(); ++i) {
        char item[160];
        std::snprintf(item, sizeof item,
                      R"(%s{"path": "x%zu", "kind": "float", "low": %.17g, "high": %.17g})",
                      i == 0 ? "" : ", ", i, function.bounds[i].first, function.bounds[i].second);
        json += item;
    }
    json += "]}";
    auto parsed = parseSearchSpace(json);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        std::exit(1);
    }
    return parsed.take();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

int main(int argc, char** argv) {
    const int trials = argc > 1 ? std::atoi(argv[1]) : 60;
    const int seeds = argc > 2 ? std::atoi(argv[2]) : 10;
    const std::vector<TestFunction> functions = {
        {"branin", {{-5, 10}, {0, 15}}, branin, 0.397887},
        {"hartmann6", std::vector<std::pair<double, double>>(6, {0.0, 1.0}), hartmann6, -3.32237},
        {"rosenbrock4", std::vector<std::pair<double, double>>(4, {-2.0, 2.0}), rosenbrock4, 0.0},
    };
    std::vector<std::string> samplers = {"random", "sobol", "tpe-independent", "tpe", "gp"};
    if (argc > 3)
        samplers = {argv[3]};
    std::printf("%d trials, seeds 0..%d, median over seeds of the best value\n", trials, seeds - 1);
    std::printf("%-12s %-16s %12s %12s %10s\n", "function", "sampler", "median best", "mean best", "seconds");
    for (const auto& function : functions) {
        const SearchSpace space = floatSpace(function);
        for (const auto& name : samplers) {
            std::vector<double> bests, hits;
            const auto started = std::chrono::steady_clock::now();
            for (int seed = 0; seed < seeds; ++seed) {
                SamplerSettings settings;
                settings.type = name;
                settings.seed = static_cast<uint64_t>(seed);
                auto made = makeSampler(settings, space);
                if (!made.ok()) {
                    std::fprintf(stderr, "%s\n", made.error().c_str());
                    return 1;
                }
                auto sampler = made.take();
                std::vector<FinishedTrial> history;
                double best = INFINITY;
                double hit = trials + 1;
                for (int trial = 0; trial < trials; ++trial) {
                    auto assignment = sampler->suggest(space, trial, history);
                    std::vector<double> x;
                    for (size_t i = 0; i < function.bounds.size(); ++i)
                        x.push_back(assignment->at("x" + std::to_string(i)).toDouble());
                    const double value = function.value(x);
                    history.push_back({trial, *assignment, value, TrialState::Complete});
                    best = std::min(best, value);
                    if (hit > trials && best <= function.minimum + 0.01)
                        hit = trial + 1;
                }
                bests.push_back(best);
                hits.push_back(hit);
            }
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            double mean = 0.0;
            for (double b : bests)
                mean += b / static_cast<double>(bests.size());
            std::printf("%-12s %-16s %12.6f %12.6f %10.2f", function.name.c_str(), name.c_str(),
                        median(bests), mean, seconds);
            if (function.name == "branin") {
                // Seeds that never got there count as trials + 1.
                const double hit = median(hits);
                if (hit > trials)
                    std::printf("   median trials to within 0.01: >%d", trials);
                else
                    std::printf("   median trials to within 0.01: %g", hit);
            }
            std::printf("\n");
            std::fflush(stdout);
        }
    }
    return 0;
}
