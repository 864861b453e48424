#pragma once

#include "study/study_runner.h"
#include "training/run_manager.h"

namespace tunelab {

class RunStore;

// Evaluates a trial by training its experiment on the calling thread. The run is recorded in the
// store and linked to the trial; every epoch reports the objective's metric to the pruner, and a
// prune or a study stop ends the run within one step. Events go to `forward` too (a window's
// queue) when given. Objectives are scored by their metric: an epoch's value, the training seconds
// up to that epoch ("train_seconds"), or the network's trainable parameters ("parameters").
class ExperimentObjective : public TrialObjective {
public:
    ExperimentObjective(RunStore& store, ObjectiveSpec objective, RunOptions options = {},
                        RunEventSink* forward = nullptr);
    // The study's second and later objectives, scored from the same run.
    void setMoreObjectives(std::vector<ObjectiveSpec> objectives) {
        m_moreObjectives = std::move(objectives);
    }
    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override;

private:
    RunStore& m_store;
    ObjectiveSpec m_objective;
    std::vector<ObjectiveSpec> m_moreObjectives;
    RunOptions m_options;
    RunEventSink* m_forward;
};

} // namespace tunelab
