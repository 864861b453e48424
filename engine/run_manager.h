#pragma once

#include "engine/result.h"
#include "engine/run_events.h"
#include "engine/spec.h"

#include <memory>
#include <string>
#include <vector>

namespace tunelab {

class RunStore;

struct RunOptions {
    std::string device;             // overrides the spec's device when not empty
    int threads = 1;                // LibTorch intra-op and OpenBLAS threads for this run (0 = one per core)
    int stepFlushSteps = 64;        // step records are pushed in batches of at most this many steps
    double stepFlushSeconds = 0.04; // ... or at least this often while training
    // Scheduling niceness of the run's thread (Linux; 0 keeps the caller's). A window raises it
    // so that the GUI thread, which sleeps most of the time, gets a core as soon as it wakes.
    int niceness = 0;
};

// Starts runs, each on its own thread, and hands their events to one queue that the caller
// drains at its own pace. Stop and pause are atomic flags the worker reads every step.
// With a store, every run and its metrics are recorded there too.
class RunManager {
public:
    explicit RunManager(RunStore* store = nullptr);
    ~RunManager(); // stops every run and waits for it

    RunManager(const RunManager&) = delete;
    RunManager& operator=(const RunManager&) = delete;

    // Validates the spec's device, records the run and starts its thread. Data loading and the
    // model's shape check happen on the worker; their errors arrive as a failed Finished event.
    Result<RunId> start(const ExperimentSpec& spec, const RunOptions& options = {});

    void requestStop(RunId id); // takes effect within one step
    void setPaused(RunId id, bool paused);
    void requestStopAll();
    bool isRunning(RunId id) const;
    int activeRuns() const;
    void waitForAll();

    RunEventQueue& events();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tunelab
