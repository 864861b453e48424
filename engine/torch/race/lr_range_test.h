#pragma once

#include "common/result.h"
#include "events/event_queue.h"
#include "race/lr_range.h"
#include "spec/spec.h"

#include <atomic>
#include <memory>
#include <string>

namespace tunelab {

// Runs the learning-rate range test (race/lr_range.h) on the calling thread (CPU or the
// experiment's device); never throws. The race runner calls it on its own worker thread.
Result<LrRangeResult> runLrRangeTest(const ExperimentSpec& spec, const LrRangeSettings& settings,
                                     const std::atomic<bool>* stopRequested = nullptr);

// The one event a range test started with LrRangeTest::start() reports: its curve, or why it
// could not run.
struct LrRangeEvent {
    bool ok = false;
    LrRangeResult result; // when ok
    std::string error;    // when not
};

struct LrRangeTestOptions {
    int threads = 0;  // LibTorch and OpenBLAS threads of the test's worker; 0: as they are
    int niceness = 0; // the window raises it so the GUI thread stays responsive
};

// A range test on a thread of its own: start() returns at once, the result arrives as one
// LrRangeEvent in events(), which the caller drains at its own pace. Stop is an atomic flag the
// test reads every step.
class LrRangeTest {
public:
    LrRangeTest();
    ~LrRangeTest(); // stops a running test and joins its thread

    LrRangeTest(const LrRangeTest&) = delete;
    LrRangeTest& operator=(const LrRangeTest&) = delete;

    // False while a test runs; otherwise starts one (a finished one's thread is joined first).
    bool start(const ExperimentSpec& spec, const LrRangeSettings& settings,
               const LrRangeTestOptions& options = {});
    void requestStop(); // any thread; the test stops within one step
    bool running() const;
    // True once the last started test has queued its event (and until the next start).
    bool finished() const;
    void wait(); // blocks until the test's thread ends
    EventQueue<LrRangeEvent>& events();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tunelab
