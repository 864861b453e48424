#pragma once

#include "common/result.h"
#include "events/event_queue.h"
#include "race/race.h"
#include "race/race_scoreboard.h"

#include <memory>
#include <string>
#include <vector>

namespace tunelab {

class RunStore;

struct RaceRunOptions {
    std::string device; // overrides the experiment's device when not empty
    int threadsPerSetup = 1;
    int niceness = 0; // the window raises it so the GUI thread stays responsive
};

// Runs a race: the range tests first (one after another, when fairLearningRates is on), then
// every set-up concurrently, each on its own thread, all from the experiment's seed. Runs are
// recorded in the store (when given).
//
// start() returns at once: the runner owns the race's threads, and its events (range tests, set-up
// starts, every run event of every set-up, one Finished with the results) go to events(), which
// the caller drains at its own pace. A RaceScoreboard turns them into the results table.
class RaceRunner {
public:
    explicit RaceRunner(RunStore* store = nullptr);
    ~RaceRunner(); // stops a running race and joins its thread

    RaceRunner(const RaceRunner&) = delete;
    RaceRunner& operator=(const RaceRunner&) = delete;

    // Checks every set-up's experiment and the device, then starts the race's thread; a mistake
    // starts nothing. An error while a race runs.
    Result<bool> start(const RaceSpec& spec, const RaceRunOptions& options = {});
    // start() and wait(): the results in set-up order (the Finished event's). For callers that want
    // to block (tests); the events stay queued.
    Result<std::vector<RaceEntryResult>> run(const RaceSpec& spec, const RaceRunOptions& options = {});
    void wait();          // blocks until the race's thread ended
    bool running() const; // started and its Finished event not queued yet
    // Any thread: range tests and runs stop within one step. A stop asked for while no race runs
    // stops the next one before it trains; once a race ended the runner can race again.
    void requestStop();
    EventQueue<RaceEvent>& events();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tunelab
