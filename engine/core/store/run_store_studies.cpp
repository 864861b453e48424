// The run store's studies and trials (schema 2). Trial writes go through the writer thread as
// operations: each runs inside the writer's BEGIN IMMEDIATE transaction, which holds the file's
// write lock, so a trial number read and inserted there is unique across processes. Because the
// writer commits in queue order, intermediate values reported before a trial is finished are
// committed no later than the finish.

#include "store/run_store.h"

#include "store/run_store_impl.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace tunelab {

namespace {

using sql::Statement;
using sql::textOrNull;

std::string requeuedMessage(int64_t pid, const std::string& host) {
    return "re-queued: the process that ran it (pid " + std::to_string(pid) + " on " + host +
           ") ended before it finished";
}

// A list of values as JSON (NaN as null), as the trial reads read it back.
std::string valuesToJson(const std::vector<double>& values) {
    nlohmann::json list = nlohmann::json::array();
    for (const double value : values)
        list.push_back(std::isfinite(value) ? nlohmann::json(value) : nlohmann::json());
    return list.dump();
}

StudyRecord readStudy(const Statement& row) {
    StudyRecord study;
    study.id = row.integer(0);
    study.name = row.text(1);
    study.specJson = row.text(2);
    study.createdAt = row.real(3, 0.0);
    return study;
}

// The assignment as one JSON object, kept beside trial_params for tools that read the file.
std::string assignmentJson(const Assignment& params) {
    std::string json = "{";
    for (const auto& [name, value] : params) {
        if (json.size() > 1)
            json += ", ";
        json += nlohmann::json(name).dump() + ": " + value.json;
    }
    return json + "}";
}

std::string changedOrMissing(sql::Connection& db, const Statement& statement, bool ran, int64_t trialId) {
    if (!ran)
        return statement.error();
    return db.changes() == 0 ? "no trial with id " + std::to_string(trialId) : std::string();
}

// Why a trial that is not open could not take `state`: "" when it already holds that very end (a
// finish repeated because its commit's reply was lost), else what it ended as.
std::string alreadyEnded(sql::Connection& db, int64_t trialId, TrialState state, double value) {
    Statement current(db, "SELECT number, state, value, message FROM trials WHERE id = ?");
    current.bind(trialId);
    if (!current.next())
        return current.error().empty() ? "no trial with id " + std::to_string(trialId) : current.error();
    const std::string ended = current.text(1);
    const double endedValue = current.real(2, kNoValue);
    if (ended == toString(state) && (endedValue == value || (std::isnan(endedValue) && std::isnan(value))))
        return {};
    const std::string message = current.text(3);
    return "trial " + std::to_string(current.integer(0)) + " already ended as " + ended +
           (message.empty() ? "" : " (" + message + ")") + ", so this " + toString(state) +
           " result is not counted";
}

} // namespace

Result<StudyId> RunStore::createStudy(const std::string& name, const std::string& studySpecJson) {
    if (name.empty())
        return Result<StudyId>::failure(m_impl->path + ": a study needs a name");
    StudyId id = 0;
    const double now = storeClockNow();
    const std::string what = "the new study \"" + name + "\"";
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement existing(db, "SELECT id FROM studies WHERE name = ?");
        existing.bind(name);
        if (existing.next())
            return "a study named \"" + name + "\" already exists";
        Statement insert(db, "INSERT INTO studies(name, spec_json, created_at) VALUES(?, ?, ?) RETURNING id");
        insert.bind(name, studySpecJson, now);
        if (!insert.next())
            return insert.error();
        id = insert.integer(0);
        return std::string();
    });
    if (!error.empty())
        return Result<StudyId>::failure(m_impl->path + ": " + error);
    return id;
}

std::string RunStore::freeStudyName(const std::string& base) const {
    const std::string stem = base.empty() ? "study" : base;
    std::string name = stem;
    for (int suffix = 2; findStudy(name); ++suffix)
        name = stem + "-" + std::to_string(suffix);
    return name;
}

std::vector<StudyRecord> RunStore::listStudies() const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT id, name, spec_json, created_at FROM studies ORDER BY id");
    std::vector<StudyRecord> studies;
    while (select.next())
        studies.push_back(readStudy(select));
    return studies;
}

std::optional<StudyRecord> RunStore::study(StudyId id) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT id, name, spec_json, created_at FROM studies WHERE id = ?");
    select.bind(id);
    if (!select.next())
        return std::nullopt;
    return readStudy(select);
}

