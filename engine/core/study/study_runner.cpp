#include "study/study_runner.h"

#include "common/machine_limits.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/population.h"
#include "study/trial_history.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tunelab {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The epochs a trial's experiment trains for, Hyperband's largest resource.
int experimentEpochs(const StudySpec& spec) {
    const int epochs = studyEpochs(spec);
    return epochs > 0 ? epochs : 27;
}

} // namespace

std::optional<TrialRecord> bestTrial(const std::vector<TrialRecord>& trials, const ObjectiveSpec& objective) {
    std::optional<TrialRecord> best;
    for (const auto& trial : trials) {
        if (trial.state != TrialState::Complete || !std::isfinite(trial.value))
            continue;
        if (!best || isBetter(objective, trial.value, best->value))
            best = trial;
    }
    return best;
}

struct StudyRunner::Impl {
    RunStore& store;
    StudyId studyId;
    TrialObjective& objective;
    StudyRunOptions options;

    StudySpec spec;
    std::optional<SearchSpace> space;
    std::unique_ptr<Sampler> sampler;
    std::unique_ptr<Pruner> pruner;
    std::optional<PopulationPlanner> population;
    int maxEpochs = 27;

    bool hasExperiment() const { return !spec.experimentJson.empty(); }

    // What is wrong with a complete trial's values of the second and later objectives, if anything.
    std::string moreValuesProblem(const std::vector<double>& values) const {
        if (values.size() != spec.moreObjectives.size()) {
            const size_t given = values.size() + 1;
            return "the trial gave " + std::to_string(given) + (given == 1 ? " value" : " values") +
                   "; the study has " + std::to_string(spec.moreObjectives.size() + 1) + " objectives";
        }
        for (size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i]))
                return "the value of objective " + std::to_string(i + 2) + " (" +
                       objectiveLabel(spec.moreObjectives[i]) + ") is not a finite number";
        return {};
    }

    std::mutex mutex; // guards everything below and the sampler and pruner
    std::condition_variable wake;
    std::map<int64_t, TrialRecord> trials; // by number; intermediate kept current for the pruner
    int64_t readThrough = -1;              // every trial up to this number has been read from the store
    std::set<int64_t> openNumbers;         // the trials in `trials` that are running or waiting
    std::set<int64_t> retriedNumbers;      // failed attempts that a later trial retries (not counted)
    std::set<int64_t> ownNumbers;          // the trials this runner is evaluating now
    Clock::time_point lastStaleCheck;
    std::optional<TrialHistory> history; // what the sampler and the pruner see, kept with `trials`
    bool samplerExhausted = false;
    bool mustWait = false; // nextTrial() found nothing to start until a running trial finishes
    std::string endReason;
    bool storeFailed = false; // the store refused a new trial
    int64_t started = 0;
    int64_t trialsFinished = 0;
    Clock::time_point begin;

    std::atomic<bool> stopRequested{false};
    std::atomic<bool> paused{false};
    std::atomic<bool> finished{false}; // StudyFinished is queued
    bool startedOnce = false;
    std::thread thread; // the study's own thread: starts the trial workers, joins them, sums up
    EventQueue<StudyEvent> events;
    Result<StudyRunSummary> result = Result<StudyRunSummary>::failure("the study has not run");

    Impl(RunStore& store, StudyId studyId, TrialObjective& objective, StudyRunOptions options)
        : store(store)
        , studyId(studyId)
        , objective(objective)
        , options(std::move(options)) {}

    void emit(StudyEventKind kind, const TrialRecord& trial, int epoch = 0, double value = kNoValue,
              const std::string& message = {}) {
        StudyEvent event;
        event.kind = kind;
        event.trial = trial;
        event.trial.intermediate.clear();
        event.epoch = epoch;
        event.value = value;
        event.message = message;
        events.push(std::move(event));
    }

    // Reads what changed in the study's trials since the last read (new trials, and the ones that
    // were running or waiting), so that trials told or run by other processes count. Called with the
    // mutex held, before each new suggestion.
    void refreshTrials() {
        const std::vector<int64_t> open(openNumbers.begin(), openNumbers.end());
        for (auto& trial : store.trialsAfter(studyId, readThrough, open, true)) {
            readThrough = std::max(readThrough, trial.number);
            // Intermediate values are written behind the trial's back; keep the ones reported here
            // that the store has not committed yet.
            const auto known = trials.find(trial.number);
            if (known != trials.end() && known->second.state == TrialState::Running &&
                trial.state == TrialState::Running)
                trial.intermediate.insert(known->second.intermediate.begin(),
                                          known->second.intermediate.end());
            keep(std::move(trial));
        }
    }

    // Records a trial's current state for the runner, the sampler and the pruner.
    void keep(TrialRecord trial) {
        if (trial.retryOf >= 0)
            retriedNumbers.insert(trial.retryOf);
        history->update(trial);
        const int64_t number = trial.number;
        if (isFinal(trial.state))
            openNumbers.erase(number);
        else
            openNumbers.insert(number);
        trials[number] = std::move(trial);
    }

    int64_t trialBudget() const { return options.maxTrials >= 0 ? options.maxTrials : spec.budget.trials; }
    double secondsBudget() const {
        return options.maxSeconds >= 0 ? options.maxSeconds : spec.budget.seconds;
    }

    // The next trial to evaluate, claimed for this process; nullopt when the study is done.
    // Called with the mutex held.
    std::optional<TrialRecord> nextTrial() {
        failStaleTrials();
        if (auto waiting = store.claimWaitingTrial(studyId)) {
            keep(*waiting);
            return waiting;
        }
        // A suggestion is drawn for the next trial number; when another process sharing the store
        // takes that number first, the trial is suggested again for the one after.
        constexpr int kAttempts = 50;
        for (int attempt = 0; attempt < kAttempts; ++attempt) {
            refreshTrials();
            if (samplerExhausted)
                return std::nullopt;
            const int64_t number = trials.empty() ? 0 : trials.rbegin()->first + 1;
            std::optional<PopulationStep> step;
            if (population) {
                // Asked first: a population that has finished says so even when the budget is spent too.
                step = population->next(trials, number, [this](int64_t trialNumber) {
                    return sampler->suggest(*space, trialNumber, history->samplerHistory());
                });
                if (step->kind == PopulationStep::Kind::Done) {
                    samplerExhausted = true;
                    endReason = step->reason;
                    return std::nullopt;
                }
            }
            const int64_t budget = trialBudget();
            // A failed attempt that another trial retries is not a trial of its own.
            const auto counted = static_cast<int64_t>(trials.size() - retriedNumbers.size());
            if (budget > 0 && counted >= budget) {
                endReason = "the trial budget is spent (" + std::to_string(budget) + " trials)";
                return std::nullopt;
            }
            TrialLineage lineage;
            std::optional<Assignment> assignment;
            if (step) {
                if (step->kind == PopulationStep::Kind::Wait) {
                    mustWait = true;
                    return std::nullopt;
                }
                assignment = std::move(step->params);
                lineage = step->lineage;
            } else {
                assignment = sampler->suggest(*space, number, history->samplerHistory());
            }
            if (!assignment) {
                samplerExhausted = true;
                endReason = "the sampler has no points left (every grid point was tried)";
                return std::nullopt;
            }
            auto created = store.createTrialNumbered(studyId, number, *assignment, TrialState::Running,
                                                     RunStore::TrialOwner::ThisProcess, lineage);
            if (!created.ok()) {
                endReason = store.study(studyId) ? "cannot record a new trial: " + created.error()
                                                 : "the study was deleted while it ran";
                storeFailed = true;
                samplerExhausted = true;
                return std::nullopt;
            }
            if (created.value()) {
                keep(*created.value());
                return *created.value();
            }
        }
        endReason = "other processes kept taking the next trial number";
        return std::nullopt;
    }

    // How often the runner looks for trials whose worker fell silent (a quarter of the grace period,
    // at least a second): a dead worker's trial is retried within about 1.25 grace periods.
    double staleCheckSeconds() const { return std::max(1.0, spec.heartbeat.graceSeconds / 4.0); }

    // Fails and retries the trials of workers that stopped beating. Called with the mutex held.
    void failStaleTrials() {
        if (lastStaleCheck != Clock::time_point() && secondsSince(lastStaleCheck) < staleCheckSeconds())
            return;
        lastStaleCheck = Clock::now();
        const HeartbeatSettings& heartbeat = spec.heartbeat;
        if (store.failStaleTrials(studyId, heartbeat.graceSeconds, heartbeat.maxRetries,
                                  heartbeat.askGraceSeconds) > 0)
            refreshTrials();
    }

    // Whether trials of the study are open outside this runner and may still come back to it: running
    // in another worker (which may die), or waiting. A trial handed out by `ask` counts only where it
    // can go stale (heartbeat.ask_grace_seconds); otherwise its evaluator may take as long as it likes.
    bool othersHaveOpenTrials() const {
        for (const int64_t number : openNumbers) {
            if (ownNumbers.count(number))
                continue;
            const TrialRecord& trial = trials.at(number);
            if (trial.state != TrialState::Running || trial.ownedByProcess ||
                spec.heartbeat.askGraceSeconds > 0)
                return true;
        }
        return false;
    }

    bool timeIsUp() const {
        const double seconds = secondsBudget();
        return seconds > 0 && secondsSince(begin) >= seconds;
    }

    void runStudy();

    void workerLoop() {
        while (true) {
            std::optional<TrialRecord> trial;
            {
                std::unique_lock<std::mutex> lock(mutex);
                wake.wait(lock, [this] { return !paused.load() || stopRequested.load(); });
                if (stopRequested.load()) {
                    endReason = "stopped";
                    return;
                }
                if (timeIsUp()) {
                    endReason = "the time budget is spent";
                    return;
                }
                if (options.maxStarted >= 0 && started >= options.maxStarted) {
                    endReason =
                        "this run's limit of " + std::to_string(options.maxStarted) + " trials is reached";
                    return;
                }
                mustWait = false;
                trial = nextTrial();
                if (!trial && options.waitForOthers && endReason.rfind("the trial budget is spent", 0) == 0 &&
                    othersHaveOpenTrials()) {
                    // Another worker's trial may still fail (its worker dies) and come back to be
                    // retried here; the study is done when no trial is left open anywhere.
                    wake.wait_for(lock, std::chrono::duration<double>(staleCheckSeconds()),
                                  [&] { return stopRequested.load(); });
                    continue;
                }
                if (!trial && mustWait) {
                    // A population member waits for the others to catch up; a trial finished by
                    // another process sharing the store counts too, hence the timeout.
                    const int64_t finishedBefore = trialsFinished;
                    const bool woken = wake.wait_for(lock, std::chrono::milliseconds(500), [&] {
                        return trialsFinished != finishedBefore || stopRequested.load();
                    });
                    // A member another process was training when it died would hold the others
                    // back for good: such stretches go back to waiting, for a worker here to claim.
                    if (!woken)
                        store.requeueInterruptedTrials(studyId);
                    continue;
                }
                if (!trial)
                    return;
                ++started;
                ownNumbers.insert(trial->number);
            }
            const int64_t number = trial->number;
            evaluate(*trial);
            std::lock_guard<std::mutex> lock(mutex);
            ownNumbers.erase(number);
        }
    }

    class Reporter : public TrialReporter {
    public:
        Reporter(Impl& impl, TrialRecord& trial)
            : m_impl(impl)
            , m_trial(trial) {}
        bool report(int epoch, double value) override {
            m_impl.store.reportIntermediate(m_trial.id, epoch, value);
            bool prune = false;
            {
                std::lock_guard<std::mutex> lock(m_impl.mutex);
                m_impl.trials[m_trial.number].intermediate[epoch] = value;
                m_impl.history->addIntermediate(m_trial.number, epoch, value);
                // The last epoch of an experiment has nothing left to save: the trial completes.
                const bool lastEpoch = m_impl.hasExperiment() && epoch >= m_impl.maxEpochs;
                if (m_impl.pruner && !lastEpoch)
                    prune = m_impl.pruner->shouldPrune(m_trial.number, epoch, m_impl.history->prunerCurves());
            }
            m_impl.emit(StudyEventKind::TrialIntermediate, m_trial, epoch, value);
            return prune;
        }
        bool stopRequested() const override { return m_impl.stopRequested.load(); }
        bool paused() const override { return m_impl.paused.load(); }

    private:
        Impl& m_impl;
        TrialRecord& m_trial;
    };

    void evaluate(TrialRecord trial) {
        trial.state = TrialState::Running;
        emit(StudyEventKind::TrialStarted, trial);

        TrialTask task;
        task.trialId = trial.id;
        task.number = trial.number;
        task.params = trial.params;
        task.runName =
            (spec.name.empty() ? std::string("study") : spec.name) + " trial " + std::to_string(trial.number);
        std::string lineageProblem;
        if (population) {
            task.lastEpoch = population->lastEpochOf(trial);
            if (trial.parentNumber >= 0) {
                // The objective links a trial to its run in the store, behind the runner's back.
                const auto parent = store.trial(studyId, trial.parentNumber);
                task.resumeRun = parent ? parent->runId : 0;
                if (task.resumeRun == 0)
                    lineageProblem = "trial " + std::to_string(trial.parentNumber) +
                                     ", which this trial continues, has no training run (was it deleted?)";
            }
        }
        TrialOutcome outcome;
        bool evaluated = true;
        if (!lineageProblem.empty()) {
            outcome.state = TrialState::Failed;
            outcome.message = lineageProblem;
            evaluated = false;
        } else if (!spec.experimentJson.empty()) {
            auto experiment = trialExperimentJson(spec.experimentJson, trial.params);
            if (!experiment.ok()) {
                outcome.state = TrialState::Failed;
                outcome.message = "the trial's experiment is invalid: " + experiment.error();
                evaluated = false;
            } else {
                task.experimentJson = experiment.take();
            }
        }
        if (evaluated) {
            Reporter reporter(*this, trial);
            try {
                outcome = objective.evaluate(task, reporter);
            } catch (const std::exception& error) {
                outcome = TrialOutcome{};
                outcome.state = TrialState::Failed;
                outcome.message = std::string("the trial threw: ") + error.what();
            }
        }
        if (outcome.state == TrialState::Complete && !std::isfinite(outcome.value)) {
            outcome.state = TrialState::Failed;
            if (outcome.message.empty())
                outcome.message = "the objective is not a finite number";
        }
        if (outcome.state == TrialState::Complete) {
            const std::string problem = moreValuesProblem(outcome.moreValues);
            if (!problem.empty()) {
                outcome.state = TrialState::Failed;
                outcome.message = problem;
            }
        }
        if (outcome.state != TrialState::Complete)
            outcome.moreValues.clear();
        if (outcome.state == TrialState::Pruned) {
            // One rule for every trial's value: the objective's, over the epochs it trained.
            std::lock_guard<std::mutex> lock(mutex);
            const double value = objectiveOverEpochs(trials[trial.number].intermediate, spec.objective);
            if (!std::isnan(value))
                outcome.value = value;
        }
        store.flush(); // intermediate values land before the final state
        auto finishedOk = store.finishTrial(trial.id, outcome.state, outcome.value, outcome.message,
                                            outcome.prunedEpoch, outcome.moreValues);
        if (!finishedOk.ok()) {
            // The store's end stands (the trial was given up as stale while this process was cut off).
            if (auto current = store.trial(studyId, trial.number); current && isFinal(current->state)) {
                outcome.state = current->state;
                outcome.value = current->value;
                outcome.moreValues = current->moreValues;
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        TrialRecord& stored = trials[trial.number];
        stored.state = outcome.state;
        stored.value = outcome.value;
        stored.moreValues = outcome.moreValues;
        stored.message =
            finishedOk.ok() ? outcome.message : outcome.message + " (" + finishedOk.error() + ")";
        stored.prunedEpoch = outcome.prunedEpoch;
        if (isFinal(outcome.state)) {
            // The store stamps its own copy; this one is what the events carry, for durations.
            stored.finishedAt =
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            ++trialsFinished;
        }
        if (outcome.state == TrialState::Waiting)
            stored.intermediate.clear();
        keep(stored);
        emit(StudyEventKind::TrialFinished, stored);
        wake.notify_all(); // population members waiting for this one
    }
};

// The study's own thread: requeues, runs the trial workers and queues the summary last.
void StudyRunner::Impl::runStudy() {
    StudyRunSummary summary;
    summary.requeued = store.requeueInterruptedTrials(studyId);
    // Beat often enough that a live worker is never taken for a silent one.
    store.setHeartbeatInterval(std::min(5.0, spec.heartbeat.graceSeconds / 4.0));
    begin = Clock::now();
    {
        std::lock_guard<std::mutex> lock(mutex);
        refreshTrials();
    }
    const int parallel = std::max(1, options.parallel > 0 ? options.parallel : spec.parallel);
    std::vector<std::thread> workers;
    for (int i = 0; i < parallel; ++i)
        workers.emplace_back([this] { workerLoop(); });
    for (auto& worker : workers)
        worker.join();

    store.flush();
    std::vector<TrialRecord> all;
    {
        std::lock_guard<std::mutex> lock(mutex);
        refreshTrials();
        for (const auto& [number, trial] : trials)
            all.push_back(trial);
    }
    summary.trialsStarted = started;
    summary.trialsFinished = trialsFinished;
    summary.stopped = stopRequested.load();
    summary.endReason = summary.stopped ? "stopped" : endReason;
    summary.storeFailed = storeFailed && !summary.stopped;
    summary.best = bestTrial(all, spec.objective);
    result = summary;
    StudyEvent event;
    event.kind = StudyEventKind::StudyFinished;
    if (summary.best)
        event.trial = *summary.best;
    event.trial.intermediate.clear();
    event.message = summary.endReason;
    event.summary = std::move(summary);
    events.push(std::move(event));
    finished.store(true);
}

StudyRunner::StudyRunner(RunStore& store, StudyId studyId, TrialObjective& objective, StudyRunOptions options)
    : m_impl(std::make_unique<Impl>(store, studyId, objective, std::move(options))) {}

StudyRunner::~StudyRunner() {
    requestStop();
    wait();
}

void StudyRunner::requestStop() {
    m_impl->stopRequested.store(true);
    m_impl->wake.notify_all();
}

void StudyRunner::setPaused(bool paused) {
    m_impl->paused.store(paused);
    m_impl->wake.notify_all();
}

void StudyRunner::wait() {
    if (m_impl->thread.joinable())
        m_impl->thread.join();
}

bool StudyRunner::finished() const {
    return m_impl->finished.load();
}

EventQueue<StudyEvent>& StudyRunner::events() {
    return m_impl->events;
}

Result<StudyRunSummary> StudyRunner::run() {
    auto started = start();
    if (!started.ok())
        return Result<StudyRunSummary>(Errors{started.errors()});
    wait();
    return m_impl->result;
}

Result<bool> StudyRunner::start() {
    Impl& impl = *m_impl;
    if (impl.startedOnce)
        return Result<bool>::failure("the study runner has started already");
    const auto record = impl.store.study(impl.studyId);
    if (!record)
        return Result<bool>::failure("study " + std::to_string(impl.studyId) + " does not exist");
    auto parsed = parseStudySpec(record->specJson);
    if (!parsed.ok())
        return Result<bool>::failure("study " + record->name + ": " + parsed.error());
    impl.spec = parsed.take();
    impl.history.emplace(studyObjectives(impl.spec));
    if (impl.spec.name.empty())
        impl.spec.name = record->name;
    auto space = parseSearchSpace(impl.spec.spaceJson);
    if (!space.ok())
        return Result<bool>::failure("study " + record->name + ": " + space.error());
    impl.space = space.take();
    auto sampler = makeSampler(impl.spec.sampler, *impl.space);
    if (!sampler.ok())
        return Result<bool>::failure("study " + record->name + ": " + sampler.error());
    impl.sampler = sampler.take();
    impl.maxEpochs = experimentEpochs(impl.spec);
    auto pruner = makePruner(impl.spec.pruner, impl.maxEpochs);
    if (!pruner.ok())
        return Result<bool>::failure("study " + record->name + ": " + pruner.error());
    impl.pruner = pruner.take();
    if (isPopulationStudy(impl.spec))
        impl.population.emplace(impl.spec.population, *impl.space, impl.spec.objective, impl.maxEpochs,
                                impl.spec.sampler.seed);
    const int parallel = impl.options.parallel > 0 ? impl.options.parallel : impl.spec.parallel;
    if (const std::string problem = parallelProblem(parallel, impl.options.forceParallel); !problem.empty())
        return Result<bool>::failure("study " + record->name + ": " + problem);
    impl.startedOnce = true;
    impl.thread = std::thread([&impl] { impl.runStudy(); });
    return true;
}

} // namespace tunelab
