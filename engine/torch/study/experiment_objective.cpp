#include "study/experiment_objective.h"

#include "spec/spec.h"
#include "store/run_store.h"
#include "training/trainer.h"

#include <cmath>

namespace tunelab {

namespace {

// Passes a trial's run events on to the store (and a window's queue), scores each epoch for the
// pruner, and turns a prune or a study stop into the run's stop flag. Called on the trial's thread.
class TrialRunSink : public RunEventSink {
public:
    TrialRunSink(RunStore& store, RunEventSink* forward, const ObjectiveSpec& objective,
                 TrialReporter& reporter, RunControl& control)
        : m_store(store)
        , m_forward(forward)
        , m_objective(objective)
        , m_reporter(reporter)
        , m_control(control) {}

    void onRunEvent(const RunEvent& event) override {
        m_store.onRunEvent(event);
        if (m_forward)
            m_forward->onRunEvent(event);
        if (m_reporter.stopRequested()) {
            m_stoppedByStudy = true;
            m_control.stopRequested.store(true);
        }
        m_control.paused.store(m_reporter.paused());
        if (event.kind != RunEventKind::Epoch || m_pruned)
            return;
        const double value = epochMetric(event.epoch, m_objective.metric);
        if (std::isnan(value))
            return;
        m_last = value;
        if (!std::isfinite(m_best) || isBetter(m_objective, value, m_best))
            m_best = value;
        if (m_reporter.report(event.epoch.epoch, value)) {
            m_pruned = true;
            m_prunedEpoch = event.epoch.epoch;
            m_control.prunedAfterEpoch.store(m_prunedEpoch);
            m_control.stopRequested.store(true);
        }
    }

    bool pruned() const { return m_pruned; }
    bool stoppedByStudy() const { return m_stoppedByStudy && !m_pruned; }
    int prunedEpoch() const { return m_prunedEpoch; }
    double last() const { return m_last; }
    double best() const { return m_best; }

private:
    RunStore& m_store;
    RunEventSink* m_forward;
    const ObjectiveSpec& m_objective;
    TrialReporter& m_reporter;
    RunControl& m_control;
    bool m_pruned = false;
    bool m_stoppedByStudy = false;
    int m_prunedEpoch = 0;
    double m_last = kNoValue;
    double m_best = kNoValue;
};

} // namespace

ExperimentObjective::ExperimentObjective(RunStore& store, ObjectiveSpec objective, RunOptions options,
                                         RunEventSink* forward)
    : m_store(store)
    , m_objective(std::move(objective))
    , m_options(std::move(options))
    , m_forward(forward) {}

TrialOutcome ExperimentObjective::evaluate(const TrialTask& task, TrialReporter& reporter) {
    TrialOutcome outcome;
    auto parsed = parseExperimentSpec(task.experimentJson);
    if (!parsed.ok()) {
        outcome.state = TrialState::Failed;
        outcome.message = "the trial's experiment is invalid: " + parsed.error();
        return outcome;
    }
    ExperimentSpec spec = parsed.take();
    if (!task.runName.empty())
        spec.name = task.runName;
    if (!m_options.device.empty())
        spec.device = m_options.device;

    auto created = m_store.createRun(spec.name, experimentSpecToJson(spec));
    if (!created.ok()) {
        outcome.state = TrialState::Failed;
        outcome.message = "cannot record the trial's run: " + created.error();
        return outcome;
    }
    const RunId runId = created.value();
    m_store.setTrialRun(task.trialId, runId);

    RunControl control;
    TrialRunSink sink(m_store, m_forward, m_objective, reporter, control);
    const RunSummary summary = trainExperiment(runId, spec, m_options, control, sink);

    if (sink.pruned()) {
        outcome.state = TrialState::Pruned;
        outcome.value = sink.last();
        outcome.prunedEpoch = sink.prunedEpoch();
        outcome.message = "pruned after epoch " + std::to_string(sink.prunedEpoch());
        return outcome;
    }
    if (sink.stoppedByStudy() && summary.status == RunStatus::Stopped) {
        outcome.state = TrialState::Waiting;
        outcome.message = "stopped with the study at epoch " + std::to_string(summary.epochs) + "; re-queued";
        return outcome;
    }
    switch (summary.status) {
    case RunStatus::Completed:
    case RunStatus::Stopped:
    case RunStatus::Pruned: {
        outcome.value = m_objective.at == ObjectiveAt::Best ? sink.best() : sink.last();
        if (std::isfinite(outcome.value)) {
            outcome.state = TrialState::Complete;
        } else {
            outcome.state = TrialState::Failed;
            outcome.message = "the run recorded no " + m_objective.metric;
        }
        return outcome;
    }
    case RunStatus::Diverged:
        outcome.state = TrialState::Failed;
        outcome.message = "diverged: " + summary.message;
        return outcome;
    default:
        outcome.state = TrialState::Failed;
        outcome.message = summary.message.empty() ? "the run failed" : summary.message;
        return outcome;
    }
}

} // namespace tunelab