std::optional<StudyRecord> RunStore::findStudy(const std::string& name) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT id, name, spec_json, created_at FROM studies WHERE name = ?");
    select.bind(name);
    if (!select.next())
        return std::nullopt;
    return readStudy(select);
}

Result<bool> RunStore::updateStudySpec(StudyId id, const std::string& expectedJson,
                                       const std::string& studySpecJson) {
    const std::string what = "the new settings of study " + std::to_string(id);
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement current(db, "SELECT spec_json FROM studies WHERE id = ?");
        current.bind(id);
        if (!current.next())
            return "no study with id " + std::to_string(id);
        if (current.text(0) != expectedJson)
            return "another process changed the study's settings meanwhile; read it again and retry";
        Statement update(db, "UPDATE studies SET spec_json = ? WHERE id = ?");
        return update.run(studySpecJson, id) ? std::string() : update.error();
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

Result<bool> RunStore::deleteStudy(StudyId id) {
    // Trials, their parameters and values go with the study (ON DELETE CASCADE); runs stay.
    const std::string what = "the deletion of study " + std::to_string(id);
    const std::string error = m_impl->commitOperation(what, [id](sql::Connection& db) -> std::string {
        Statement remove(db, "DELETE FROM studies WHERE id = ?");
        return remove.run(id) ? std::string() : remove.error();
    });
    if (error.empty())
        return true;
    // A failed commit's error names the store already; an operation's own does not.
    const std::string cause =
        error.rfind(m_impl->path + ": ", 0) == 0 ? error.substr(m_impl->path.size() + 2) : error;
    return Result<bool>::failure(m_impl->path + ": could not delete study " + std::to_string(id) + ": " +
                                 cause);
}

Result<TrialRecord> RunStore::createTrial(StudyId studyId, const Assignment& params, TrialState state,
                                          TrialOwner owner, const TrialLineage& lineage) {
    auto created = addTrial(studyId, -1, params, state, owner, lineage);
    if (!created.ok())
        return Result<TrialRecord>(Errors{created.errors()});
    return *created.value();
}

Result<std::optional<TrialRecord>> RunStore::createTrialNumbered(StudyId studyId, int64_t number,
                                                                 const Assignment& params, TrialState state,
                                                                 TrialOwner owner,
                                                                 const TrialLineage& lineage) {
    return addTrial(studyId, number, params, state, owner, lineage);
}

Result<std::optional<TrialRecord>> RunStore::addTrial(StudyId studyId, int64_t expectedNumber,
                                                      const Assignment& params, TrialState state,
                                                      TrialOwner owner, const TrialLineage& lineage) {
    using Added = Result<std::optional<TrialRecord>>;
    TrialRecord trial;
    trial.studyId = studyId;
    trial.member = lineage.member;
    trial.parentNumber = lineage.parentNumber;
    trial.startEpoch = lineage.startEpoch;
    trial.state = state;
    trial.params = params;
    const double now = storeClockNow();
    if (state == TrialState::Running)
        trial.startedAt = now;
    if (isFinal(state))
        trial.finishedAt = now;
    const bool running = state == TrialState::Running;
    const bool owned = running && owner == TrialOwner::ThisProcess;
    const std::string paramsJson = assignmentJson(params);
    if (owned) {
        std::lock_guard<std::mutex> lock(m_impl->queueMutex);
        m_impl->startBeating();
    }
    bool taken = false;
    const std::string what = "a new trial of study " + std::to_string(studyId);
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        taken = false;
        sql::StatementCache& statements = m_impl->writeStatements;
        {
            // Locking the study's row makes concurrent additions to one study wait for each other.
            auto studyExists = statements.get(db, "SELECT 1 FROM studies WHERE id = ?" + db.lockRows());
            studyExists->bind(studyId);
            if (!studyExists->next())
                return "no study with id " + std::to_string(studyId);
        }
        {
            auto nextNumber =
                statements.get(db, "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
            nextNumber->bind(studyId);
            if (!nextNumber->next())
                return nextNumber->error();
            trial.number = nextNumber->integer(0);
        }
        if (expectedNumber >= 0 && trial.number != expectedNumber) {
            taken = true;
            return std::string();
        }
        auto insert = statements.get(
            db, "INSERT INTO trials(study_id, number, state, params_json, requeues, started_at,"
                " finished_at, owner_pid, owner_host, owner_started, heartbeat_at)"
                " VALUES(?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) RETURNING id");
        if (owned)
            insert->bind(studyId, trial.number, toString(state), paramsJson, trial.startedAt, nullptr,
                         m_impl->pid, m_impl->host, m_impl->started, now);
        else if (running) // handed out by `ask`: the heartbeat starts now, told by `tell`'s evaluator
            insert->bind(studyId, trial.number, toString(state), paramsJson, trial.startedAt, nullptr,
                         nullptr, nullptr, nullptr, now);
        else
            insert->bind(studyId, trial.number, toString(state), paramsJson, nullptr,
                         isFinal(state) ? trial.finishedAt : kNoValue, nullptr, nullptr, nullptr, nullptr);
        if (!insert->next())
            return insert->error();
        trial.id = insert->integer(0);
        insert->reset();
        if (lineage.member >= 0) {
            auto place = statements.get(
                db, "UPDATE trials SET member = ?, parent_number = ?, start_epoch = ? WHERE id = ?");
            if (!place->run(int64_t{lineage.member},
                            lineage.parentNumber >= 0 ? std::optional<int64_t>(lineage.parentNumber)
                                                      : std::nullopt,
                            int64_t{lineage.startEpoch}, trial.id))
                return place->error();
        }
        auto insertParam =
            statements.get(db, "INSERT INTO trial_params(trial_id, name, value_json) VALUES(?, ?, ?)");
        for (const auto& [name, value] : params) {
            if (!insertParam->run(trial.id, name, value.json))
                return insertParam->error();
        }
        return std::string();
    });
    if (!error.empty())
        return Added::failure(m_impl->path + ": could not add a trial: " + error);
    if (taken)
        return Added(std::optional<TrialRecord>());
    return Added(std::optional<TrialRecord>(std::move(trial)));
}

