#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "store/lost_writes.h"
#include "store/study_records.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tunelab {

struct RunRecord {
    RunId id = 0;
    std::string name;
    RunStatus status = RunStatus::Queued;
    std::string specJson; // the resolved spec
    std::string device;
    double createdAt = 0.0; // unix seconds
    double startedAt = 0.0;
    double finishedAt = 0.0;
    RunSummary summary; // final numbers; status mirrors `status`
    std::string error;
    bool hasModel = false;
    std::vector<std::string> tags; // the user's, in the order given
    std::string note;              // the user's; may hold several lines
    // A run that continues another one's training (a fork): that run, and the epoch after which it
    // continued (its first epoch is parentEpoch + 1). 0 for a run trained from scratch.
    RunId parentRun = 0;
    int32_t parentEpoch = 0;
    bool hasCheckpoint = false; // it can be continued (checkpoint())
};

// An export of a run's model (schema 7) and its check: the file read back and run on `checkedRows`
// rows, its outputs at most `maxAbsDifference` from the model's.
struct ExportRecord {
    std::string format; // "torchscript", "state-dict"
    std::string path;
    int64_t bytes = 0;
    int64_t checkedRows = 0;
    double maxAbsDifference = kNoValue;
    double exportedAt = 0.0; // unix seconds; set by recordExport
};

// Where a new run's training continues from (RunRecord::parentRun, parentEpoch).
struct RunOrigin {
    RunId parentRun = 0;
    int32_t parentEpoch = 0;
};

// The run store: one SQLite file in WAL mode, or a database on a PostgreSQL server that many hosts
// share (store_location.h says how each is named). Writes go through one writer thread that commits
// in batched transactions; reads use their own connection. Committed data survives a killed
// process; runs left running by a process that no longer exists read as interrupted.
class RunStore : public RunEventSink {
public:
    static constexpr int kSchemaVersion = 8;

    // Opens (creating folders, the file and the schema as needed) and migrates an older schema.
    // `location`: a file path, sqlite:///path, or postgresql://user@host:port/database.
    static Result<std::unique_ptr<RunStore>> open(const std::string& location);
    // For commands that only read: creates nothing, writes nothing (not even marking runs whose
    // process died; reads report them as interrupted anyway) and starts no writer thread. Fails
    // when there is no file. A file with an older schema is opened with open(), which migrates it.
    // Writes through a store opened so fail (createRun, commitOperation) or are dropped.
    static Result<std::unique_ptr<RunStore>> openForReading(const std::string& location);
    // SQLite's full integrity check of the file (at most 100 findings) and TuneLab's table check,
    // through a read-only connection: an empty list when the store is sound. Fails when the file
    // cannot be read as a store at all.
    // On a server: TuneLab's table check only (the server keeps its own files sound).
    static Result<std::vector<std::string>> checkFile(const std::string& location);
    // $TUNELAB_DB, else $XDG_DATA_HOME/tunelab/runs.sqlite, else ~/.local/share/tunelab/runs.sqlite.
    static std::string defaultPath();

    ~RunStore() override; // commits everything queued, then closes

    // The file, or the server's URL without its password.
    const std::string& path() const;
    // Where it was opened from, as given (a server URL with its password): to open it again.
    const std::string& location() const;

    // Inserts a queued run and returns its id (blocks until the row is committed). Any thread.
    Result<RunId> createRun(const std::string& name, const std::string& resolvedSpecJson,
                            const RunOrigin& origin = {});
    // Queues the event for the writer thread; never blocks on disk. Any thread.
    void onRunEvent(const RunEvent& event) override;
    // Blocks until everything queued before the call is committed. Any thread, but not the GUI
    // thread: another process can hold the file's write lock for as long as it likes.
    void flush();
    // Returns at once; `done` is called on the writer thread once everything queued before the
    // call is committed (or failed), so it must be quick and thread-safe (push to a queue).
    void flushAsync(std::function<void()> done);
    // Deletes a finished run with its metrics and model; returns once committed. Any thread.
    void deleteRun(RunId id);
    // The same, queued for the writer's next transaction; returns at once (the GUI thread's way).
    void deleteRunQueued(RunId id);

