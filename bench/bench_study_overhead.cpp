// What the study runner costs around each trial as a study grows: 5,000 trials of an objective that
// answers at once (it reports 5 epochs, so the median pruner decides every epoch), random sampler, a
// real SQLite store. Prints the milliseconds per trial over each 500-trial window: a runner that
// re-read the whole study before each suggestion got slower with every window.
// Usage: bench_study_overhead [trials=5000] [pruner=median]
#include "store/run_store.h"
#include "study/study.h"
#include "study/study_runner.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tunelab;

namespace {

using Clock = std::chrono::steady_clock;

class InstantObjective : public TrialObjective {
public:
    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override {
        const double x = task.params.at("x").toDouble();
        const double y = task.params.at("y").toDouble();
        const double value = (x - 1.0) * (x - 1.0) + (y + 0.5) * (y + 0.5);
        TrialOutcome outcome;
        outcome.state = TrialState::Complete;
        for (int epoch = 1; epoch <= 5; ++epoch) {
            outcome.value = value * (1.0 + 1.0 / epoch);
            if (reporter.report(epoch, outcome.value)) {
                outcome.state = TrialState::Pruned;
                outcome.prunedEpoch = epoch;
                break;
            }
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_finished.push_back(Clock::now());
        return outcome;
    }
    std::vector<Clock::time_point> finishedTimes() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_finished;
    }

private:
    std::mutex m_mutex;
    std::vector<Clock::time_point> m_finished;
};

} // namespace

int main(int argc, char** argv) {
    const int64_t trials = argc > 1 ? std::atoll(argv[1]) : 5000;
    const std::string pruner = argc > 2 ? argv[2] : "median";
    char folder[] = "/tmp/bench_study_overhead_XXXXXX";
    if (!::mkdtemp(folder))
        return 1;
    const std::string path = std::string(folder) + "/study.sqlite";
    auto opened = RunStore::open(path);
    if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", opened.error().c_str());
        return 1;
    }
    RunStore& store = *opened.value();
    StudySpec spec;
    spec.name = "overhead";
    spec.spaceJson = R"({"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5},
                                        {"path": "y", "kind": "float", "low": -5, "high": 5}]})";
    spec.sampler.type = "random";
    spec.pruner.type = pruner;
    spec.objective.metric = "value";
    spec.objective.at = ObjectiveAt::Last;
    spec.budget.trials = trials;
    const StudyId study = store.createStudy(spec.name, studySpecToJson(spec)).value();
    InstantObjective objective;
    StudyRunner runner(store, study, objective);
    const auto start = Clock::now();
    auto ran = runner.run();
    const double total = std::chrono::duration<double>(Clock::now() - start).count();
    if (!ran.ok()) {
        std::fprintf(stderr, "%s\n", ran.error().c_str());
        return 1;
    }
    const auto finished = objective.finishedTimes();
    std::printf("%lld trials, random sampler, %s pruner: %.2f s in all, %.3f ms per trial\n",
                static_cast<long long>(finished.size()), pruner.c_str(), total,
                1000.0 * total / static_cast<double>(finished.size()));
    std::printf("%-14s %14s\n", "trials", "ms per trial");
    constexpr size_t kWindow = 500;
    auto windowStart = start;
    for (size_t end = kWindow; end <= finished.size(); end += kWindow) {
        const double seconds = std::chrono::duration<double>(finished[end - 1] - windowStart).count();
        std::printf("%5zu - %-6zu %14.3f\n", end - kWindow + 1, end, 1000.0 * seconds / kWindow);
        windowStart = finished[end - 1];
    }
    std::remove(path.c_str());
    ::rmdir(folder);
    return 0;
}
