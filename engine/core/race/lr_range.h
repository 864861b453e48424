#pragma once

#include "events/run_events.h"

#include <string>
#include <vector>

namespace tunelab {

// The range of a learning-rate range test (and of the one a race runs per set-up first when
// fairLearningRates is on).
struct LrRangeSettings {
    double minLr = 1e-6;
    double maxLr = 1.0;
    int steps = 200;
};

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

// The suggestion alone, from recorded points (also used by tests on synthetic curves).
double suggestLearningRate(const std::vector<LrRangePoint>& points);

} // namespace tunelab
