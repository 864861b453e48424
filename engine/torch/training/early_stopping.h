#pragma once

#include "events/run_events.h"
#include "spec/spec.h"

#include <string>

namespace tunelab {

// Follows a run's monitored metric epoch by epoch: the best epoch so far, and when early stopping
// (training.early_stopping) ends the run. Without early stopping it still finds the best epoch, on
// the validation loss (or the training loss without a validation split).
class EarlyStoppingWatch {
public:
    EarlyStoppingWatch(const TrainingSpec& training, bool hasValidation);

    // Takes the epoch's record; returns why the run ends after it, or "" to go on.
    std::string afterEpoch(const EpochRecord& record);
    int bestEpoch() const { return m_bestEpoch; }

private:
    EarlyStoppingSpec m_early;
    int m_epochs = 0;
    MetricKind m_monitored = MetricKind::ValLoss;
    double m_best = kNoValue;
    int m_bestEpoch = 0;
    int m_epochsWithoutImprovement = 0;
};

} // namespace tunelab
