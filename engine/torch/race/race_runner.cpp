#include "race/race_runner.h"

#include "spec/spec.h"
#include "training/devices.h"
#include "training/run_manager.h"

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

namespace tunelab {

struct RaceRunner::Impl {
    RunStore* store = nullptr;
    RunEventSink* forward = nullptr;
    std::atomic<bool> stopRequested{false};
};

RaceRunner::RaceRunner(RunStore* store, RunEventSink* forward)
    : m_impl(std::make_unique<Impl>()) {
    m_impl->store = store;
    m_impl->forward = forward;
}

RaceRunner::~RaceRunner() = default;

void RaceRunner::requestStop() {
    m_impl->stopRequested.store(true);
}

Result<std::vector<RaceEntryResult>> RaceRunner::run(const RaceSpec& spec, const RaceRunOptions& options) {
    using Output = Result<std::vector<RaceEntryResult>>;
    if (spec.setups.empty())
        return Output::failure("setups: the race has no set-ups");
    if (!options.device.empty())
        if (const std::string problem = deviceStringError(options.device); !problem.empty())
            return Output::failure("device: " + problem);

    // Every set-up's experiment is checked before anything runs, so a typo costs no training.
    std::vector<ExperimentSpec> experiments;
    std::vector<std::string> errors;
    for (const auto& setup : spec.setups) {
        auto text = setupExperimentJson(spec, setup);
        if (!text.ok()) {
            errors.insert(errors.end(), text.errors().begin(), text.errors().end());
            continue;
        }
        auto parsed = parseExperimentSpec(text.value());
        if (!parsed.ok()) {
            for (const auto& message : parsed.errors())
                errors.push_back(setup.name + ": " + message);
            continue;
        }
        experiments.push_back(parsed.take());
        if (!options.device.empty())
            experiments.back().device = options.device;
    }
    if (!errors.empty())
        return Output(Errors{errors});

    std::vector<RaceEntryResult> results(spec.setups.size());
    for (size_t i = 0; i < spec.setups.size(); ++i) {
        results[i].setup = spec.setups[i].name;
        results[i].learningRate = experiments[i].optimizer.lr;
    }

    // The range tests run one after another: concurrent ones would only compete for the same cores.
    if (spec.fairLearningRates) {
        for (size_t i = 0; i < spec.setups.size(); ++i) {
            if (m_impl->stopRequested.load()) {
                for (auto& result : results) {
                    result.status = RunStatus::Stopped;
                    result.message = "stopped by request during the range tests";
                }
                m_impl->stopRequested.store(false);
                return results;
            }
            // On a thread of its own, so that its thread count and priority are set as a run's
            // are, without changing the caller's thread.
            LrRangeResult curve;
            std::thread worker([&] {
                setComputeThreads(options.threadsPerSetup);
                lowerThreadPriority(options.niceness);
                auto test = runLrRangeTest(experiments[i], spec.rangeTest, &m_impl->stopRequested);
                if (test.ok())
                    curve = test.take();
                else
                    curve.message = test.error();
            });
            worker.join();
            if (options.onRangeTest)
                options.onRangeTest(spec.setups[i].name, curve);
            if (std::isfinite(curve.suggestedLearningRate)) {
                experiments[i].optimizer.lr = curve.suggestedLearningRate;
                results[i].learningRate = curve.suggestedLearningRate;
            } else {
                results[i].message = "range test: " + curve.message + "; raced at its own learning rate";
            }
        }
    }

    std::vector<std::vector<EpochRecord>> epochs(spec.setups.size());
    std::vector<bool> finished(spec.setups.size(), false);
    std::map<RunId, size_t> indexOfRun;
    size_t running = 0;
    {
        RunManager manager(m_impl->store);
        RunOptions runOptions;
        runOptions.device = options.device;
        runOptions.threads = options.threadsPerSetup;
        runOptions.niceness = options.niceness;
        for (size_t i = 0; i < experiments.size(); ++i) {
            if (m_impl->stopRequested.load())
                break;
            auto started = manager.start(experiments[i], runOptions);
            if (!started.ok()) {
                results[i].status = RunStatus::Failed;
                results[i].message = started.error();
                finished[i] = true;
                continue;
            }
            results[i].runId = started.value();
            indexOfRun[started.value()] = i;
            ++running;
            if (options.onSetupStarted)
                options.onSetupStarted(spec.setups[i].name, started.value());
        }
        bool stopSent = false;
        while (running > 0) {
            if (m_impl->stopRequested.load() && !stopSent) {
                stopSent = true;
                manager.requestStopAll();
            }
            manager.events().waitForEvents(std::chrono::milliseconds(20));
            for (RunEvent& event : manager.events().drain()) {
                if (m_impl->forward)
                    m_impl->forward->onRunEvent(event);
                const auto found = indexOfRun.find(event.runId);
                if (found == indexOfRun.end())
                    continue;
                const size_t i = found->second;
                if (event.kind == RunEventKind::Epoch) {
                    epochs[i].push_back(event.epoch);
                } else if (event.kind == RunEventKind::Finished && !finished[i]) {
                    finished[i] = true;
                    --running;
                    const double learningRate = results[i].learningRate;
                    const std::string rangeMessage = results[i].message;
                    const RunId runId = results[i].runId;
                    results[i] =
                        raceEntryResult(spec.setups[i].name, event.summary, epochs[i], spec.targetLoss);
                    results[i].learningRate = learningRate;
                    results[i].runId = runId;
                    if (!rangeMessage.empty())
                        results[i].message = results[i].message.empty()
                                                 ? rangeMessage
                                                 : results[i].message + "; " + rangeMessage;
                }
            }
        }
        manager.waitForAll();
    }
    // A stop ends this race only; the runner can run the next one.
    m_impl->stopRequested.store(false);
    for (size_t i = 0; i < results.size(); ++i)
        if (!finished[i]) {
            results[i].status = RunStatus::Stopped;
            results[i].message = "stopped by request before it started";
        }
    return results;
}

} // namespace tunelab
