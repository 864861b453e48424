// Sampler quality on standard test functions, in process: Branin (2-D), Hartmann-6 and Rosenbrock-4
// (log1p of the value), each minimised by every sampler for a number of trials over several seeds;
// a conditional space (an optimizer type, each type with its own learning rate, SGD also a momentum);
// and two functions held out from any choice of the samplers' constants, Ackley-5 and Levy-4.
// Prints the median over seeds of the best value found, and for Branin the median number of trials
// needed to come within 0.01 of the minimum.
// A second set of functions, chosen with function "dev" (or "dev:<name>" for one of them): Six-hump
// camel, Goldstein-Price (log), Hartmann-3, Styblinski-Tang-3, Rastrigin-3, Griewank-4, Schwefel-4,
// Michalewicz-5 and a shifted sphere-6 with a categorical parameter that does not matter.
// A fourth development set, "dev8" (or "dev8:<name>"), in 8-10 dimensions: Styblinski-Tang-8, Levy-8,
// Ackley-8, Michalewicz-10, Schwefel-8, Griewank-8 and Alpine-8.
// A third set, chosen with function "heldout" (or "heldout:<name>"), of kinds the others lack:
// ill-conditioned, 8-10 dimensions, noisy, integer and mixed spaces; never used to choose a constant.
// On a noisy function the sampler sees the noisy value, and a seed's best is the noiseless value of
// the trial with the best noisy value: what a user would pick.
// Usage: bench_sampler_quality [trials=60] [seeds=10] [sampler=all] [function=all|dev|dev:<name>|
//                              dev8|dev8:<name>|heldout|heldout:<name>] [workers=1]
// With workers > 1 the trials run on that many simulated workers: each trial lasts 1 to 1.5 time units
// (fixed per seed and trial) and is suggested when a worker frees, seeing the results so far and the
// trials still running, as in a study shared by that many workers.
//        bench_sampler_quality check   prints every function at 3 fixed points and a few noise draws,
//                                      one JSON line each, for bench_sampler_suite.py --check
// With TUNELAB_BENCH_JSON set, each result line is followed by one JSON line with every seed's best:
// {"function": "branin", "sampler": "tpe", "bests": [...]}.
#include "sampler_test_functions.h"
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
using namespace sampler_bench;

