// Multi-objective sampler quality on standard test problems, in process: ZDT1 and ZDT2 (2
// objectives, 10 parameters in [0, 1]), each minimised by every sampler for a number of trials
// over several seeds. Prints the quartiles over seeds of the hypervolume of all the trials at the
// end, and the time of one suggestion with 200 and 1,000 finished trials.
//
// A second set of problems, chosen with "dev" (or "dev:<name>" for one of them): ZDT3 and ZDT6 (10
// parameters) and DTLZ2 (3 objectives, 6 parameters). The samplers' constants are chosen on this
// set only; ZDT1 and ZDT2 are held out from any such choice.
//
// Reference points, those of bench/functions/zdt.py, beyond the largest value each objective takes
// on the box so that every trial counts: (1.1, 11) for the ZDT problems (f1 <= 1, f2 <= g <= 10)
// and (2.5, 2.5, 2.5) for DTLZ2 (every f <= 1 + g <= 2). With (1.1, 11) the hypervolume of the
// Pareto front is 11.77 for ZDT1 and 11.43 for ZDT2.
//
// Usage: bench_multi_objective [trials=200] [seeds=10] [sampler=all] [problems=main|dev|dev:<name>]
// where sampler is one of makeSampler's names or nsga2:<population>. With TUNELAB_BENCH_JSON set,
// each result line is followed by one JSON line with every seed's hypervolume:
// {"problem": "zdt1", "sampler": "motpe", "hypervolumes": [...]}.
#include "search/pareto.h"
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

using Objectives = std::function<std::vector<double>(const std::vector<double>&)>;

struct Problem {
    std::string name;
    SearchSpace space;
    Objectives objectives;
    ObjectivePoint reference;
};

// The distance term of the ZDT problems: 1 + 9 times the mean of x1..x(n-1).
double zdtG(const std::vector<double>& x) {
    double sum = 0.0;
    for (size_t i = 1; i < x.size(); ++i)
        sum += x[i];
    return 1.0 + 9.0 * sum / static_cast<double>(x.size() - 1);
}

std::vector<double> zdt1(const std::vector<double>& x) {
    const double g = zdtG(x);
    return {x[0], g * (1.0 - std::sqrt(x[0] / g))};
}

std::vector<double> zdt2(const std::vector<double>& x) {
    const double g = zdtG(x);
    return {x[0], g * (1.0 - (x[0] / g) * (x[0] / g))};
}

std::vector<double> zdt3(const std::vector<double>& x) {
    const double g = zdtG(x), r = x[0] / g;
    return {x[0], g * (1.0 - std::sqrt(r) - r * std::sin(10.0 * M_PI * x[0]))};
}

std::vector<double> zdt6(const std::vector<double>& x) {
    const double f1 = 1.0 - std::exp(-4.0 * x[0]) * std::pow(std::sin(6.0 * M_PI * x[0]), 6.0);
    double sum = 0.0;
    for (size_t i = 1; i < x.size(); ++i)
        sum += x[i];
    const double g = 1.0 + 9.0 * std::pow(sum / static_cast<double>(x.size() - 1), 0.25);
    return {f1, g * (1.0 - (f1 / g) * (f1 / g))};
}

// DTLZ2 with 3 objectives: x0, x1 place the point on the sphere, the others its distance from it.
std::vector<double> dtlz2(const std::vector<double>& x) {
    double g = 0.0;
    for (size_t i = 2; i < x.size(); ++i)
        g += (x[i] - 0.5) * (x[i] - 0.5);
    const double a = 0.5 * M_PI * x[0], b = 0.5 * M_PI * x[1];
    return {(1.0 + g) * std::cos(a) * std::cos(b), (1.0 + g) * std::cos(a) * std::sin(b),
            (1.0 + g) * std::sin(a)};
}

SearchSpace unitBox(size_t dimensions) {
    std::string json = R"({"parameters": [)";
    for (size_t i = 0; i < dimensions; ++i)
        json += (i == 0 ? "" : ", ") + std::string(R"({"path": "x)") + std::to_string(i) +
                R"(", "kind": "float", "low": 0, "high": 1})";
    json += "]}";
    auto parsed = parseSearchSpace(json);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        std::exit(1);
    }
    return parsed.take();
}

std::vector<double> pointOf(const Assignment& assignment, size_t dimensions) {
    std::vector<double> x;
    for (size_t i = 0; i < dimensions; ++i)
        x.push_back(assignment.at("x" + std::to_string(i)).toDouble());
    return x;
}

FinishedTrial finished(int64_t number, Assignment assignment, std::vector<double> values) {
    FinishedTrial trial;
    trial.number = number;
    trial.assignment = std::move(assignment);
    trial.value = values[0];
    trial.values = std::move(values);
    return trial;
}

// A sampler of makeSampler by name, or "nsga2:<population>" for NSGA-II with another population.
std::unique_ptr<Sampler> samplerOrExit(const std::string& name, uint64_t seed, const SearchSpace& space) {
    if (name.rfind("nsga2:", 0) == 0) {
        NsgaIISettings nsga2;
        nsga2.seed = seed;
        nsga2.populationSize = std::atoi(name.c_str() + 6);
        return std::make_unique<NsgaIISampler>(nsga2);
    }
    SamplerSettings settings;
    settings.type = name;
    settings.seed = seed;
    auto made = makeSampler(settings, space);
    if (!made.ok()) {
        std::fprintf(stderr, "%s\n", made.error().c_str());
        std::exit(1);
    }
    return made.take();
}