    // What the writer could not save since the store was opened (the disk is full, an I/O error,
    // the file was made read-only), one entry per run and kind of update, in the order it happened.
    // Complete for everything queued before the last flush(). Any thread.
    std::vector<LostWrite> lostWrites() const;
    // describeLostWrites(path(), lostWrites()): empty when everything was saved.
    std::string lostWritesReport() const;
    // Called on the writer thread after it lost writes (quick and thread-safe: post, do not wait);
    // once a call with nullptr returns, the old handler is not running and will not run again.
    void setLostWriteHandler(std::function<void()> handler);

    // Reads (any thread; they see what is committed).
    std::vector<RunRecord> listRuns() const;
    std::optional<RunRecord> run(RunId id) const;
    std::vector<StepRecord> steps(RunId id) const;
    int64_t stepCount(RunId id) const;
    // The lowest validation loss of every run that has one, in one query.
    std::vector<std::pair<RunId, double>> bestValidationLosses() const;
    std::vector<EpochRecord> epochs(RunId id) const;
    std::vector<char> model(RunId id) const;
    // The run's latest checkpoint (schema 7): the one its Finished event carried, or the latest an
    // Epoch event carried while it runs. nullopt when it has none.
    std::optional<TrainingCheckpoint> checkpoint(RunId id) const;
    // The run's exports, oldest first; recordExport adds one (committed before it returns).
    std::vector<ExportRecord> exports(RunId id) const;
    Result<bool> recordExport(RunId id, const ExportRecord& record);
    int schemaVersion() const;

    // Gradient health (schema 3), written with the Steps and Epoch events that carry it.
    // Samples ordered by step, then layer; a NaN norm reads back as NaN.
    std::vector<LayerHealthSample> layerHealth(RunId id) const;
    // Ordered by epoch, then layer.
    std::vector<WeightHistogram> weightHistograms(RunId id) const;

    // Studies (schema 2). Trial writes are committed before they return, so several processes
    // (parallel `ask`, several `study run` on one file) never hand out one trial number twice.

    // Fails when a study with that name exists.
    Result<StudyId> createStudy(const std::string& name, const std::string& studySpecJson);
    std::vector<StudyRecord> listStudies() const;
    std::optional<StudyRecord> study(StudyId id) const;
    std::optional<StudyRecord> findStudy(const std::string& name) const;
    // The rule for a new study's name: `base` ("study" when empty) while no study has it, else the
    // first free one of base-2, base-3, ... Another process may still take it first: createStudy()
    // fails then.
    std::string freeStudyName(const std::string& base) const;
    // A run's tags and note, as the user wrote them; fails, naming why, for a run that does not
    // exist or a tag runTagProblem() refuses (nothing is written then).
    Result<bool> setRunTags(RunId id, const std::vector<std::string>& tags);
    Result<bool> setRunNote(RunId id, const std::string& note);
    // "" when `tag` may tag a run, else why not: empty, longer than 64 bytes, a comma (the separator
    // the window and the CLI read tags with) or a control character.
    static std::string runTagProblem(const std::string& tag);

    // Deletes the study and its trials; their training runs stay in the runs list. Fails, naming the
    // store and why, when the deletion could not be committed (a full disk, a lost server).
    Result<bool> deleteStudy(StudyId id);
    // Replaces a study's spec (a raised budget) when it still reads `expectedJson`; fails, naming
    // why, when the study is gone or another process changed it since it was read.
    Result<bool> updateStudySpec(StudyId id, const std::string& expectedJson,
                                 const std::string& studySpecJson);

