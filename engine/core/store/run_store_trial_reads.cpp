// The run store's trial reads: whole studies, one trial, and what may have changed since a
// runner's last read. They run on the read connection, each inside one read transaction.

#include "store/run_store.h"

#include "store/run_store_impl.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <unordered_map>

namespace tunelab {

namespace {

using sql::Statement;

const char* const kTrialColumns = "SELECT id, study_id, number, state, value, run_id, message, pruned_epoch,"
                                  " requeues, started_at, finished_at, more_values, member, parent_number,"
                                  " start_epoch, heartbeat_at, retry_of, owner_host IS NOT NULL FROM trials";

std::vector<double> valuesFromJson(const std::string& text) {
    std::vector<double> values;
    if (text.empty())
        return values;
    const auto list = nlohmann::json::parse(text, nullptr, false);
    if (!list.is_array())
        return values;
    for (const auto& item : list)
        values.push_back(item.is_number() ? item.get<double>() : kNoValue);
    return values;
}

TrialRecord readTrial(const Statement& row) {
    TrialRecord trial;
    trial.id = row.integer(0);
    trial.studyId = row.integer(1);
    trial.number = row.integer(2);
    if (!parseTrialState(row.text(3), trial.state))
        trial.state = TrialState::Failed;
    trial.value = row.real(4, kNoValue);
    trial.runId = row.integer(5);
    trial.message = row.text(6);
    trial.prunedEpoch = static_cast<int>(row.integer(7));
    trial.requeues = static_cast<int>(row.integer(8));
    trial.startedAt = row.real(9, 0.0);
    trial.finishedAt = row.real(10, 0.0);
    trial.moreValues = valuesFromJson(row.text(11));
    trial.member = row.isNull(12) ? -1 : static_cast<int>(row.integer(12));
    trial.parentNumber = row.isNull(13) ? -1 : row.integer(13);
    trial.startEpoch = static_cast<int>(row.integer(14));
    trial.heartbeatAt = row.real(15, 0.0);
    trial.retryOf = row.isNull(16) ? -1 : row.integer(16);
    trial.ownedByProcess = trial.state == TrialState::Running && row.integer(17) != 0;
    return trial;
}

// A read transaction on the read connection, so several queries see one snapshot.
class ReadSnapshot {
public:
    explicit ReadSnapshot(sql::Connection& db)
        : m_db(db) {
        std::string ignored;
        m_db.exec(m_db.beginRead(), ignored);
    }
    ~ReadSnapshot() {
        std::string ignored;
        m_db.exec("COMMIT", ignored);
    }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    sql::Connection& m_db;
};

// Adds the parameters that `params` yields (rows of trial id, name, value) to the trials.
void addParams(std::vector<TrialRecord>& trials, Statement& params) {
    std::unordered_map<int64_t, size_t> indexOfId;
    for (size_t i = 0; i < trials.size(); ++i)
        indexOfId.emplace(trials[i].id, i);
    while (params.next()) {
        const auto found = indexOfId.find(params.integer(0));
        if (found != indexOfId.end())
            trials[found->second].params[params.text(1)] = ParamValue{params.text(2)};
    }
}

// Adds the intermediate values that `values` yields (rows of trial id, epoch, value) to the trials.
void addValues(std::vector<TrialRecord>& trials, Statement& values) {
    std::unordered_map<int64_t, size_t> indexOfId;
    for (size_t i = 0; i < trials.size(); ++i)
        indexOfId.emplace(trials[i].id, i);
    // Rows come grouped by trial with epochs rising, so the lookup and the map insert are mostly
    // free: the same trial as the row before, appended at the end.
    int64_t lastId = -1;
    std::map<int, double>* curve = nullptr;
    while (values.next()) {
        const int64_t id = values.integer(0);
        if (id != lastId) {
            const auto found = indexOfId.find(id);
            curve = found != indexOfId.end() ? &trials[found->second].intermediate : nullptr;
            lastId = id;
        }
        if (curve)
            curve->emplace_hint(curve->end(), static_cast<int>(values.integer(1)), values.real(2, kNoValue));
    }
}

// Reads the trials that `select` yields (bound and ready), then their parameters and, when asked,
// their intermediate values, with one query each for the whole set.
std::vector<TrialRecord> readTrials(Statement& select, Statement& params, Statement* values) {
    std::vector<TrialRecord> trials;
    while (select.next())
        trials.push_back(readTrial(select));
    if (trials.empty())
        return trials;
    addParams(trials, params);
    if (values)
        addValues(trials, *values);
    return trials;
}

// "[1,2,3]": numbers for a query to walk with json_each (PostgreSQL: json_array_elements_text).
std::string jsonList(const std::vector<int64_t>& numbers) {
    std::string list = "[";
    for (const int64_t number : numbers) {
        if (list.size() > 1)
            list += ',';
        list += std::to_string(number);
    }
    return list + ']';
}

} // namespace

std::vector<TrialRecord> RunStore::trials(StudyId studyId, bool withIntermediate) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    sql::Connection& db = *m_impl->readDb;
    ReadSnapshot snapshot(db);
    Statement select(db, (std::string(kTrialColumns) + " WHERE study_id = ? ORDER BY number").c_str());
    select.bind(studyId);
    Statement params(db, "SELECT p.trial_id, p.name, p.value_json FROM trial_params p"
                         " JOIN trials t ON t.id = p.trial_id WHERE t.study_id = ?");
    params.bind(studyId);
    std::optional<Statement> values;
    if (withIntermediate) {
        values.emplace(db, "SELECT v.trial_id, v.epoch, v.value FROM trial_values v"
                           " JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ?");
        values->bind(studyId);
    }
    return readTrials(select, params, values ? &*values : nullptr);
}

