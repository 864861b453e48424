// Time of one sampler suggestion over a mixed six-parameter space (log float, float, int, log int,
// categorical and a conditional float): TPE with 1,000 finished trials, GP with 200.
// Usage: bench_sampler_overhead [repeats=21]
#include "search/samplers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

std::vector<FinishedTrial> randomHistory(const SearchSpace& space, int count) {
    RandomSampler random(99);
    std::vector<FinishedTrial> history;
    for (int trial = 0; trial < count; ++trial) {
        Assignment a = *random.suggest(space, trial, {});
        history.push_back({trial, a, syntheticLoss(a), TrialState::Complete});
    }
    return history;
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

    TpeSettings multivariate;
    multivariate.seed = 1;
    TpeSampler tpe(multivariate);
    TpeSettings independent = multivariate;
    independent.multivariate = false;
    TpeSampler tpeIndependent(independent);
    GpSettings gpSettings;
    gpSettings.seed = 1;
    GpSampler gp(gpSettings);

    std::printf("median of %d suggestions (ms)\n", repeats);
    std::printf("tpe (multivariate), 1000 trials:  %8.3f  (target < 5)\n",
                medianSuggestMs(tpe, space, tpeHistory, repeats));
    std::printf("tpe-independent, 1000 trials:     %8.3f  (target < 5)\n",
                medianSuggestMs(tpeIndependent, space, tpeHistory, repeats));
    std::printf("gp, 200 trials:                   %8.3f  (target < 100)\n",
                medianSuggestMs(gp, space, gpHistory, std::max(3, repeats / 3)));
    return 0;
}
