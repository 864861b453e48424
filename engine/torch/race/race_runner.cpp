#include "race/race_runner.h"

#include "race/lr_range_test.h"
#include "spec/spec.h"
#include "training/devices.h"
#include "training/run_manager.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

namespace tunelab {

struct RaceRunner::Impl {
    RunStore* store = nullptr;
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> running{false};
    std::thread thread;
    EventQueue<RaceEvent> events;
    std::vector<RaceEntryResult> lastResults; // the last race's, written by its thread before it ends

    RaceSpec spec;
    RaceRunOptions options;
    std::vector<ExperimentSpec> experiments;
    RaceScoreboard scoreboard;

    void join() {
        if (thread.joinable())
            thread.join();
    }

    // The race's thread: what the scoreboard sees is what the caller gets.
    void emit(RaceEvent event) {
        scoreboard.apply(event);
        events.push(std::move(event));
    }

    void rangeTests();
    void race();
    void finish() {
        // A stop ends this race only; the runner can run the next one.
        stopRequested.store(false);
        lastResults = scoreboard.results();
        RaceEvent done;
        done.kind = RaceEventKind::Finished;
        done.results = lastResults;
        // Not running once the last event is queued: a caller that drained it may start again
        // (start() joins this thread first).
        running.store(false);
        emit(std::move(done));
    }
};

// Race thread. The range tests run one after another: concurrent ones would only compete for the
// same cores.
void RaceRunner::Impl::rangeTests() {
    for (size_t i = 0; i < spec.setups.size(); ++i) {
        if (stopRequested.load())
            return;
        LrRangeResult curve;
        auto test = runLrRangeTest(experiments[i], spec.rangeTest, &stopRequested);
        if (test.ok())
            curve = test.take();
        else
            curve.message = test.error();
        if (std::isfinite(curve.suggestedLearningRate))
            experiments[i].optimizer.lr = curve.suggestedLearningRate;
        RaceEvent event;
        event.kind = RaceEventKind::RangeTested;
        event.setup = static_cast<int>(i);
        event.rangeTest = std::move(curve);
        emit(std::move(event));
    }
}

// Race thread.
void RaceRunner::Impl::race() {
    setComputeThreads(options.threadsPerSetup);
    lowerThreadPriority(options.niceness);
    if (spec.fairLearningRates) {
        rangeTests();
        if (stopRequested.load()) {
            scoreboard.stopUnfinished("stopped by request during the range tests");
            finish();
            return;
        }
    }
    std::map<RunId, int> setupOfRun;
    size_t running = 0;
    {
        RunManager manager(store);
        RunOptions runOptions;
        runOptions.device = options.device;
        runOptions.threads = options.threadsPerSetup;
        runOptions.niceness = options.niceness;
        for (size_t i = 0; i < experiments.size(); ++i) {
            if (stopRequested.load())
                break;
            auto started = manager.start(experiments[i], runOptions);
            if (!started.ok()) {
                scoreboard.setupFailed(static_cast<int>(i), started.error());
                continue;
            }
            setupOfRun[started.value()] = static_cast<int>(i);
            ++running;
            RaceEvent event;
            event.kind = RaceEventKind::SetupStarted;
            event.setup = static_cast<int>(i);
            event.runId = started.value();
            emit(std::move(event));
        }
        bool stopSent = false;
        while (running > 0) {
            if (stopRequested.load() && !stopSent) {
                stopSent = true;
                manager.requestStopAll();
            }
            manager.events().waitForEvents(std::chrono::milliseconds(20));
            for (RunEvent& runEvent : manager.events().drain()) {
                const auto found = setupOfRun.find(runEvent.runId);
                if (found == setupOfRun.end())
                    continue;
                if (runEvent.kind == RunEventKind::Finished && !scoreboard.rowFinished(found->second))
                    --running;
                RaceEvent event;
                event.kind = RaceEventKind::Run;
                event.setup = found->second;
                event.run = std::move(runEvent);
                emit(std::move(event));
            }
        }
        manager.waitForAll();
    }
    scoreboard.stopUnfinished("stopped by request before it started");
    finish();
}

RaceRunner::RaceRunner(RunStore* store)
    : m_impl(std::make_unique<Impl>()) {
    m_impl->store = store;
}

RaceRunner::~RaceRunner() {
    m_impl->stopRequested.store(true);
    m_impl->join();
}

void RaceRunner::requestStop() {
    m_impl->stopRequested.store(true);
}

bool RaceRunner::running() const {
    return m_impl->running.load();
}

void RaceRunner::wait() {
    m_impl->join();
}

EventQueue<RaceEvent>& RaceRunner::events() {
    return m_impl->events;
}

Result<std::vector<RaceEntryResult>> RaceRunner::run(const RaceSpec& spec, const RaceRunOptions& options) {
    auto started = start(spec, options);
    if (!started.ok())
        return Result<std::vector<RaceEntryResult>>(Errors{started.errors()});
    wait();
    return m_impl->lastResults;
}

Result<bool> RaceRunner::start(const RaceSpec& spec, const RaceRunOptions& options) {
    if (m_impl->running.load())
        return Result<bool>::failure("a race is running already");
    m_impl->join();
    if (spec.setups.empty())
        return Result<bool>::failure("setups: the race has no set-ups");
    if (!options.device.empty())
        if (const std::string problem = deviceStringError(options.device); !problem.empty())
            return Result<bool>::failure("device: " + problem);

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
        return Result<bool>(Errors{errors});

    Impl& impl = *m_impl;
    impl.spec = spec;
    impl.options = options;
    impl.experiments = std::move(experiments);
    impl.scoreboard = RaceScoreboard(spec);
    impl.lastResults.clear();
    impl.running.store(true);
    impl.thread = std::thread([&impl] { impl.race(); });
    return true;
}

} // namespace tunelab
