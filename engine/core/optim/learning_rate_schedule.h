#pragma once

#include "spec/spec.h"

#include <cstdint>

namespace tunelab {

// The learning rate for every optimizer step: an optional linear warm-up, then the schedule.
// Plain arithmetic, so it is exact and testable without tensors. Not thread-safe; one per run.
class LearningRateSchedule {
public:
    LearningRateSchedule(const ScheduleSpec& spec, double baseLr, int epochs, int64_t stepsPerEpoch);

    // `step` is 0-based over the whole run; `epoch` is the 0-based epoch it belongs to.
    double learningRate(int64_t step, int epoch) const;

    // Reduce-on-plateau listens to the epoch's monitored loss (lower is better); others ignore it.
    void epochEnded(double monitoredLoss);

private:
    ScheduleSpec m_spec;
    double m_baseLr;
    int m_epochs;
    int64_t m_stepsPerEpoch;
    int64_t m_warmupSteps;
    double m_plateauScale = 1.0;
    double m_bestLoss;
    int m_badEpochs = 0;
};

} // namespace tunelab
