// The run store's stale trials (schema 8): a trial whose worker stopped beating is failed, keeping
// what it reported, and retried as a new trial with the same parameters. This is what lets workers
// on several hosts share a study: a host that dies leaves no trial running forever.

#include "store/run_store.h"

#include "store/run_store_impl.h"

#include <cstdio>
#include <string>
#include <vector>

namespace tunelab {

namespace {

using sql::Statement;

struct StaleTrial {
    int64_t id = 0;
    int64_t number = 0;
    int64_t ownerPid = 0;
    std::string ownerHost;
    double heartbeatAt = 0.0;
    int64_t runId = 0;
    int requeues = 0;
    std::string paramsJson;
    std::optional<int64_t> member, parentNumber, startEpoch;
};

std::string staleMessage(const StaleTrial& trial, double now, double grace) {
    const std::string who = trial.ownerHost.empty()
                                ? std::string("its evaluator (handed out by ask)")
                                : "the process that ran it (pid " + std::to_string(trial.ownerPid) + " on " +
                                      trial.ownerHost + ")";
    char seconds[64];
    std::snprintf(seconds, sizeof seconds, "%.0f s (the grace period is %.0f s)", now - trial.heartbeatAt,
                  grace);
    return "stale: " + who + " has not beaten for " + seconds;
}

std::optional<int64_t> optionalInteger(const Statement& row, int column) {
    return row.isNull(column) ? std::nullopt : std::optional<int64_t>(row.integer(column));
}

} // namespace

Result<bool> RunStore::beatTrial(StudyId studyId, int64_t number) {
    const double now = storeClockNow();
    const std::string what = "the heartbeat of trial " + std::to_string(number);
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement beat(
            db, "UPDATE trials SET heartbeat_at = ? WHERE study_id = ? AND number = ? AND state = 'running'");
        if (!beat.run(now, studyId, number))
            return beat.error();
        return db.changes() == 0 ? "trial " + std::to_string(number) + " is not running" : std::string();
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

int RunStore::failStaleTrials(StudyId studyId, double graceSeconds, int maxRetries, double askGraceSeconds) {
    int failed = 0;
    const double now = storeClockNow();
    const std::string what = "the stale trials of study " + std::to_string(studyId);
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        failed = 0;
        // New trial numbers are taken under the study's lock, as addTrial takes them.
        Statement lockStudy(db, "SELECT 1 FROM studies WHERE id = ?" + db.lockRows());
        lockStudy.bind(studyId);
        if (!lockStudy.next())
            return lockStudy.error();
        lockStudy.reset();
        Statement select(
            db,
            "SELECT id, number, owner_pid, owner_host, heartbeat_at, run_id, requeues, params_json, member,"
            " parent_number, start_epoch FROM trials WHERE study_id = ? AND state = 'running'"
            " AND heartbeat_at IS NOT NULL AND NOT (owner_pid IS NOT NULL AND owner_pid = ? AND owner_host = "
            "?)"
            " AND ((owner_host IS NOT NULL AND heartbeat_at < ?)"
            " OR (owner_host IS NULL AND ? > 0 AND heartbeat_at < ?)) ORDER BY number" +
                db.lockRowsSkipLocked());
        select.bind(studyId, m_impl->pid, m_impl->host, now - graceSeconds, askGraceSeconds,
                    now - askGraceSeconds);
        std::vector<StaleTrial> stale;
        while (select.next()) {
            StaleTrial trial;
            trial.id = select.integer(0);
            trial.number = select.integer(1);
            trial.ownerPid = select.integer(2);
            trial.ownerHost = select.text(3);
            trial.heartbeatAt = select.real(4, now);
            trial.runId = select.integer(5);
            trial.requeues = static_cast<int>(select.integer(6));
            trial.paramsJson = select.text(7);
            trial.member = optionalInteger(select, 8);
            trial.parentNumber = optionalInteger(select, 9);
            trial.startEpoch = optionalInteger(select, 10);
            stale.push_back(std::move(trial));
        }
        if (!select.error().empty())
            return select.error();
        select.reset();
        Statement fail(db, "UPDATE trials SET state = 'failed', message = ?, finished_at = ? WHERE id = ?");
        Statement interrupt(db, "UPDATE runs SET status = 'interrupted', error = COALESCE(error, ?)"
                                " WHERE id = ? AND status IN ('queued', 'running')");
        Statement nextNumber(db, "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
        Statement retry(db,
                        "INSERT INTO trials(study_id, number, state, params_json, requeues, message, member,"
                        " parent_number, start_epoch, retry_of) VALUES(?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id");
        Statement copyParams(db, "INSERT INTO trial_params(trial_id, name, value_json)"
                                 " SELECT ?, name, value_json FROM trial_params WHERE trial_id = ?");
        for (const StaleTrial& trial : stale) {
            const double grace = trial.ownerHost.empty() ? askGraceSeconds : graceSeconds;
            std::string message = staleMessage(trial, now, grace);
            const bool retried = trial.requeues < maxRetries;
            if (!retried)
                message += "; not retried: it has been retried " + std::to_string(trial.requeues) + " times";
            if (!fail.run(message, now, trial.id))
                return fail.error();
            if (trial.runId > 0 && !interrupt.run(message, trial.runId))
                return interrupt.error();
            ++failed;
            if (!retried)
                continue;
            nextNumber.bind(studyId);
            if (!nextNumber.next())
                return nextNumber.error();
            const int64_t number = nextNumber.integer(0);
            nextNumber.reset();
            const std::string retryMessage =
                "retry of trial " + std::to_string(trial.number) + ", whose worker fell silent";
            retry.bind(studyId, number, trial.paramsJson, int64_t{trial.requeues + 1}, retryMessage,
                       trial.member, trial.parentNumber, trial.startEpoch, trial.number);
            if (!retry.next())
                return retry.error();
            const int64_t retryId = retry.integer(0);
            retry.reset();
            if (!copyParams.run(retryId, trial.id))
                return copyParams.error();
        }
        return std::string();
    });
    if (!error.empty()) {
        std::fprintf(stderr, "tunelab: run store %s: could not fail stale trials: %s\n", m_impl->path.c_str(),
                     error.c_str());
        return 0;
    }
    return failed;
}

} // namespace tunelab
