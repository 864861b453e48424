#pragma once

#include "common/result.h"
#include "events/event_queue.h"
#include "study/study.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace tunelab {

class RunStore;

// What an objective reports while it evaluates one trial.
class TrialReporter {
public:
    virtual ~TrialReporter() = default;
    // Records the objective's value after `epoch` (1-based, as measured: not negated). Returns true
    // when the pruner says the trial should stop; the objective then stops and returns Pruned.
    virtual bool report(int epoch, double value) = 0;
    // The study is stopping: the objective should stop as soon as it can and return Waiting.
    virtual bool stopRequested() const = 0;
    virtual bool paused() const = 0;
};

struct TrialOutcome {
    TrialState state = TrialState::Failed; // Complete, Pruned, Failed, or Waiting when stopped
    double value = kNoValue;               // as measured (not negated); for Pruned the last reported
    std::vector<double> moreValues;        // the study's second and later objectives, when it has them
    std::string message;
    int prunedEpoch = 0;
};

struct TrialTask {
    int64_t trialId = 0;
    int64_t number = 0;
    Assignment params;
    std::string experimentJson; // the base experiment with the parameters applied; empty if none
    std::string runName;        // "<study> trial <number>", for the training run (its id shows as #id)
    // Population-based training: continue the training of this run (from its checkpoint) rather than
    // start from scratch, and stop after `lastEpoch` (0: the experiment's epochs).
    RunId resumeRun = 0;
    int lastEpoch = 0;
};

// Evaluates trials; called from the runner's worker threads, one call per trial, concurrently.
class TrialObjective {
public:
    virtual ~TrialObjective() = default;
    virtual TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) = 0;
};

struct StudyRunOptions {
    int parallel = 0;           // 0: the study's own setting
    int64_t maxTrials = -1;     // -1: the study's budget
    double maxSeconds = -1.0;   // -1: the study's budget
    bool forceParallel = false; // past kParallelPerCore trials per core (common/machine_limits.h)
    int64_t maxStarted = -1;    // at most this many trials evaluated by this run (-1: no limit)
    // A worker sharing the study with others: once the budget is spent it waits while other workers'
    // trials are open, and retries the ones whose worker fell silent, so no trial is left behind.
    bool waitForOthers = false;
};

struct StudyRunSummary {
    int64_t trialsStarted = 0; // in this call
    int64_t trialsFinished = 0;
    int64_t requeued = 0; // interrupted trials found running and re-queued first
    bool stopped = false; // requestStop() ended it
    std::string endReason;
    // Set when the study could not go on because its store refused a new trial (the study was deleted
    // meanwhile, the disk is full): endReason says why. The callers' exit codes tell it from a budget spent.
    bool storeFailed = false;
    std::optional<TrialRecord> best;
};

enum class StudyEventKind { TrialStarted, TrialIntermediate, TrialFinished, StudyFinished };

// What a running study reports, in order; StudyFinished comes once, last, with the summary.
struct StudyEvent {
    StudyEventKind kind = StudyEventKind::TrialStarted;
    TrialRecord trial; // the trial as it stands after the event (intermediate not filled)
    int epoch = 0;     // TrialIntermediate
    double value = kNoValue;
    std::string message;     // StudyFinished: why it ended (budget, time, stopped, sampler exhausted)
    StudyRunSummary summary; // StudyFinished
};

// Runs a stored study until its budget is spent: re-queues trials whose process died, then runs
// waiting trials and new ones from the sampler, `parallel` at a time. Failing trials are recorded
// and the study goes on. The budget counts every trial the study has (so `resume` finishes the
// original budget) and the wall time of this call.
//
// start() returns at once: the runner owns the study's threads, and its events go to events(),
// which the caller drains at its own pace (the window from its GUI timer, the CLI from its main
// thread). Stop and pause are atomic flags; the destructor stops the study and joins its threads.
class StudyRunner {
public:
    StudyRunner(RunStore& store, StudyId studyId, TrialObjective& objective, StudyRunOptions options = {});
    ~StudyRunner();

    StudyRunner(const StudyRunner&) = delete;
    StudyRunner& operator=(const StudyRunner&) = delete;

    // Reads the study and starts its threads; an unreadable study is an error and starts nothing.
    // A runner starts once.
    Result<bool> start();
    // start() and wait(): the summary once the study ended. For callers that want to block (tests,
    // a study inside another objective).
    Result<StudyRunSummary> run();
    void wait();                 // blocks until the study's threads ended
    bool finished() const;       // the StudyFinished event is queued
    void requestStop();          // any thread: running trials stop and go back to waiting
    void setPaused(bool paused); // any thread: no new trials start; running ones pause
    EventQueue<StudyEvent>& events();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The best finished trial of a study under its objective (complete trials only).
std::optional<TrialRecord> bestTrial(const std::vector<TrialRecord>& trials, const ObjectiveSpec& objective);

} // namespace tunelab
