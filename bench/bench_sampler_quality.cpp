// Sampler quality on standard test functions, in process: Branin (2-D), Hartmann-6 and Rosenbrock-4
// (log1p of the value), each minimised by every sampler for a number of trials over several seeds;
// a conditional space (an optimizer type, each type with its own learning rate, SGD also a momentum);
// and two functions held out from any choice of the samplers' constants, Ackley-5 and Levy-4.
// Prints the median over seeds of the best value found, and for Branin the median number of trials
// needed to come within 0.01 of the minimum.
// A second set of functions, chosen with function "dev" (or "dev:<name>" for one of them): Six-hump
// camel, Goldstein-Price (log), Hartmann-3, Styblinski-Tang-3, Rastrigin-3, Griewank-4, Schwefel-4,
// Michalewicz-5 and a shifted sphere-6 with a categorical parameter that does not matter.
// Usage: bench_sampler_quality [trials=60] [seeds=10] [sampler=all] [function=all|dev|dev:<name>]
// With TUNELAB_BENCH_JSON set, each result line is followed by one JSON line with every seed's best:
// {"function": "branin", "sampler": "tpe", "bests": [...]}.
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
    SearchSpace space;
    std::function<double(const Assignment&)> value;
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

// Ackley in 5 dimensions on [-32.768, 32.768]^5, minimum 0 at the origin.
double ackley5(const std::vector<double>& x) {
    double squares = 0.0, cosines = 0.0;
    for (double v : x) {
        squares += v * v;
        cosines += std::cos(2.0 * M_PI * v);
    }
    const double d = static_cast<double>(x.size());
    return -20.0 * std::exp(-0.2 * std::sqrt(squares / d)) - std::exp(cosines / d) + 20.0 + M_E;
}

// Levy in 4 dimensions on [-10, 10]^4, minimum 0 at (1, 1, 1, 1).
double levy4(const std::vector<double>& x) {
    auto w = [&](size_t i) { return 1.0 + (x[i] - 1.0) / 4.0; };
    const size_t d = x.size();
    double sum = std::pow(std::sin(M_PI * w(0)), 2.0);
    for (size_t i = 0; i + 1 < d; ++i)
        sum += std::pow(w(i) - 1.0, 2.0) * (1.0 + 10.0 * std::pow(std::sin(M_PI * w(i) + 1.0), 2.0));
    sum += std::pow(w(d - 1) - 1.0, 2.0) * (1.0 + std::pow(std::sin(2.0 * M_PI * w(d - 1)), 2.0));
    return sum;
}

// A made-up training loss over a conditional space: each optimizer is a bowl in log10 of its own
// learning rate with its own best rate and floor. SGD reaches the lowest floor (0), but only with its
// momentum near 0.9; Adam's floor is 0.2 and RMSprop's 0.35. Minimum 0.
const char* kConditionalSpace = R"({"parameters": [
    {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "adam", "rmsprop"]},
    {"path": "sgd.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["sgd"]}},
    {"path": "sgd.momentum", "kind": "float", "low": 0.0, "high": 0.99, "when": {"optimizer.type": ["sgd"]}},
    {"path": "adam.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["adam"]}},
    {"path": "rmsprop.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["rmsprop"]}}
]})";

double optimizerLoss(const Assignment& a) {
    const std::string type = a.at("optimizer.type").json;
    if (type == "\"sgd\"") {
        const double lr = std::log10(a.at("sgd.lr").toDouble());
        const double momentum = a.at("sgd.momentum").toDouble();
        return 0.25 * (lr + 1.5) * (lr + 1.5) + 2.0 * (momentum - 0.9) * (momentum - 0.9);
    }
    if (type == "\"adam\"") {
        const double lr = std::log10(a.at("adam.lr").toDouble());
        return 0.2 + 0.25 * (lr + 3.0) * (lr + 3.0);
    }
    const double lr = std::log10(a.at("rmsprop.lr").toDouble());
    return 0.35 + 0.25 * (lr + 2.5) * (lr + 2.5);
}

