#pragma once

#include "common/result.h"
#include "race/lr_range_test.h"
#include "race/race.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tunelab {

class RunStore;

struct RaceRunOptions {
    std::string device; // overrides the experiment's device when not empty
    int threadsPerSetup = 1;
    int niceness = 0; // the window raises it so the GUI thread stays responsive
    // Called from worker threads; keep them quick. A range test's curve, once per set-up when fair:
    std::function<void(const std::string& setup, const LrRangeResult& result)> onRangeTest;
    // Each set-up's run as it starts (its events go to the forward sink given to the runner):
    std::function<void(const std::string& setup, RunId runId)> onSetupStarted;
};

// Runs a race: the range tests first (one after another on a thread of their own, when
// fairLearningRates is on), then every set-up concurrently, each on its own thread, all from the
// experiment's seed. Runs are
// recorded in the store (when given) and their events forwarded (a window's queue) as they come.
class RaceRunner {
public:
    explicit RaceRunner(RunStore* store = nullptr, RunEventSink* forward = nullptr);
    ~RaceRunner();

    // Blocks until every set-up ended; results in set-up order. Any thread.
    Result<std::vector<RaceEntryResult>> run(const RaceSpec& spec, const RaceRunOptions& options = {});
    // Any thread: range tests and runs stop within one step. A stop asked for while no race runs
    // stops the next one before it trains; after run() returns the runner can race again.
    void requestStop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tunelab
