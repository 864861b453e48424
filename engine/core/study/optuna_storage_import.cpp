// Reading a study out of an Optuna storage (Optuna 3.0 and 3.1's schema) and adding it to the run
// store. Everything is read and checked before the store is touched.

#include "study/optuna_storage.h"
#include "study/optuna_storage_raw.h"

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
using namespace optuna_raw;

namespace {

std::string dumpJson(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
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
        imported.spec.objective.direction = study.directions.front();
        for (size_t i = 1; i < study.directions.size(); ++i) {
            ObjectiveSpec more = imported.spec.objective;
            more.direction = study.directions[i];
            more.name = "value " + std::to_string(i + 1);
            imported.spec.moreObjectives.push_back(more);
        }
        if (isMultiObjective(imported.spec)) {
            imported.spec.objective.name = "value 1";
            imported.spec.sampler.type = "motpe";
        }
        imported.spec.budget.trials =
            study.trials.empty() ? StudyBudget().trials : static_cast<int64_t>(study.trials.size());
    }
    imported.spec.name.clear();
    if (!imported.restoredSpec)
        imported.spec.objective.direction = study.directions.front();
    const size_t objectives = 1 + imported.spec.moreObjectives.size();
    if (objectives != study.directions.size())
        return fail("its " + std::to_string(study.directions.size()) + " objectives differ from the " +
                    std::to_string(objectives) + " of the TuneLab study it was exported from");

    size_t trialsWithAttributes = 0;
    for (size_t i = 0; i < study.trials.size(); ++i) {
        const RawTrial& raw = study.trials[i];
        const std::string place = "trial " + std::to_string(raw.number);
        const bool scored = raw.state == TrialState::Complete || raw.state == TrialState::Pruned;
        std::vector<double> moreValues = raw.moreValues;
        moreValues.resize(objectives - 1, kNoValue);
        if (raw.state == TrialState::Complete && std::isnan(raw.value))
            return fail(place + " is COMPLETE but has no value");
        for (size_t objective = 0; raw.state == TrialState::Complete && objective < moreValues.size();
             ++objective) {
            if (std::isnan(moreValues[objective]))
                return fail(place + " is COMPLETE but has no value for objective " +
                            std::to_string(objective + 1));
            if (std::isinf(moreValues[objective]))
                return fail(place + " has an infinite value for objective " + std::to_string(objective + 1) +
                            "; TuneLab records finite objective values only");
        }
        if (scored && std::isinf(raw.value))
            return fail(place + " has the value " + (raw.value > 0 ? "inf" : "-inf") +
                        "; TuneLab records finite objective values only");
        TrialRecord trial;
        trial.number = static_cast<int64_t>(i);
        trial.state = raw.state;
        trial.params = std::move(params[i]);
        trial.value = scored ? raw.value : kNoValue;
        if (raw.state == TrialState::Complete && objectives > 1)
            trial.moreValues = moreValues;
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
        if (auto deleted = store.deleteStudy(id); !deleted.ok()) // the half-imported study stays
            return Result<StudyId>::failure(message + "; " + deleted.error() +
                                            " (delete it with study delete)");
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
        auto finished = store.finishTrial(added.value().id, trial.state, trial.value, trial.message,
                                          trial.prunedEpoch, trial.moreValues);
        if (!finished.ok())
            return undo(finished.error());
    }
    store.flush();
    if (store.lostWrites().size() > lostBefore)
        return undo(store.lostWritesReport());
    return id;
}

} // namespace tunelab