// The second set ("dev").
double camel6(const std::vector<double>& x) {
    const double a = x[0] * x[0], b = x[1] * x[1];
    return (4.0 - 2.1 * a + a * a / 3.0) * a + x[0] * x[1] + (-4.0 + 4.0 * b) * b;
}

double goldsteinPrice(const std::vector<double>& x) {
    const double s = x[0] + x[1] + 1.0, t = 2.0 * x[0] - 3.0 * x[1];
    const double a = 1.0 + s * s *
                               (19.0 - 14.0 * x[0] + 3.0 * x[0] * x[0] - 14.0 * x[1] + 6.0 * x[0] * x[1] +
                                3.0 * x[1] * x[1]);
    const double b = 30.0 + t * t *
                                (18.0 - 32.0 * x[0] + 12.0 * x[0] * x[0] + 48.0 * x[1] - 36.0 * x[0] * x[1] +
                                 27.0 * x[1] * x[1]);
    return std::log(a * b);
}

double hartmann3(const std::vector<double>& x) {
    static const double a[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
    static const double p[4][3] = {
        {.3689, .1170, .2673}, {.4699, .4387, .7470}, {.1091, .8732, .5547}, {.0381, .5743, .8828}};
    static const double c[4] = {1.0, 1.2, 3.0, 3.2};
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        double inner = 0.0;
        for (int j = 0; j < 3; ++j)
            inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
        sum -= c[i] * std::exp(-inner);
    }
    return sum;
}

double styblinskiTang(const std::vector<double>& x) {
    double sum = 0.0;
    for (double v : x)
        sum += 0.5 * (v * v * v * v - 16.0 * v * v + 5.0 * v);
    return sum;
}

double rastrigin(const std::vector<double>& x) {
    double sum = 10.0 * static_cast<double>(x.size());
    for (double v : x)
        sum += v * v - 10.0 * std::cos(2.0 * M_PI * v);
    return sum;
}

double griewank(const std::vector<double>& x) {
    double squares = 0.0, product = 1.0;
    for (size_t i = 0; i < x.size(); ++i) {
        squares += x[i] * x[i] / 4000.0;
        product *= std::cos(x[i] / std::sqrt(static_cast<double>(i + 1)));
    }
    return squares - product + 1.0;
}

double schwefel(const std::vector<double>& x) {
    double sum = 418.9829 * static_cast<double>(x.size());
    for (double v : x)
        sum -= v * std::sin(std::sqrt(std::fabs(v)));
    return sum;
}

double michalewicz(const std::vector<double>& x) {
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); ++i)
        sum -= std::sin(x[i]) * std::pow(std::sin(static_cast<double>(i + 1) * x[i] * x[i] / M_PI), 20.0);
    return sum;
}

const char* kNuisanceSpace = R"({"parameters": [
    {"path": "x0", "kind": "float", "low": -5, "high": 5}, {"path": "x1", "kind": "float", "low": -5, "high": 5},
    {"path": "x2", "kind": "float", "low": -5, "high": 5}, {"path": "x3", "kind": "float", "low": -5, "high": 5},
    {"path": "x4", "kind": "float", "low": -5, "high": 5}, {"path": "x5", "kind": "float", "low": -5, "high": 5},
    {"path": "colour", "kind": "categorical", "choices": ["red", "green", "blue", "grey"]}
]})";

// A sphere in 6 dimensions centred away from the middle of the box; the colour does not matter.
double shiftedSphere(const Assignment& a) {
    static const double centre[6] = {1.3, -2.1, 0.7, 3.2, -0.4, -3.6};
    double sum = 0.0;
    for (int i = 0; i < 6; ++i) {
        const double d = a.at("x" + std::to_string(i)).toDouble() - centre[i];
        sum += d * d;
    }
    return sum;
}

