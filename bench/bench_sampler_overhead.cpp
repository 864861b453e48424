// Time of one sampler suggestion over a mixed six-parameter space (log float, float, int, log int,
// categorical and a conditional float): TPE with 1,000 finished trials, GP with 200; and the random
// forest with 1,000 finished trials over 20 parameters (floats, log floats, ints, a log int,
// categoricals and conditional floats). TPE, GP and the forest each treat running trials apart (a
// constant liar, pending evaluations, an imputed mean), so each is also timed with 7 trials running
// beside the finished ones, as when 8 workers share a study.
// Usage: bench_sampler_overhead [repeats=21]
#include "search/samplers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

using namespace tunelab;

namespace {

const char* kSpace = R"({"parameters": [
    {"path": "optimizer.lr", "kind": "float", "low": 1e-5, "high": 0.1, "log": true},
    {"path": "model.dropout", "kind": "float", "low": 0.0, "high": 0.5},
    {"path": "model.layers", "kind": "int", "low": 1, "high": 6},
    {"path": "training.batch_size", "kind": "int", "low": 16, "high": 512, "log": true},
    {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
    {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.99, "when": {"optimizer.type": ["sgd"]}}
]})";

// A smooth made-up loss, so the history has structure.
double syntheticLoss(const Assignment& a) {
    const double lr = std::log10(a.at("optimizer.lr").toDouble());
    double loss = (lr + 2.5) * (lr + 2.5) + 2.0 * std::pow(a.at("model.dropout").toDouble() - 0.2, 2.0) +
                  0.1 * std::fabs(a.at("model.layers").toDouble() - 3.0) +
                  0.05 * std::fabs(std::log2(a.at("training.batch_size").toDouble()) - 6.0);
    if (a.at("optimizer.type").json == "\"sgd\"")
        loss += 0.3 * std::fabs(a.at("optimizer.momentum").toDouble() - 0.9);
    return loss;
}

// Twenty parameters: p0..p11 floats (every third one log), p12..p15 ints (p15 log), two categoricals
// and two floats that apply only for some choices of the first categorical.
std::string wideSpace() {
    std::string json = R"({"parameters": [)";
    for (int i = 0; i < 12; ++i)
        json += i % 3 == 2
                    ? R"({"path": "p)" + std::to_string(i) +
                          R"(", "kind": "float", "low": 1e-5, "high": 1, "log": true}, )"
                    : R"({"path": "p)" + std::to_string(i) + R"(", "kind": "float", "low": -1, "high": 1}, )";
    for (int i = 12; i < 15; ++i)
        json += R"({"path": "p)" + std::to_string(i) + R"(", "kind": "int", "low": 1, "high": 64}, )";
    json += R"({"path": "p15", "kind": "int", "low": 1, "high": 1024, "log": true},
        {"path": "c0", "kind": "categorical", "choices": ["a", "b", "c", "d"]},
        {"path": "c1", "kind": "categorical", "choices": ["x", "y", "z"]},
        {"path": "q0", "kind": "float", "low": 0, "high": 1, "when": {"c0": ["a", "b"]}},
        {"path": "q1", "kind": "float", "low": 0, "high": 1, "when": {"c0": ["c"]}}]})";
    return json;
}

// A smooth made-up loss over the wide space.
double wideLoss(const Assignment& a) {
    double loss = 0.0;
    for (int i = 0; i < 12; ++i) {
        const double x = a.at("p" + std::to_string(i)).toDouble();
        loss += i % 3 == 2 ? std::pow(std::log10(x) + 2.0, 2.0) / 25.0 : (x - 0.3) * (x - 0.3);
    }
    for (int i = 12; i < 16; ++i)
        loss += std::fabs(std::log2(a.at("p" + std::to_string(i)).toDouble()) - 4.0) / 10.0;
    loss += a.at("c0").json == "\"b\"" ? 0.0 : 0.5;
    loss += a.at("c1").json == "\"x\"" ? 0.0 : 0.2;
    if (a.count("q0"))
        loss += std::pow(a.at("q0").toDouble() - 0.7, 2.0);
    if (a.count("q1"))
        loss += std::pow(a.at("q1").toDouble() - 0.2, 2.0);
    return loss;
}

std::vector<FinishedTrial> randomHistory(const SearchSpace& space, int count,
                                         double (*loss)(const Assignment&) = syntheticLoss) {
    RandomSampler random(99);
    std::vector<FinishedTrial> history;
    for (int trial = 0; trial < count; ++trial) {
        Assignment a = *random.suggest(space, trial, {});
        history.push_back({trial, a, loss(a), TrialState::Complete});
    }
    return history;
}

constexpr int kRunningTrials = 7;

// `finished` with kRunningTrials more trials, drawn at random, still running.
std::vector<FinishedTrial> withRunning(const SearchSpace& space, std::vector<FinishedTrial> finished) {
    RandomSampler random(98);
    const int64_t first = static_cast<int64_t>(finished.size());
    for (int64_t trial = first; trial < first + kRunningTrials; ++trial)
        finished.push_back({trial, *random.suggest(space, trial, {}), 0.0, TrialState::Running});
    return finished;
}

