// Reading the rows of one study out of an Optuna storage (Optuna 3.0 and 3.1's schema).

#include "study/optuna_storage_raw.h"

#include "common/json_text.h"
#include "store/sqlite_util.h"

#include <climits>
#include <cmath>
#include <set>

namespace tunelab::optuna_raw {

using nlohmann::json;

namespace {

bool parseOptunaState(const std::string& text, TrialState& state) {
    static const std::map<std::string, TrialState> kStates = {{"WAITING", TrialState::Waiting},
                                                              {"RUNNING", TrialState::Running},
                                                              {"COMPLETE", TrialState::Complete},
                                                              {"PRUNED", TrialState::Pruned},
                                                              {"FAIL", TrialState::Failed}};
    const auto found = kStates.find(text);
    if (found == kStates.end())
        return false;
    state = found->second;
    return true;
}

bool isNumberType(const std::string& sqlType) {
    return sqlType == "real" || sqlType == "integer";
}

// A value as Optuna stores it: a number, or NULL with its type saying inf, -inf or NaN. nullopt
// for a combination Optuna never writes.
std::optional<double> storedValue(const std::string& sqlType, double number, const std::string& valueType) {
    if (valueType == "FINITE")
        return isNumberType(sqlType) && std::isfinite(number) ? std::optional<double>(number) : std::nullopt;
    if (valueType == "INF_POS")
        return HUGE_VAL;
    if (valueType == "INF_NEG")
        return -HUGE_VAL;
    if (valueType == "NAN")
        return kNoValue;
    return std::nullopt;
}

// The study's rows, read in one snapshot; errors say what is wrong without the file's name.
} // namespace

Result<RawStudy> readRawStudy(sqlite3* db, const std::string& wanted) {
    using Read = Result<RawStudy>;
    std::set<std::string> tables;
    {
        sqlite::Statement select(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
        while (select.next())
            tables.insert(select.text(0));
        if (!select.error().empty() && sqlite3_errcode(db) == SQLITE_NOTADB)
            return Read::failure("not an SQLite database, so not an Optuna storage");
        if (!select.error().empty())
            return Read::failure("a damaged SQLite database: " + select.error());
    }
    if (!tables.count("version_info") || !tables.count("alembic_version")) {
        if (tables.count("runs") && tables.count("studies"))
            return Read::failure("a TuneLab run store, not an Optuna storage");
        return Read::failure("not an Optuna storage (it has no version_info and alembic_version tables)");
    }
    sqlite::Statement version(db, "SELECT schema_version, library_version FROM version_info");
    sqlite::Statement revision(db, "SELECT version_num FROM alembic_version");
    if (!version.next() || !revision.next())
        return Read::failure("not an Optuna storage (its version_info or alembic_version table is empty)");
    const int64_t schemaVersion = version.integer(0);
    const std::string revisionText = revision.text(0);
    if (schemaVersion != OptunaSchema::kVersion || revisionText != OptunaSchema::kAlembicRevision) {
        std::string message = "an Optuna storage of schema version " + std::to_string(schemaVersion) +
                              ", revision " + revisionText + " (set up by Optuna " + version.text(1) +
                              "); TuneLab reads the schema of Optuna 3.0 and 3.1 (version " +
                              std::to_string(OptunaSchema::kVersion) + ", revision " +
                              OptunaSchema::kAlembicRevision + ")";
        if (schemaVersion < OptunaSchema::kVersion)
            message += "; `optuna storage upgrade` of Optuna 3.1 brings an older storage up to it";
        return Read::failure(message);
    }
    for (const char* table :
         {"studies", "study_directions", "study_user_attributes", "study_system_attributes", "trials",
          "trial_params", "trial_values", "trial_intermediate_values", "trial_user_attributes",
          "trial_system_attributes"}) {
        if (!tables.count(table))
            return Read::failure(std::string("a damaged Optuna storage: it has no table ") + table);
    }
    const auto damaged = [](const sqlite::Statement& statement) {
        return Read::failure("a damaged Optuna storage: " + statement.error());
    };

    RawStudy study;
    int64_t studyId = -1;
    {
        sqlite::Statement select(db, "SELECT study_id, study_name FROM studies ORDER BY study_id");
        std::vector<std::string> names;
        while (select.next()) {
            names.push_back(select.text(1));
            if (wanted.empty() || names.back() == wanted) {
                studyId = select.integer(0);
                study.name = names.back();
            }
        }
        if (!select.error().empty())
            return damaged(select);
        std::string list;
        for (const std::string& name : names)
            list += (list.empty() ? "'" : ", '") + name + "'";
        if (names.empty())
            return Read::failure("the Optuna storage has no study");
        if (wanted.empty() && names.size() > 1)
            return Read::failure("the Optuna storage has " + std::to_string(names.size()) +
                                 " studies; name the one to import: " + list);
        if (studyId < 0)
            return Read::failure("no Optuna study named '" + wanted + "'; the storage has " + list);
    }
    {
        sqlite::Statement select(
            db, "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective");
        select.bind(studyId);
        std::vector<std::string> directions;
        while (select.next())
            directions.push_back(select.text(0));
        if (!select.error().empty())
            return damaged(select);
        if (directions.size() > kMaxImportedObjectives)
            return Read::failure(
                "Optuna study '" + study.name + "' has " + std::to_string(directions.size()) +
                " objectives; a TuneLab study has at most " + std::to_string(kMaxImportedObjectives));
        if (directions.empty())
            return Read::failure("a damaged Optuna storage: study '" + study.name + "' has no direction");
        for (const std::string& direction : directions) {
            if (direction != "MINIMIZE" && direction != "MAXIMIZE")
                return Read::failure("a damaged Optuna storage: study '" + study.name +
                                     "' has the direction '" + direction + "'");
            study.directions.push_back(direction == "MAXIMIZE" ? ObjectiveDirection::Maximize
                                                               : ObjectiveDirection::Minimize);
        }
    }
    {
        sqlite::Statement select(db,
                                 "SELECT key, value_json FROM study_system_attributes WHERE study_id = ?");
        select.bind(studyId);
        while (select.next()) {
            if (select.text(0) == OptunaSchema::kStudyAttribute)
                study.tunelabSpec = select.text(1);
        }
        sqlite::Statement users(db, "SELECT 1 FROM study_user_attributes WHERE study_id = ? LIMIT 1");
        users.bind(studyId);
        study.hasUserAttributes = users.next();
        if (!select.error().empty() || !users.error().empty())
            return damaged(select.error().empty() ? users : select);
    }

    std::map<int64_t, size_t> indexOfId;
    {
        sqlite::Statement select(
            db, "SELECT trial_id, typeof(number), number, state FROM trials WHERE study_id = ?"
                " ORDER BY number, trial_id");
        select.bind(studyId);
        while (select.next()) {
            RawTrial trial;
            trial.id = select.integer(0);
            trial.number = select.integer(2);
            if (select.text(1) != "integer" || !parseOptunaState(select.text(3), trial.state))
                return Read::failure("a damaged Optuna storage: trial " + std::to_string(trial.number) +
                                     " has no number or an unknown state '" + select.text(3) + "'");
            indexOfId.emplace(trial.id, study.trials.size());
            study.trials.push_back(std::move(trial));
        }
        if (!select.error().empty())
            return damaged(select);
    }
    // The queries below join on the study's trials, so every row has its trial.
    RawTrial unknown;
    const auto trialOf = [&](int64_t id) -> RawTrial* {
        const auto found = indexOfId.find(id);
        return found == indexOfId.end() ? &unknown : &study.trials[found->second];
    };
    const std::string inStudy = " JOIN trials t ON t.trial_id = x.trial_id WHERE t.study_id = ?";
    {
        sqlite::Statement select(db, ("SELECT x.trial_id, x.param_name, typeof(x.param_value), x.param_value,"
                                      " x.distribution_json FROM trial_params x" +
                                      inStudy + " ORDER BY x.param_id")
                                         .c_str());
        select.bind(studyId);
        while (select.next()) {
            RawTrial* trial = trialOf(select.integer(0));
            const std::string place =
                "trial " + std::to_string(trial->number) + ", parameter '" + select.text(1) + "'";
            auto distribution = parseOptunaDistribution(select.text(4));
            if (!distribution.ok())
                return Read::failure(place + ": a damaged distribution: " + distribution.error());
            const double value = select.real(3, kNoValue);
            if (!isNumberType(select.text(2)) || !std::isfinite(value))
                return Read::failure(place + ": the value is not a finite number");
            trial->params.push_back({select.text(1), value, distribution.take()});
        }
        if (!select.error().empty())
            return damaged(select);
    }
    {
        sqlite::Statement select(db, ("SELECT x.trial_id, x.objective, typeof(x.value), x.value, x.value_type"
                                      " FROM trial_values x" +
                                      inStudy)
                                         .c_str());
        select.bind(studyId);
        while (select.next()) {
            RawTrial* trial = trialOf(select.integer(0));
            const std::string place = "trial " + std::to_string(trial->number);
            const int64_t objective = select.integer(1);
            if (objective < 0 || objective >= static_cast<int64_t>(study.directions.size()))
                return Read::failure("a damaged Optuna storage: " + place + " has a value for objective " +
                                     std::to_string(objective) + " of a study with " +
                                     std::to_string(study.directions.size()));
            const auto value = storedValue(select.text(2), select.real(3, kNoValue), select.text(4));
            if (!value || std::isnan(*value))
                return Read::failure("a damaged Optuna storage: " + place + " has a value of type '" +
                                     select.text(4) + "' that is not a number");
            if (objective == 0) {
                trial->value = *value;
            } else {
                trial->moreValues.resize(study.directions.size() - 1, kNoValue);
                trial->moreValues[static_cast<size_t>(objective - 1)] = *value;
            }
        }
        if (!select.error().empty())
            return damaged(select);
    }
    {
        sqlite::Statement select(
            db, ("SELECT x.trial_id, x.step, typeof(x.intermediate_value), x.intermediate_value,"
                 " x.intermediate_value_type FROM trial_intermediate_values x" +
                 inStudy)
                    .c_str());
        select.bind(studyId);
        while (select.next()) {
            RawTrial* trial = trialOf(select.integer(0));
            const std::string place = "trial " + std::to_string(trial->number);
            const int64_t step = select.integer(1);
            if (step < INT_MIN || step > INT_MAX)
                return Read::failure(place + ": step " + std::to_string(step) +
                                     " is beyond TuneLab's epochs");
            const auto value = storedValue(select.text(2), select.real(3, kNoValue), select.text(4));
            if (!value)
                return Read::failure("a damaged Optuna storage: " + place +
                                     " has an intermediate value of type '" + select.text(4) + "' at step " +
                                     std::to_string(step));
            trial->intermediate[static_cast<int>(step)] = *value;
        }
        if (!select.error().empty())
            return damaged(select);
    }
    {
        sqlite::Statement select(db,
                                 ("SELECT x.trial_id, x.key, x.value_json FROM trial_system_attributes x" +
                                  inStudy + " ORDER BY x.key")
                                     .c_str());
        select.bind(studyId);
        while (select.next()) {
            RawTrial* trial = trialOf(select.integer(0));
            const std::string key = select.text(1);
            if (key != "fixed_params" && key != "fail_reason" && key != OptunaSchema::kMessageAttribute)
                continue;
            auto value = parseJsonText(select.text(2));
            if (!value.ok())
                return Read::failure("trial " + std::to_string(trial->number) + ": system attribute '" + key +
                                     "' is damaged JSON: " + value.error());
            if (key == "fixed_params" && value.value().is_object())
                trial->fixedParams = value.take();
            else if (value.value().is_string() && (key != "fail_reason" || trial->message.empty()))
                trial->message = value.value().get<std::string>();
        }
        sqlite::Statement users(
            db, ("SELECT DISTINCT x.trial_id FROM trial_user_attributes x" + inStudy).c_str());
        users.bind(studyId);
        while (users.next())
            trialOf(users.integer(0))->hasUserAttributes = true;
        if (!select.error().empty() || !users.error().empty())
            return damaged(select.error().empty() ? users : select);
    }
    return study;
}

} // namespace tunelab::optuna_raw
