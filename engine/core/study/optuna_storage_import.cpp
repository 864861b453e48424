// Reading a study out of an Optuna storage (Optuna 3.0 and 3.1's schema) and adding it to the run
// store. Everything is read and checked before the store is touched.

#include "study/optuna_storage.h"

#include "common/json_text.h"
#include "store/sqlite_util.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>

namespace tunelab {

using nlohmann::json;
using sqlite::Statement;

namespace {

std::string dumpJson(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct RawParam {
    std::string name;
    double value = 0.0;
    OptunaDistribution distribution;
};

struct RawTrial {
    int64_t id = 0;
    int64_t number = 0;
    TrialState state = TrialState::Waiting;
    std::vector<RawParam> params;
    double value = kNoValue;
    std::map<int, double> intermediate;
    std::string message;
    std::optional<json> fixedParams; // enqueued parameters of a waiting trial
    bool hasUserAttributes = false;
};

struct RawStudy {
    std::string name;
    ObjectiveDirection direction = ObjectiveDirection::Minimize;
    std::string tunelabSpec; // the study file TuneLab exported with it, if any
    bool hasUserAttributes = false;
    std::vector<RawTrial> trials;
};

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
Result<RawStudy> readRawStudy(sqlite3* db, const std::string& wanted) {
    using Read = Result<RawStudy>;
    std::set<std::string> tables;
    {
        Statement select(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
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
    Statement version(db, "SELECT schema_version, library_version FROM version_info");
    Statement revision(db, "SELECT version_num FROM alembic_version");
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
    const auto damaged = [](const Statement& statement) {
        return Read::failure("a damaged Optuna storage: " + statement.error());
    };

    RawStudy study;
    int64_t studyId = -1;
    {
        Statement select(db, "SELECT study_id, study_name FROM studies ORDER BY study_id");
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
        Statement select(db, "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective");
        select.bind(studyId);
        std::vector<std::string> directions;
        while (select.next())
            directions.push_back(select.text(0));
        if (!select.error().empty())
            return damaged(select);
        if (directions.size() > 1)
            return Read::failure("Optuna study '" + study.name + "' has " +
                                 std::to_string(directions.size()) +
                                 " objectives; a TuneLab study has one objective");
        if (directions.empty() || (directions[0] != "MINIMIZE" && directions[0] != "MAXIMIZE"))
            return Read::failure("a damaged Optuna storage: study '" + study.name + "' has no direction");
        study.direction =
            directions[0] == "MAXIMIZE" ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    }
    {
        Statement select(db, "SELECT key, value_json FROM study_system_attributes WHERE study_id = ?");
        select.bind(studyId);
        while (select.next()) {
            if (select.text(0) == OptunaSchema::kStudyAttribute)
                study.tunelabSpec = select.text(1);
        }
        Statement users(db, "SELECT 1 FROM study_user_attributes WHERE study_id = ? LIMIT 1");
        users.bind(studyId);
        study.hasUserAttributes = users.next();
        if (!select.error().empty() || !users.error().empty())
            return damaged(select.error().empty() ? users : select);
    }

    std::map<int64_t, size_t> indexOfId;
    {
        Statement select(db, "SELECT trial_id, typeof(number), number, state FROM trials WHERE study_id = ?"
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
        Statement select(db, ("SELECT x.trial_id, x.param_name, typeof(x.param_value), x.param_value,"
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
        Statement select(db, ("SELECT x.trial_id, x.objective, typeof(x.value), x.value, x.value_type"
                              " FROM trial_values x" +
                              inStudy)
                                 .c_str());
        select.bind(studyId);
        while (select.next()) {
            RawTrial* trial = trialOf(select.integer(0));
            const std::string place = "trial " + std::to_string(trial->number);
            if (select.integer(1) != 0)
                return Read::failure(place + " has a value for objective " +
                                     std::to_string(select.integer(1)) +
                                     "; a TuneLab study has one objective");
            const auto value = storedValue(select.text(2), select.real(3, kNoValue), select.text(4));
            if (!value || std::isnan(*value))
                return Read::failure("a damaged Optuna storage: " + place + " has a value of type '" +
                                     select.text(4) + "' that is not a number");
            trial->value = *value;
        }
        if (!select.error().empty())
            return damaged(select);
    }
    {
        Statement select(db, ("SELECT x.trial_id, x.step, typeof(x.intermediate_value), x.intermediate_value,"
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
        Statement select(db, ("SELECT x.trial_id, x.key, x.value_json FROM trial_system_attributes x" +
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
        Statement users(db, ("SELECT DISTINCT x.trial_id FROM trial_user_attributes x" + inStudy).c_str());
        users.bind(studyId);
        while (users.next())
            trialOf(users.integer(0))->hasUserAttributes = true;
        if (!select.error().empty() || !users.error().empty())
            return damaged(select.error().empty() ? users : select);
    }
    return study;
}

std::string numberJson(const OptunaDistribution& distribution, double value) {
    if (distribution.kind == OptunaDistribution::Kind::Int)
        return json(static_cast<int64_t>(std::llround(value))).dump();
    return json(value).dump();
}

// The parameters Optuna recorded, each with the union of its distributions over the trials.
Result<std::vector<std::pair<std::string, OptunaDistribution>>> unionOfDistributions(const RawStudy& study) {
    using Union = Result<std::vector<std::pair<std::string, OptunaDistribution>>>;
    std::vector<std::pair<std::string, OptunaDistribution>> merged;
    std::map<std::string, size_t> indexOfName;
    for (const RawTrial& trial : study.trials) {
        for (const RawParam& param : trial.params) {
            const auto found = indexOfName.find(param.name);
            if (found == indexOfName.end()) {
                indexOfName.emplace(param.name, merged.size());
                merged.emplace_back(param.name, param.distribution);
                continue;
            }
            auto both = optunaUnion(merged[found->second].second, param.distribution);
            if (!both.ok())
                return Union::failure("parameter '" + param.name + "': " + both.error());
            merged[found->second].second = both.take();
        }
    }
    return merged;
}

// One trial's parameter in TuneLab's form, or nullopt when it does not fit. `target` is the TuneLab
// parameter and `targetDistribution` the one it exports as (its choices parallel to target.values);
// `stored` and `storedValue` are Optuna's distribution_json and param_value.
std::optional<ParamValue> tunelabValue(const SearchParameter& target,
                                       const OptunaDistribution& targetDistribution,
                                       const OptunaDistribution& stored, double storedValue) {
    if (stored.kind == OptunaDistribution::Kind::Categorical) {
        if (storedValue < 0.0 || storedValue >= static_cast<double>(stored.choices.size()) ||
            std::floor(storedValue) != storedValue)
            return std::nullopt;
        const std::string& choice = stored.choices[static_cast<size_t>(storedValue)];
        for (size_t i = 0; i < targetDistribution.choices.size() && i < target.values.size(); ++i) {
            if (sameOptunaValue(targetDistribution.choices[i], choice) ||
                sameOptunaValue(target.values[i].json, choice))
                return target.values[i];
        }
        return std::nullopt;
    }
    if (targetDistribution.kind == OptunaDistribution::Kind::Categorical) // a fixed TuneLab parameter
        return target.values.size() == 1 && sameOptunaValue(target.values[0].json, json(storedValue).dump())
                   ? std::optional<ParamValue>(target.values[0])
                   : std::nullopt;
    if (stored.kind == OptunaDistribution::Kind::Int && std::floor(storedValue) != storedValue)
        return std::nullopt;
    return ParamValue{numberJson(stored, storedValue)};
}

// A waiting trial's enqueued value in TuneLab's form, when it fits the parameter.
std::optional<ParamValue> enqueuedValue(const SearchParameter& target, const OptunaDistribution& distribution,
                                        const json& value) {
    if (distribution.kind == OptunaDistribution::Kind::Categorical) {
        for (size_t i = 0; i < distribution.choices.size() && i < target.values.size(); ++i) {
            if (sameOptunaValue(distribution.choices[i], dumpJson(value)) ||
                sameOptunaValue(target.values[i].json, dumpJson(value)))
                return target.values[i];
        }
        return std::nullopt;
    }
    if (!value.is_number() || !std::isfinite(value.get<double>()))
        return std::nullopt;
    return tunelabValue(target, distribution, distribution, value.get<double>());
}

// Each trial's parameters against `space`; fails, saying why, on one that does not fit. With
// `strict`, an enqueued parameter that does not fit fails too; otherwise it is left out with a note.
Result<std::vector<Assignment>> trialParams(const RawStudy& study, const SearchSpace& space, bool strict,
                                            std::vector<std::string>& notes) {
    using Params = Result<std::vector<Assignment>>;
    std::vector<Assignment> all;
    for (const RawTrial& trial : study.trials) {
        Assignment params;
        const std::string place = "trial " + std::to_string(trial.number);
        for (const RawParam& param : trial.params) {
            const SearchParameter* target = space.find(param.name);
            if (!target)
                return Params::failure(place + ": parameter '" + param.name + "' is not in the search space");
            const OptunaDistribution distribution = optunaDistribution(*target);
            if (strict && distribution != param.distribution)
                return Params::failure(place + ": parameter '" + param.name + "' has the distribution " +
                                       optunaDistributionJson(param.distribution) + ", not " +
                                       optunaDistributionJson(distribution));
            auto value = tunelabValue(*target, distribution, param.distribution, param.value);
            if (!value)
                return Params::failure(place + ": parameter '" + param.name + "' has the value " +
                                       json(param.value).dump() + ", which " +
                                       optunaDistributionJson(param.distribution) + " does not hold");
            params[param.name] = *value;
        }
        if (trial.state == TrialState::Waiting && trial.fixedParams) {
            for (const auto& item : trial.fixedParams->items()) {
                if (params.count(item.key()))
                    continue;
                const SearchParameter* target = space.find(item.key());
                auto value =
                    target ? enqueuedValue(*target, optunaDistribution(*target), item.value()) : std::nullopt;
                if (value) {
                    params[item.key()] = *value;
                    continue;
                }
                const std::string problem = place + " (waiting): enqueued parameter '" + item.key() +
                                            "' = " + dumpJson(item.value()) +
                                            " does not fit the search space";
                if (strict)
                    return Params::failure(problem);
                notes.push_back(problem + "; it is left out");
            }
        }
        all.push_back(std::move(params));
    }
    return all;
}

// The study file TuneLab stored with the study, when it still describes every trial.
std::optional<std::pair<StudySpec, std::vector<Assignment>>> restoredStudy(const RawStudy& study,
                                                                           std::vector<std::string>& notes) {
    if (study.tunelabSpec.empty())
        return std::nullopt;
    auto spec = parseStudySpec(study.tunelabSpec);
    std::string problem;
    if (spec.ok()) {
        auto space = parseSearchSpace(spec.value().spaceJson);
        std::vector<std::string> ignored;
        auto params = space.ok() ? trialParams(study, space.value(), true, ignored)
                                 : Result<std::vector<Assignment>>(Errors{space.errors()});
        if (params.ok())
            return std::make_pair(spec.take(), params.take());
        problem = params.errors().front();
    } else {
        problem = spec.errors().front();
    }
    notes.push_back("the TuneLab study file stored with the study does not describe its trials any more (" +
                    problem +
                    "); the search space is rebuilt from Optuna's distributions, without the experiment");
    return std::nullopt;
}

} // namespace

Result<OptunaImport> readOptunaStudy(const std::string& path, const std::string& studyName) {
    using Imported = Result<OptunaImport>;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return Imported::failure(path + ": " + std::strerror(errno));
    if (!S_ISREG(info.st_mode))
        return Imported::failure(path + ": not a regular file");
    RawStudy study;
    {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
        sqlite::Database db(raw);
        if (rc != SQLITE_OK)
            return Imported::failure(path +
                                     ": could not open: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
        sqlite3_busy_timeout(db.get(), 5000);
        std::string ignored;
        sqlite::exec(db.get(), "BEGIN", ignored); // one snapshot for every query
        auto read = readRawStudy(db.get(), studyName);
        sqlite::exec(db.get(), "COMMIT", ignored);
        if (!read.ok())
            return Imported::failure(path + ": " + read.error());
        study = read.take();
    }
    const auto fail = [&](const std::string& message) {
        return Imported::failure(path + ": Optuna study '" + study.name + "': " + message);
    };

    OptunaImport imported;
    imported.optunaName = study.name;
    std::vector<Assignment> params;
    if (auto restored = restoredStudy(study, imported.notes)) {
        imported.spec = std::move(restored->first);
        params = std::move(restored->second);
        imported.restoredSpec = true;
    } else {
        auto merged = unionOfDistributions(study);
        if (!merged.ok())
            return fail(merged.error());
        imported.spec.spaceJson = optunaSearchSpaceJson(merged.value());
        auto space = parseSearchSpace(imported.spec.spaceJson);
        if (!space.ok())
            return fail("its parameters do not make a TuneLab search space: " +
                        Errors{space.errors()}.joined("; "));
        auto read = trialParams(study, space.value(), false, imported.notes);
        if (!read.ok())
            return fail(read.error());
        params = read.take();
        imported.spec.objective.metric = "value";
        imported.spec.objective.at = ObjectiveAt::Last;
        imported.spec.budget.trials =
            study.trials.empty() ? StudyBudget().trials : static_cast<int64_t>(study.trials.size());
    }
    imported.spec.name.clear();
    imported.spec.objective.direction = study.direction;

    size_t trialsWithAttributes = 0;
    for (size_t i = 0; i < study.trials.size(); ++i) {
        const RawTrial& raw = study.trials[i];
        const std::string place = "trial " + std::to_string(raw.number);
        const bool scored = raw.state == TrialState::Complete || raw.state == TrialState::Pruned;
        if (raw.state == TrialState::Complete && std::isnan(raw.value))
            return fail(place + " is COMPLETE but has no value");
        if (scored && std::isinf(raw.value))
            return fail(place + " has the value " + (raw.value > 0 ? "inf" : "-inf") +
                        "; TuneLab records finite objective values only");
        TrialRecord trial;
        trial.number = static_cast<int64_t>(i);
        trial.state = raw.state;
        trial.params = std::move(params[i]);
        trial.value = scored ? raw.value : kNoValue;
        trial.message = raw.message;
        trial.intermediate = raw.intermediate;
        if (raw.state == TrialState::Pruned && !raw.intermediate.empty())
            trial.prunedEpoch = raw.intermediate.rbegin()->first;
        trialsWithAttributes += raw.hasUserAttributes ? 1 : 0;
        imported.trials.push_back(std::move(trial));
    }
    for (size_t i = 0; i < study.trials.size(); ++i) {
        if (study.trials[i].number != static_cast<int64_t>(i)) {
            imported.notes.push_back(
                "its trial numbers are not 0, 1, 2, ...: the trials are numbered anew in "
                "their order");
            break;
        }
    }
    if (study.hasUserAttributes || trialsWithAttributes > 0)
        imported.notes.push_back("user attributes (of the study" +
                                 (trialsWithAttributes > 0
                                      ? " and " + std::to_string(trialsWithAttributes) + " trials"
                                      : std::string()) +
                                 ") are not kept: a TuneLab study has no place for them");
    // The spec must read back as the store will hand it out.
    auto check = parseStudySpec(studySpecToJson(imported.spec));
    if (!check.ok())
        return fail("it does not make a TuneLab study: " + Errors{check.errors()}.joined("; "));
    return imported;
}

Result<StudyId> addImportedStudy(RunStore& store, const std::string& name, const OptunaImport& study) {
    StudySpec spec = study.spec;
    spec.name = name;
    const size_t lostBefore = store.lostWrites().size();
    auto created = store.createStudy(name, studySpecToJson(spec));
    if (!created.ok())
        return created;
    const StudyId id = created.value();
    const auto undo = [&](const std::string& message) {
        store.deleteStudy(id);
        return Result<StudyId>::failure(message);
    };
    for (const TrialRecord& trial : study.trials) {
        // Trials evaluated elsewhere: no process of this host owns a running one.
        const TrialState start =
            trial.state == TrialState::Waiting ? TrialState::Waiting : TrialState::Running;
        auto added = store.createTrial(id, trial.params, start, RunStore::TrialOwner::Outside);
        if (!added.ok())
            return undo(added.error());
        for (const auto& [epoch, value] : trial.intermediate)
            store.reportIntermediate(added.value().id, epoch, value);
        if (!isFinal(trial.state))
            continue;
        auto finished =
            store.finishTrial(added.value().id, trial.state, trial.value, trial.message, trial.prunedEpoch);
        if (!finished.ok())
            return undo(finished.error());
    }
    store.flush();
    if (store.lostWrites().size() > lostBefore)
        return undo(store.lostWritesReport());
    return id;
}

} // namespace tunelab