    // Who evaluates a running trial. A trial owned by this process goes back to waiting when the
    // process dies (requeueInterruptedTrials); one handed out to an outside evaluator (ask/tell)
    // has no owner and stays running until it is told, however many processes come and go.
    enum class TrialOwner { ThisProcess, Outside };
    // Adds trial number max+1 with these parameters in `state` (Running: owned as `owner` says).
    Result<TrialRecord> createTrial(StudyId studyId, const Assignment& params,
                                    TrialState state = TrialState::Running,
                                    TrialOwner owner = TrialOwner::ThisProcess,
                                    const TrialLineage& lineage = {});
    // Adds the trial only as number `number`, the one its parameters were suggested for: when
    // another process added that number first, adds nothing and gives nullopt (suggest again).
    Result<std::optional<TrialRecord>> createTrialNumbered(StudyId studyId, int64_t number,
                                                           const Assignment& params,
                                                           TrialState state = TrialState::Running,
                                                           TrialOwner owner = TrialOwner::ThisProcess,
                                                           const TrialLineage& lineage = {});
    // Takes the lowest-numbered waiting trial and marks it running, owned as `owner` says.
    std::optional<TrialRecord> claimWaitingTrial(StudyId studyId, TrialOwner owner = TrialOwner::ThisProcess);
    Result<bool> setTrialRun(int64_t trialId, RunId runId);
    // Queued like metrics (not committed on return); flush() commits.
    void reportIntermediate(int64_t trialId, int epoch, double value);
    // Sets a final state (or Waiting, to re-queue a trial the user stopped). Committed on return.
    // `moreValues`: the second and later objectives' values of a study with several.
    Result<bool> finishTrial(int64_t trialId, TrialState state, double value, const std::string& message,
                             int prunedEpoch = 0, const std::vector<double>& moreValues = {});
    // Trials that are running but whose process is gone become waiting again, with a message;
    // returns how many. Called by `study run`/`resume` and by opening the study in the window.
    int requeueInterruptedTrials(StudyId studyId);

    // Heartbeats. While this process has runs or trials, the writer marks them alive every
    // `seconds` (5 by default); setHeartbeatInterval only ever shortens the interval, so the most
    // demanding study sharing the store is served.
    void setHeartbeatInterval(double seconds);
    double heartbeatInterval() const;
    // Marks a running trial alive: an outside evaluator's beat (`tunelab-cli heartbeat`); fails for a
    // trial that is not running.
    Result<bool> beatTrial(StudyId studyId, int64_t number);
    // Fails the study's running trials whose last beat is older than `graceSeconds` (a trial handed
    // out by `ask`: older than `askGraceSeconds`, never when 0), keeping their intermediate values,
    // marks their runs interrupted, and adds a waiting retry of each with the same parameters while
    // it has been retried fewer than `maxRetries` times. Trials of this process are never stale.
    // Returns how many it failed.
    int failStaleTrials(StudyId studyId, double graceSeconds, int maxRetries, double askGraceSeconds = 0.0);

    std::vector<TrialRecord> trials(StudyId studyId, bool withIntermediate = false) const;
    // What may have changed since a reader saw every trial up to `afterNumber`: the trials numbered
    // above it, every running or waiting trial, and the trials numbered in `alsoNumbers` (the ones the
    // reader last saw running or waiting). A finished trial never changes again (`tell` refuses a
    // second value), so a reader that keeps what it read stays current at the cost of what changed.
    std::vector<TrialRecord> trialsAfter(StudyId studyId, int64_t afterNumber,
                                         const std::vector<int64_t>& alsoNumbers,
                                         bool withIntermediate = false) const;
    std::optional<TrialRecord> trial(StudyId studyId, int64_t number) const;
    int64_t trialCount(StudyId studyId) const;

private:
    struct Impl;
    explicit RunStore(std::unique_ptr<Impl> impl);
    // open() and openForReading() of a postgresql:// location; checkFile() of one.
    static Result<std::unique_ptr<RunStore>> openServer(const std::string& url, bool forReading);
    static Result<std::vector<std::string>> checkServer(const std::string& url);
    // createTrial with expectedNumber < 0, createTrialNumbered otherwise.
    Result<std::optional<TrialRecord>> addTrial(StudyId studyId, int64_t expectedNumber,
                                                const Assignment& params, TrialState state, TrialOwner owner,
                                                const TrialLineage& lineage);
    // Sets one text column of a run, committed before it returns.
    Result<bool> updateRunText(RunId id, const char* column, const std::string& text);
    std::unique_ptr<Impl> m_impl;
};

} // namespace tunelab
