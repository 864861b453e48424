#pragma once

#include "common/result.h"
#include "compress/compression_plan.h"
#include "compress/compression_results.h"
#include "events/run_events.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tunelab {

class RunStore;

struct CompressionOptions {
    std::string outputDirectory; // exported files and structured pruning's starting weights
    std::string device;          // for training (overrides the experiments'); latency is always CPU
    int trainingThreads = 1;
    // Called on the caller's thread with every event of every run it trains, and with a line per step.
    std::function<void(const RunEvent&)> onRunEvent;
    std::function<void(const std::string&)> onProgress;
    const std::atomic<bool>* stop = nullptr; // set to stop the run in progress and skip the rest
};

// Runs a plan against `store`: trains the source first when the plan names an experiment, checks
// every variant before anything trains (a missing run, a layer that cannot be pruned, a student of
// another output size: refused naming the variant, nothing stored), then makes, trains, exports and
// measures each variant in turn. A variant that fails is reported with its message; the others go on.
Result<CompressionResult> runCompressionPlan(const CompressionPlan& plan, RunStore& store,
                                             const CompressionOptions& options);

} // namespace tunelab