std::optional<TrialRecord> RunStore::claimWaitingTrial(StudyId studyId, TrialOwner owner) {
    {
        // Most calls find nothing waiting: a read says so without a write transaction.
        std::lock_guard<std::mutex> lock(m_impl->readMutex);
        auto any = m_impl->readStatements.get(
            *m_impl->readDb, "SELECT 1 FROM trials WHERE study_id = ? AND state = 'waiting' LIMIT 1");
        any->bind(studyId);
        if (!any->next() && any->error().empty())
            return std::nullopt;
    }
    int64_t number = -1;
    const double now = storeClockNow();
    if (owner == TrialOwner::ThisProcess) {
        std::lock_guard<std::mutex> lock(m_impl->queueMutex);
        m_impl->startBeating();
    }
    const std::string what = "a waiting trial of study " + std::to_string(studyId) + " marked running";
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        number = -1;
        Statement select(db, "SELECT id, number FROM trials WHERE study_id = ? AND state = 'waiting'"
                             " ORDER BY number LIMIT 1" +
                                 db.lockRowsSkipLocked());
        select.bind(studyId);
        if (!select.next())
            return select.error();
        const int64_t id = select.integer(0);
        const int64_t claimedNumber = select.integer(1);
        select.reset();
        Statement claim(db,
                        "UPDATE trials SET state = 'running', started_at = ?, finished_at = NULL,"
                        " owner_pid = ?, owner_host = ?, owner_started = ?, heartbeat_at = ? WHERE id = ?");
        const bool claimed = owner == TrialOwner::ThisProcess
                                 ? claim.run(now, m_impl->pid, m_impl->host, m_impl->started, now, id)
                                 : claim.run(now, nullptr, nullptr, nullptr, now, id);
        if (!claimed)
            return claim.error();
        number = claimedNumber;
        return std::string();
    });
    if (!error.empty()) {
        std::fprintf(stderr, "tunelab: run store %s: could not claim a trial: %s\n", m_impl->path.c_str(),
                     error.c_str());
        return std::nullopt;
    }
    if (number < 0)
        return std::nullopt;
    return trial(studyId, number);
}