SearchSpace parsedSpace(const std::string& json) {
    auto parsed = parseSearchSpace(json);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        std::exit(1);
    }
    return parsed.take();
}

// A function of x0..x(d-1), each a float parameter with the function's bounds.
TestFunction boxFunction(const std::string& name, const std::vector<std::pair<double, double>>& bounds,
                         double (*function)(const std::vector<double>&), double minimum) {
    std::string json = R"({"parameters": [)";
    for (size_t i = 0; i < bounds.size(); ++i) {
        char item[160];
        std::snprintf(item, sizeof item,
                      R"(%s{"path": "x%zu", "kind": "float", "low": %.17g, "high": %.17g})",
                      i == 0 ? "" : ", ", i, bounds[i].first, bounds[i].second);
        json += item;
    }
    json += "]}";
    const size_t dimensions = bounds.size();
    auto value = [function, dimensions](const Assignment& a) {
        std::vector<double> x;
        for (size_t i = 0; i < dimensions; ++i)
            x.push_back(a.at("x" + std::to_string(i)).toDouble());
        return function(x);
    };
    return {name, parsedSpace(json), value, minimum};
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
    std::vector<TestFunction> functions = {
        boxFunction("branin", {{-5, 10}, {0, 15}}, branin, 0.397887),
        boxFunction("hartmann6", std::vector<std::pair<double, double>>(6, {0.0, 1.0}), hartmann6, -3.32237),
        boxFunction("rosenbrock4", std::vector<std::pair<double, double>>(4, {-2.0, 2.0}), rosenbrock4, 0.0),
        {"optimizer", parsedSpace(kConditionalSpace), optimizerLoss, 0.0},
        boxFunction("ackley5", std::vector<std::pair<double, double>>(5, {-32.768, 32.768}), ackley5, 0.0),
        boxFunction("levy4", std::vector<std::pair<double, double>>(4, {-10.0, 10.0}), levy4, 0.0),
    };
    const std::string chosen = argc > 4 ? argv[4] : "all";
    if (chosen.rfind("dev", 0) == 0) {
        functions = {
            boxFunction("camel6", {{-3, 3}, {-2, 2}}, camel6, -1.031628),
            boxFunction("goldstein", {{-2, 2}, {-2, 2}}, goldsteinPrice, std::log(3.0)),
            boxFunction("hartmann3", std::vector<std::pair<double, double>>(3, {0.0, 1.0}), hartmann3,
                        -3.86278),
            boxFunction("styblinski3", std::vector<std::pair<double, double>>(3, {-5.0, 5.0}), styblinskiTang,
                        -117.49797),
            boxFunction("rastrigin3", std::vector<std::pair<double, double>>(3, {-5.12, 5.12}), rastrigin,
                        0.0),
            boxFunction("griewank4", std::vector<std::pair<double, double>>(4, {-600.0, 600.0}), griewank,
                        0.0),
            boxFunction("schwefel4", std::vector<std::pair<double, double>>(4, {-500.0, 500.0}), schwefel,
                        0.0),
            boxFunction("michalewicz5", std::vector<std::pair<double, double>>(5, {0.0, M_PI}), michalewicz,
                        -4.687658),
            {"sphere6+cat", parsedSpace(kNuisanceSpace), shiftedSphere, 0.0},
        };
    }
    std::vector<std::string> samplers = {"random", "sobol", "tpe-independent", "tpe", "gp", "rf"};
    if (argc > 3 && std::string(argv[3]) != "all")
        samplers = {argv[3]};
    const bool json = std::getenv("TUNELAB_BENCH_JSON") != nullptr;
    const std::string only = chosen.rfind("dev:", 0) == 0 ? chosen.substr(4) : chosen;
    if (only != "all" && only != "dev") {
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
                double best = INFINITY;
                double hit = trials + 1;
                for (int trial = 0; trial < trials; ++trial) {
                    auto assignment = sampler->suggest(space, trial, history);
                    const double value = function.value(*assignment);
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