double threadCpuMs() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
}

double medianSuggestMs(Sampler& sampler, const SearchSpace& space, const std::vector<FinishedTrial>& history,
                       int repeats) {
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        const auto started = std::chrono::steady_clock::now();
        auto assignment = sampler.suggest(space, static_cast<int64_t>(history.size()) + r, history);
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
        if (!assignment || assignment->empty())
            std::fprintf(stderr, "empty suggestion\n");
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

struct ForestTimes {
    double medianMs = 0.0;
    double medianCpuMs = 0.0;
    double slowestMs = 0.0;
};

// Only model-based suggestions count: one in five trials the forest draws like the random sampler
// (the same assignment), which costs nothing. The thread's CPU time is kept too: on shared cores it is
// what the suggestion itself costs.
ForestTimes forestSuggestTimes(RfSampler& rf, uint64_t seed, const SearchSpace& space,
                               const std::vector<FinishedTrial>& history, int repeats) {
    RandomSampler randomShare(seed);
    std::vector<double> times, cpuTimes;
    for (int64_t trial = static_cast<int64_t>(history.size()); static_cast<int>(times.size()) < repeats;
         ++trial) {
        const double cpuStarted = threadCpuMs();
        const auto started = std::chrono::steady_clock::now();
        auto assignment = rf.suggest(space, trial, history);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        const double cpuMs = threadCpuMs() - cpuStarted;
        if (!assignment || assignment->empty()) {
            std::fprintf(stderr, "empty suggestion\n");
        } else if (*assignment != *randomShare.suggest(space, trial, history)) {
            times.push_back(ms);
            cpuTimes.push_back(cpuMs);
        }
    }
    std::sort(times.begin(), times.end());
    std::sort(cpuTimes.begin(), cpuTimes.end());
    return {times[times.size() / 2], cpuTimes[cpuTimes.size() / 2], times.back()};
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 21;
    auto parsed = parseSearchSpace(kSpace);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        return 1;
    }
    const SearchSpace space = parsed.take();
    const auto tpeHistory = randomHistory(space, 1000);
    const auto gpHistory = randomHistory(space, 200);
    const auto tpeRunning = withRunning(space, tpeHistory);
    const auto gpRunning = withRunning(space, gpHistory);

    TpeSettings multivariate;
    multivariate.seed = 1;
    TpeSampler tpe(multivariate);
    TpeSettings independent = multivariate;
    independent.multivariate = false;
    TpeSampler tpeIndependent(independent);
    GpSettings gpSettings;
    gpSettings.seed = 1;
    GpSampler gp(gpSettings);

    const std::string running = " + " + std::to_string(kRunningTrials) + " running";
    std::printf("median of %d suggestions (ms)\n", repeats);
    std::printf("%-40s %8.3f  (target < 5)\n",
                "tpe (multivariate), 1000 trials:", medianSuggestMs(tpe, space, tpeHistory, repeats));
    std::printf("%-40s %8.3f  (target < 5)\n",
                "tpe-independent, 1000 trials:", medianSuggestMs(tpeIndependent, space, tpeHistory, repeats));
    std::printf("%-40s %8.3f  (target < 100)\n",
                "gp, 200 trials:", medianSuggestMs(gp, space, gpHistory, std::max(3, repeats / 3)));
    std::printf("%-40s %8.3f\n", ("tpe (multivariate), 1000" + running + ":").c_str(),
                medianSuggestMs(tpe, space, tpeRunning, repeats));
    std::printf("%-40s %8.3f\n", ("gp, 200" + running + ":").c_str(),
                medianSuggestMs(gp, space, gpRunning, std::max(3, repeats / 3)));

    auto wideParsed = parseSearchSpace(wideSpace());
    if (!wideParsed.ok()) {
        std::fprintf(stderr, "%s\n", wideParsed.error().c_str());
        return 1;
    }
    const SearchSpace wide = wideParsed.take();
    const auto wideHistory = randomHistory(wide, 1000, wideLoss);
    RfSettings rfSettings;
    rfSettings.seed = 1;
    RfSampler rf(rfSettings);
    const ForestTimes finished = forestSuggestTimes(rf, rfSettings.seed, wide, wideHistory, repeats);
    std::printf("%-40s %8.3f  (target < 50; CPU %.3f; slowest %.3f)\n",
                "rf, 1000 trials x 20 parameters:", finished.medianMs, finished.medianCpuMs,
                finished.slowestMs);
    const ForestTimes withPending =
        forestSuggestTimes(rf, rfSettings.seed, wide, withRunning(wide, wideHistory), repeats);
    std::printf("%-40s %8.3f  (CPU %.3f; slowest %.3f)\n",
                ("rf, 1000" + running + " x 20 parameters:").c_str(), withPending.medianMs,
                withPending.medianCpuMs, withPending.slowestMs);
    return 0;
}