// The hypervolume of all the trials after `trials` suggestions of one sampler.
double finalHypervolume(const Problem& problem, const std::string& sampler, uint64_t seed, int trials) {
    auto made = samplerOrExit(sampler, seed, problem.space);
    const size_t dimensions = problem.space.parameters().size();
    std::vector<FinishedTrial> history;
    std::vector<ObjectivePoint> points;
    for (int trial = 0; trial < trials; ++trial) {
        auto assignment = made->suggest(problem.space, trial, history);
        std::vector<double> values = problem.objectives(pointOf(*assignment, dimensions));
        points.push_back(values);
        history.push_back(finished(trial, *assignment, std::move(values)));
    }
    return hypervolume(points, problem.reference);
}

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const double position = q * static_cast<double>(values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(values.size() - 1, below + 1);
    return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

// The median time of one suggestion with `finishedTrials` random ZDT1 trials in the history.
double secondsPerSuggestion(const std::string& sampler, int finishedTrials) {
    const SearchSpace space = unitBox(10);
    RandomSampler random(99);
    std::vector<FinishedTrial> history;
    for (int trial = 0; trial < finishedTrials; ++trial) {
        auto assignment = random.suggest(space, trial, history);
        history.push_back(finished(trial, *assignment, zdt1(pointOf(*assignment, 10))));
    }
    auto made = samplerOrExit(sampler, 1, space);
    std::vector<double> seconds;
    for (int repeat = 0; repeat < 11; ++repeat) {
        const auto started = std::chrono::steady_clock::now();
        made->suggest(space, finishedTrials + repeat, history);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    return quantile(seconds, 0.5);
}

} // namespace

int main(int argc, char** argv) {
    const int trials = argc > 1 ? std::atoi(argv[1]) : 200;
    const int seeds = argc > 2 ? std::atoi(argv[2]) : 10;
    std::vector<std::string> samplers = {"nsga2", "motpe", "random", "sobol"};
    if (argc > 3 && std::string(argv[3]) != "all")
        samplers = {argv[3]};
    const std::string chosen = argc > 4 ? argv[4] : "main";
    std::vector<Problem> problems;
    if (chosen.rfind("dev", 0) == 0) {
        problems = {{"zdt3", unitBox(10), zdt3, {1.1, 11.0}},
                    {"zdt6", unitBox(10), zdt6, {1.1, 11.0}},
                    {"dtlz2", unitBox(6), dtlz2, {2.5, 2.5, 2.5}}};
    } else {
        problems = {{"zdt1", unitBox(10), zdt1, {1.1, 11.0}}, {"zdt2", unitBox(10), zdt2, {1.1, 11.0}}};
    }
    const std::string only = chosen.rfind("dev:", 0) == 0 ? chosen.substr(4) : chosen;
    if (only != "main" && only != "dev") {
        problems.erase(std::remove_if(problems.begin(), problems.end(),
                                      [&](const Problem& p) { return p.name != only; }),
                       problems.end());
    }
    const bool json = std::getenv("TUNELAB_BENCH_JSON") != nullptr;
    std::printf("%d trials, seeds 0..%d, final hypervolume over seeds\n", trials, seeds - 1);
    std::printf("%-8s %-8s %10s %10s %10s %10s\n", "problem", "sampler", "q25", "median", "q75", "seconds");
    for (const auto& problem : problems) {
        for (const auto& sampler : samplers) {
            std::vector<double> volumes;
            const auto started = std::chrono::steady_clock::now();
            for (int seed = 0; seed < seeds; ++seed)
                volumes.push_back(finalHypervolume(problem, sampler, static_cast<uint64_t>(seed), trials));
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::printf("%-8s %-8s %10.4f %10.4f %10.4f %10.2f\n", problem.name.c_str(), sampler.c_str(),
                        quantile(volumes, 0.25), quantile(volumes, 0.5), quantile(volumes, 0.75), seconds);
            if (json) {
                std::printf(R"({"problem": "%s", "sampler": "%s", "hypervolumes": [)", problem.name.c_str(),
                            sampler.c_str());
                for (size_t i = 0; i < volumes.size(); ++i)
                    std::printf("%s%.17g", i == 0 ? "" : ", ", volumes[i]);
                std::printf("]}\n");
            }
            std::fflush(stdout);
        }
    }
    std::printf("\nmilliseconds per suggestion (median of 11) with N random ZDT1 trials finished\n");
    std::printf("%-8s %10s %10s\n", "sampler", "N=200", "N=1000");
    for (const auto& sampler : samplers) {
        std::printf("%-8s %10.3f %10.3f\n", sampler.c_str(), 1e3 * secondsPerSuggestion(sampler, 200),
                    1e3 * secondsPerSuggestion(sampler, 1000));
        std::fflush(stdout);
    }
    return 0;
}