namespace {

uint64_t splitMix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A standard normal draw for trial `trial` of seed `seed` (Box-Muller on two splitmix64 outputs),
// apart from any sampler's stream and computed the same way by bench_sampler_suite.py, so both tools
// see the same noise.
double noiseAt(uint64_t seed, int64_t trial) {
    const uint64_t key = splitMix64(splitMix64(seed ^ 0x6E6F697365ull) ^ static_cast<uint64_t>(trial));
    const double u1 = (static_cast<double>(splitMix64(key) >> 11) + 0.5) * 0x1p-53;
    const double u2 = (static_cast<double>(splitMix64(key + 1) >> 11) + 0.5) * 0x1p-53;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// Point k (0..2) of a space: parameter p at the fraction frac(0.11 + 0.29 k + 0.173 p) of its range
// (in log space for log parameters, rounded for integers), choice (k + p) mod n; only the
// parameters that apply.
Assignment checkPoint(const SearchSpace& space, int k) {
    Assignment a;
    const auto& parameters = space.parameters();
    for (size_t p = 0; p < parameters.size(); ++p) {
        const SearchParameter& parameter = parameters[p];
        if (!space.isActive(parameter, a))
            continue;
        if (parameter.kind == ParamKind::Categorical) {
            a[parameter.path] = parameter.values[(static_cast<size_t>(k) + p) % parameter.values.size()];
            continue;
        }
        const double u = std::fmod(0.11 + 0.29 * k + 0.173 * static_cast<double>(p), 1.0);
        double v = parameter.low + u * (parameter.high - parameter.low);
        if (parameter.log)
            v = std::exp(std::log(parameter.low) + u * (std::log(parameter.high) - std::log(parameter.low)));
        char text[64];
        if (parameter.kind == ParamKind::Int)
            std::snprintf(text, sizeof text, "%lld", static_cast<long long>(std::llround(v)));
        else
            std::snprintf(text, sizeof text, "%.17g", v);
        a[parameter.path] = ParamValue{text};
    }
    return a;
}

// One JSON line per function and point, {"function", "params", "value"} with the noiseless value,
// then a few noise draws {"seed", "trial", "noise"}.
void printCheck() {
    std::vector<TestFunction> functions = reportedFunctions();
    for (auto* set : {devFunctions, highDevFunctions, heldoutFunctions})
        for (auto& function : set())
            functions.push_back(std::move(function));
    for (const auto& function : functions) {
        for (int k = 0; k < 3; ++k) {
            const Assignment a = checkPoint(function.space, k);
            std::printf(R"({"function": "%s", "params": {)", function.name.c_str());
            bool first = true;
            for (const auto& [path, value] : a) {
                std::printf(R"(%s"%s": %s)", first ? "" : ", ", path.c_str(), value.json.c_str());
                first = false;
            }
            std::printf(R"(}, "value": %.17g})"
                        "\n",
                        function.value(a));
        }
    }
    for (uint64_t seed : {0ull, 3ull, 9ull})
        for (int64_t trial : {0, 1, 59})
            std::printf(R"({"seed": %llu, "trial": %lld, "noise": %.17g})"
                        "\n",
                        static_cast<unsigned long long>(seed), static_cast<long long>(trial),
                        noiseAt(seed, trial));
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "check") {
        printCheck();
        return 0;
    }
    const int trials = argc > 1 ? std::atoi(argv[1]) : 60;
    const int seeds = argc > 2 ? std::atoi(argv[2]) : 10;
    const std::string chosen = argc > 4 ? argv[4] : "all";
    std::vector<TestFunction> functions = reportedFunctions();
    std::string only = chosen;
    for (const auto& [set, make] :
         {std::pair{std::string("dev"), devFunctions}, std::pair{std::string("dev8"), highDevFunctions},
          std::pair{std::string("heldout"), heldoutFunctions}}) {
        if (chosen == set || chosen.rfind(set + ":", 0) == 0) {
            functions = make();
            only = chosen == set ? "all" : chosen.substr(set.size() + 1);
        }
    }
    std::vector<std::string> samplers = {"random", "sobol", "tpe-independent", "tpe", "gp", "rf"};
    if (argc > 3 && std::string(argv[3]) != "all")
        samplers = {argv[3]};
    const bool json = std::getenv("TUNELAB_BENCH_JSON") != nullptr;
    const int workers = argc > 5 ? std::max(1, std::atoi(argv[5])) : 1;
    if (only != "all") {
        functions.erase(std::remove_if(functions.begin(), functions.end(),
                                       [&](const TestFunction& f) { return f.name != only; }),
                        functions.end());
    }
    std::printf("%d trials, seeds 0..%d, median over seeds of the best value\n", trials, seeds - 1);
    std::printf("%-12s %-16s %12s %12s %10s\n", "function", "sampler", "median best", "mean best", "seconds");
    for (const auto& function : functions) {
        const SearchSpace& space = function.space;
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
                // The sampler sees `observed` (with noise); the seed's best is the noiseless value of
                // the trial with the lowest observed value.
                double best = INFINITY, bestObserved = INFINITY;
                double hit = trials + 1;
                // With `workers` > 1, trial durations of 1 to 1.5 time units (fixed per seed and
                // trial): each trial is suggested when a worker frees, seeing the results so far and
                // the trials still running.
                std::vector<std::pair<double, int>> running; // (end time, index in history)
                double now = 0.0;
                auto finish = [&](size_t index) {
                    FinishedTrial& done = history[index];
                    const double value = function.value(done.assignment);
                    double observed = value;
                    if (function.noiseSd > 0.0)
                        observed += function.noiseSd * noiseAt(static_cast<uint64_t>(seed), done.number);
                    done.value = observed;
                    done.state = TrialState::Complete;
                    if (observed < bestObserved) {
                        bestObserved = observed;
                        best = value;
                    }
                };
                for (int trial = 0; trial < trials; ++trial) {
                    if (static_cast<int>(running.size()) >= workers) {
                        const auto first = std::min_element(running.begin(), running.end());
                        now = first->first;
                        finish(static_cast<size_t>(first->second));
                        running.erase(first);
                    }
                    auto assignment = sampler->suggest(space, trial, history);
                    history.push_back({trial, *assignment, 0.0, TrialState::Running});
                    const double duration =
                        1.0 + 0.5 *
                                  static_cast<double>(splitMix64(static_cast<uint64_t>(seed) * 1000003u +
                                                                 static_cast<uint64_t>(trial)) >>
                                                      11) *
                                  0x1.0p-53;
                    running.push_back({now + duration, trial});
                    if (workers <= 1) {
                        finish(history.size() - 1);
                        running.clear();
                    }
                    if (hit > trials && best <= function.minimum + 0.01)
                        hit = trial + 1;
                }
                for (const auto& [end, index] : running)
                    finish(static_cast<size_t>(index));
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
            if (json) {
                std::printf(R"({"function": "%s", "sampler": "%s", "bests": [)", function.name.c_str(),
                            name.c_str());
                for (size_t i = 0; i < bests.size(); ++i)
                    std::printf("%s%.17g", i == 0 ? "" : ", ", bests[i]);
                std::printf("]}\n");
            }
            std::fflush(stdout);
        }
    }
    return 0;
}
