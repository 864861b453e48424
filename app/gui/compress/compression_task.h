#pragma once

#include "common/result.h"
#include "compress/compression_plan.h"
#include "compress/compression_results.h"
#include "compress/compression_runner.h"
#include "events/event_queue.h"
#include "events/run_events.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tunelab {

class RunStore;

// What a running compression plan reports: a progress line, an event of a run it trains, or its end.
struct CompressionTaskEvent {
    enum class Kind { Progress, Run, Finished };
    Kind kind = Kind::Progress;
    std::string line;                                // Progress
    RunEvent run;                                    // Run
    std::optional<Result<CompressionResult>> result; // Finished
};

// A compression plan on a thread of its own. runCompressionPlan blocks until every variant is
// trained, exported and measured; this gives it the shape of the engine's runners: the constructor
// returns at once, the worker pushes its progress lines, its runs' events and one final event with
// the result into a queue that the window drains from its timer, stop is an atomic flag set
// directly, and the destructor stops the plan and joins the thread. The store must outlive it.
class CompressionTask {
public:
    CompressionTask(CompressionPlan plan, RunStore& store, CompressionOptions options);
    ~CompressionTask();
    CompressionTask(const CompressionTask&) = delete;
    CompressionTask& operator=(const CompressionTask&) = delete;

    // Any thread: the run in progress stops and the variants after it are skipped.
    void stop() { m_stop = true; }
    bool stopRequested() const { return m_stop; }
    const CompressionPlan& plan() const { return m_plan; }

    // Everything reported since the last call, oldest first; never blocks.
    std::vector<CompressionTaskEvent> drain() { return m_events.drain(); }

private:
    void run(RunStore& store, CompressionOptions options);

    const CompressionPlan m_plan;
    std::atomic<bool> m_stop{false};
    EventQueue<CompressionTaskEvent> m_events;
    std::thread m_thread; // last: it starts once everything above exists
};

} // namespace tunelab
