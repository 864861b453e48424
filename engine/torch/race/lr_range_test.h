#pragma once

#include "common/result.h"
#include "race/lr_range.h"
#include "spec/spec.h"

#include <atomic>
#include <vector>

namespace tunelab {

// Runs the learning-rate range test (race/lr_range.h) on the calling thread (CPU or the experiment's device);
// never throws.
Result<LrRangeResult> runLrRangeTest(const ExperimentSpec& spec, const LrRangeSettings& settings,
                                     const std::atomic<bool>* stopRequested = nullptr);

} // namespace tunelab
