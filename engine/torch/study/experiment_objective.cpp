#include "study/experiment_objective.h"

#include "spec/spec.h"
#include "store/run_store.h"
#include "training/run_manager.h"
#include "training/trainer.h"

#include <cmath>
#include <map>

namespace tunelab {

namespace {

// One objective's value at each epoch of the run, by its metric. "parameters" does not change from
// epoch to epoch: it comes from the run's summary.
class EpochScores {
public:
    explicit EpochScores(const ObjectiveSpec& objective)
        : m_objective(objective) {}

    // The objective's value after this epoch (NaN when the epoch lacks it).
    double lastValue() const { return m_values.empty() ? kNoValue : m_values.rbegin()->second; }

    double add(const EpochRecord& epoch) {
        m_seconds += epoch.seconds;
        const double value =
            m_objective.metric == "train_seconds" ? m_seconds : epochMetric(epoch, m_objective.metric);
        if (!std::isnan(value))
            m_values[epoch.epoch] = value;
        return value;
    }

    // The objective's value of the whole run, under its rule (best or last epoch).
    double score(const RunSummary& summary) const {
        if (m_objective.metric == "parameters")
            return summary.parameters > 0 ? static_cast<double>(summary.parameters) : kNoValue;
        return objectiveOverEpochs(m_values, m_objective);
    }

private:
    const ObjectiveSpec& m_objective;
    std::map<int, double> m_values;
    double m_seconds = 0.0;
};

// Passes a trial's run events on to the store (and a window's queue), scores each epoch for the
// pruner, and turns a prune or a study stop into the run's stop flag. Called on the trial's thread.
class TrialRunSink : public RunEventSink {
public:
    TrialRunSink(RunStore& store, RunEventSink* forward, const ObjectiveSpec& objective,
                 const std::vector<ObjectiveSpec>& moreObjectives, TrialReporter& reporter,
                 RunControl& control)
        : m_store(store)
        , m_forward(forward)
        , m_objective(objective)
        , m_scores(objective)
        , m_reporter(reporter)
        , m_control(control) {
        for (const ObjectiveSpec& more : moreObjectives)
            m_moreScores.emplace_back(more);
    }

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
        for (EpochScores& more : m_moreScores)
            more.add(event.epoch);
        const double value = m_scores.add(event.epoch);
        if (std::isnan(value))
            return;
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
    double lastReported() const { return m_scores.lastValue(); }
    double score(const RunSummary& summary) const { return m_scores.score(summary); }
    std::vector<double> moreScores(const RunSummary& summary) const {
        std::vector<double> values;
        for (const EpochScores& more : m_moreScores)
            values.push_back(more.score(summary));
        return values;
    }

private:
    RunStore& m_store;
    RunEventSink* m_forward;
    const ObjectiveSpec& m_objective;
    EpochScores m_scores;
    std::vector<EpochScores> m_moreScores;
    TrialReporter& m_reporter;
    RunControl& m_control;
    bool m_pruned = false;
    bool m_stoppedByStudy = false;
    int m_prunedEpoch = 0;
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

    RunOptions options = m_options;
    RunOrigin origin;
    if (task.resumeRun > 0) {
        auto checkpoint = m_store.checkpoint(task.resumeRun);
        if (!checkpoint) {
            outcome.state = TrialState::Failed;
            outcome.message = "run #" + std::to_string(task.resumeRun) +
                              ", which this trial continues, kept no checkpoint to continue from";
            return outcome;
        }
        origin = RunOrigin{task.resumeRun, checkpoint->epoch};
        options.resumeFrom = std::make_shared<const TrainingCheckpoint>(std::move(*checkpoint));
    }
    options.lastEpoch = task.lastEpoch;
    if (std::string problem = readStoredInputs(&m_store, spec, options); !problem.empty()) {
        outcome.state = TrialState::Failed;
        outcome.message = problem;
        return outcome;
    }
    auto created = m_store.createRun(spec.name, experimentSpecToJson(spec), origin);
    if (!created.ok()) {
        outcome.state = TrialState::Failed;
        outcome.message = "cannot record the trial's run: " + created.error();
        return outcome;
    }
    const RunId runId = created.value();
    m_store.setTrialRun(task.trialId, runId);

    RunControl control;
    TrialRunSink sink(m_store, m_forward, m_objective, m_moreObjectives, reporter, control);
    const RunSummary summary = trainExperiment(runId, spec, options, control, sink);

    if (sink.pruned()) {
        outcome.state = TrialState::Pruned;
        outcome.value = sink.lastReported();
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
        outcome.value = sink.score(summary);
        outcome.moreValues = sink.moreScores(summary);
        if (!std::isfinite(outcome.value)) {
            outcome.state = TrialState::Failed;
            outcome.message = "the run recorded no " + m_objective.metric;
            return outcome;
        }
        for (size_t i = 0; i < outcome.moreValues.size(); ++i) {
            if (!std::isfinite(outcome.moreValues[i])) {
                outcome.state = TrialState::Failed;
                outcome.message = "the run recorded no " + m_moreObjectives[i].metric;
                return outcome;
            }
        }
        outcome.state = TrialState::Complete;
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
