#pragma once

#include "engine/race.h"
#include "engine/result.h"
#include "engine/spec.h"

#include <atomic>
#include <vector>

namespace tunelab {

// The learning-rate range test: a short run whose learning rate grows exponentially from minLr to
// maxLr over `steps` steps (fresh weights from the experiment's seed), recording the loss at each
// rate. It stops early once the smoothed loss exceeds four times its minimum (the blow-up).
struct LrRangePoint {
    double learningRate = 0.0;
    double loss = 0.0;         // the step's training loss
    double smoothedLoss = 0.0; // exponentially smoothed (0.98), bias-corrected
};

struct LrRangeResult {
    std::vector<LrRangePoint> points;
    // Where the smoothed loss falls fastest per log learning rate, before the blow-up; NaN when the
    // loss never fell.
    double suggestedLearningRate = kNoValue;
    bool blewUp = false;
    std::string message;
};

// Runs on the calling thread (CPU or the experiment's device); never throws.
Result<LrRangeResult> runLrRangeTest(const ExperimentSpec& spec, const LrRangeSettings& settings,
                                     const std::atomic<bool>* stopRequested = nullptr);
// The suggestion alone, from recorded points (also used by tests on synthetic curves).
double suggestLearningRate(const std::vector<LrRangePoint>& points);

} // namespace tunelab