std::vector<TrialRecord> RunStore::trialsAfter(StudyId studyId, int64_t afterNumber,
                                               const std::vector<int64_t>& alsoNumbers,
                                               bool withIntermediate) const {
    // Index lookups only, so the cost follows what is read, not the size of the study. Each query
    // walks a JSON list of numbers or ids in order and looks each up (CROSS JOIN keeps that order),
    // and the arms are joined by UNION ALL: nothing needs a temporary table, which SQLite would
    // build and free on every call (a runner calls this before every suggestion).
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    sql::Connection& db = *m_impl->readDb;
    const bool sqlite = db.dialect() == sql::Dialect::Sqlite;
    const auto listed = [sqlite](const char* parameter) {
        return sqlite ? std::string("json_each(") + parameter + ") j"
                      : std::string("json_array_elements_text(") + parameter + "::json) j";
    };
    const std::string listedValue = sqlite ? "j.value" : "j.value::bigint";
    const std::string columns = std::string(kTrialColumns);
    ReadSnapshot snapshot(db);
    // A trial may come from two arms (a running trial above `afterNumber`); the map keeps one.
    std::map<int64_t, TrialRecord> found;
    auto select = m_impl->readStatements.get(
        db, columns + " WHERE study_id = ?1 AND number > ?2" + " UNION ALL " + columns +
                " WHERE study_id = ?1 AND state = 'running'" + " UNION ALL " + columns +
                " WHERE study_id = ?1 AND state = 'waiting'" + " UNION ALL SELECT t.* FROM " + listed("?3") +
                " CROSS JOIN (" + columns + ") t WHERE t.study_id = ?1 AND t.number = " + listedValue);
    select->bind(studyId, afterNumber, jsonList(alsoNumbers));
    while (select->next()) {
        TrialRecord trial = readTrial(*select);
        found.emplace(trial.number, std::move(trial));
    }
    std::vector<TrialRecord> trials;
    trials.reserve(found.size());
    std::vector<int64_t> ids;
    for (auto& [number, trial] : found) {
        ids.push_back(trial.id);
        trials.push_back(std::move(trial));
    }
    if (trials.empty())
        return trials;
    const std::string idList = jsonList(ids);
    auto params =
        m_impl->readStatements.get(db, "SELECT p.trial_id, p.name, p.value_json FROM " + listed("?1") +
                                           " CROSS JOIN trial_params p WHERE p.trial_id = " + listedValue);
    params->bind(idList);
    if (!withIntermediate) {
        addParams(trials, *params);
        return trials;
    }
    auto values =
        m_impl->readStatements.get(db, "SELECT v.trial_id, v.epoch, v.value FROM " + listed("?1") +
                                           " CROSS JOIN trial_values v WHERE v.trial_id = " + listedValue);
    values->bind(idList);
    addParams(trials, *params);
    addValues(trials, *values);
    return trials;
}

std::optional<TrialRecord> RunStore::trial(StudyId studyId, int64_t number) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    sql::Connection& db = *m_impl->readDb;
    ReadSnapshot snapshot(db);
    Statement select(db, (std::string(kTrialColumns) + " WHERE study_id = ? AND number = ?").c_str());
    select.bind(studyId, number);
    Statement params(db, "SELECT p.trial_id, p.name, p.value_json FROM trial_params p"
                         " JOIN trials t ON t.id = p.trial_id WHERE t.study_id = ? AND t.number = ?");
    params.bind(studyId, number);
    Statement values(db, "SELECT v.trial_id, v.epoch, v.value FROM trial_values v"
                         " JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ? AND t.number = ?");
    values.bind(studyId, number);
    auto found = readTrials(select, params, &values);
    if (found.empty())
        return std::nullopt;
    return std::move(found.front());
}

int64_t RunStore::trialCount(StudyId studyId) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT COUNT(*) FROM trials WHERE study_id = ?");
    select.bind(studyId);
    return select.next() ? select.integer(0) : 0;
}

} // namespace tunelab