Result<bool> RunStore::setTrialRun(int64_t trialId, RunId runId) {
    const std::string what = "the run of trial (id " + std::to_string(trialId) + ")";
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement update(db, "UPDATE trials SET run_id = ? WHERE id = ?");
        const bool ran = runId > 0 ? update.run(runId, trialId) : update.run(nullptr, trialId);
        return changedOrMissing(db, update, ran, trialId);
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

// Called from trial threads: queued like metrics, so training never waits for the disk.
void RunStore::reportIntermediate(int64_t trialId, int epoch, double value) {
    Impl* impl = m_impl.get();
    const std::string what = "the intermediate values of trial (id " + std::to_string(trialId) + ")";
    m_impl->queueOperation(what, [impl, trialId, epoch, value](sql::Connection&) -> std::string {
        Statement& insert = impl->insertTrialValue;
        if (!insert.run(trialId, epoch, value))
            return "trial " + std::to_string(trialId) + ": " + insert.error();
        return std::string();
    });
}

Result<bool> RunStore::finishTrial(int64_t trialId, TrialState state, double value,
                                   const std::string& message, int prunedEpoch,
                                   const std::vector<double>& moreValues) {
    if (state == TrialState::Running)
        return Result<bool>::failure(m_impl->path + ": trial " + std::to_string(trialId) +
                                     " can only finish as complete, pruned, failed or waiting");
    const double now = storeClockNow();
    const std::string what = "the final state of trial (id " + std::to_string(trialId) + ")";
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        if (state == TrialState::Waiting) {
            // Re-queued by the user: the rerun starts afresh and reports its own values.
            Statement requeue(
                db, "UPDATE trials SET state = 'waiting', value = NULL, more_values = NULL, message = ?,"
                    " pruned_epoch = NULL, started_at = NULL, finished_at = NULL,"
                    " owner_pid = NULL, owner_host = NULL WHERE id = ?");
            const std::string changed =
                changedOrMissing(db, requeue, requeue.run(textOrNull(message), trialId), trialId);
            if (!changed.empty())
                return changed;
            Statement clearValues(db, "DELETE FROM trial_values WHERE trial_id = ?");
            return clearValues.run(trialId) ? std::string() : clearValues.error();
        }
        // Only a trial still open takes a final state: one that ended meanwhile (given up as stale while
        // this process could not reach the store, say) keeps its end, and its retry counts instead.
        auto finish = m_impl->writeStatements.get(
            db, "UPDATE trials SET state = ?, value = ?, more_values = ?, message = ?, pruned_epoch = ?,"
                " finished_at = ? WHERE id = ? AND state IN ('running', 'waiting')");
        const std::string more = moreValues.empty() ? std::string() : valuesToJson(moreValues);
        if (!finish->run(toString(state), value, textOrNull(more), textOrNull(message), prunedEpoch, now,
                         trialId))
            return finish->error();
        return db.changes() > 0 ? std::string() : alreadyEnded(db, trialId, state, value);
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

int RunStore::requeueInterruptedTrials(StudyId studyId) {
    int requeued = 0;
    const std::string what = "the re-queued trials of study " + std::to_string(studyId);
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        requeued = 0;
        std::vector<std::pair<int64_t, int64_t>> dead; // trial id, owner pid
        Statement select(db, std::string("SELECT id, owner_pid, owner_host, owner_started FROM trials"
                                         " WHERE study_id = ? AND state = 'running'") +
                                 db.lockRowsSkipLocked());
        select.bind(studyId);
        while (select.next()) {
            if (m_impl->ownerIsGone(select.integer(1), select.text(2), select.integer(3)))
                dead.emplace_back(select.integer(0), select.integer(1));
        }
        if (!select.error().empty())
            return select.error();
        Statement requeue(db, "UPDATE trials SET state = 'waiting', requeues = requeues + 1, message = ?,"
                              " value = NULL, run_id = NULL, started_at = NULL, finished_at = NULL,"
                              " owner_pid = NULL, owner_host = NULL WHERE id = ?");
        // The dead attempt's values would mix with the rerun's.
        Statement clearValues(db, "DELETE FROM trial_values WHERE trial_id = ?");
        for (const auto& [id, ownerPid] : dead) {
            if (!requeue.run(requeuedMessage(ownerPid, m_impl->host), id))
                return requeue.error();
            if (!clearValues.run(id))
                return clearValues.error();
            ++requeued;
        }
        return std::string();
    });
    if (!error.empty()) {
        std::fprintf(stderr, "tunelab: run store %s: could not re-queue trials: %s\n", m_impl->path.c_str(),
                     error.c_str());
        return 0;
    }
    return requeued;
}

} // namespace tunelab
