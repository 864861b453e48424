#pragma once

#include "engine/run_events.h"
#include "engine/run_manager.h"
#include "engine/spec.h"

#include <atomic>

namespace tunelab {

// Control flags a caller on another thread sets directly; the training loop reads them every step.
struct RunControl {
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> paused{false};
};

// Trains one experiment on the calling thread: loads the data, checks the shapes, trains, and
// reports everything through `sink` (Started, Steps, Epoch, then exactly one Finished). Never
// throws: LibTorch and data errors become a failed Finished event with a readable message.
RunSummary trainExperiment(RunId id, const ExperimentSpec& spec, const RunOptions& options,
                           RunControl& control, RunEventSink& sink);

} // namespace tunelab
