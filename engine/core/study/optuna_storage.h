#pragma once

// TuneLab studies in Optuna's RDB storage: the SQLite schema of Optuna 3.0 and 3.1 (schema version
// 12, alembic revision v3.0.0.d), which optuna.load_study and optuna-dashboard open. What maps to
// what, and what each side cannot keep, is in docs/cli.md ("Optuna interop").

#include "common/result.h"
#include "search/search_space.h"
#include "store/run_store.h"
#include "store/study_records.h"
#include "study/study.h"

#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// The schema this code writes and reads, and nothing else.
struct OptunaSchema {
    static constexpr int kVersion = 12;
    static constexpr const char* kAlembicRevision = "v3.0.0.d";
    // version_info.library_version: the Optuna release whose schema the file follows.
    static constexpr const char* kLibraryVersion = "3.1.0";
    // Study system attribute with the TuneLab study file (experiment, space with its conditions,
    // sampler, pruner, objective, budget), so that an exported study imports as it was.
    static constexpr const char* kStudyAttribute = "tunelab_study";
    // Trial system attribute with a trial's message (why it failed or was pruned).
    static constexpr const char* kMessageAttribute = "tunelab_message";
};

// A distribution as trial_params.distribution_json holds it (optuna.distributions).
struct OptunaDistribution {
    enum class Kind { Float, Int, Categorical };
    Kind kind = Kind::Float;
    double low = 0.0;
    double high = 0.0;
    bool log = false;
    double step = 0.0;                // Float: 0 for none; Int: at least 1
    std::vector<std::string> choices; // Categorical: each choice as compact JSON text

    bool operator==(const OptunaDistribution& other) const;
    bool operator!=(const OptunaDistribution& other) const { return !(*this == other); }
};

// The distribution a TuneLab parameter becomes: a float or int range as FloatDistribution or
// IntDistribution (log, step), and categorical, explicit `values` and fixed parameters as a
// CategoricalDistribution of their values, in order. Optuna's choices are null, booleans, numbers
// and strings, so an object or array value becomes its JSON text, a string.
OptunaDistribution optunaDistribution(const SearchParameter& parameter);
// distribution_to_json's form: {"name": "FloatDistribution", "attributes": {...}}.
std::string optunaDistributionJson(const OptunaDistribution& distribution);
// Reads that form, the older class names (UniformDistribution, IntUniformDistribution, ...) and
// the abbreviated {"type": "float", ...} form, as optuna.distributions.json_to_distribution does.
// Errors say what is wrong with the text.
Result<OptunaDistribution> parseOptunaDistribution(std::string_view jsonText);
// Whether two values (JSON text) are the same choice: the same JSON, numbers by value (3 and 3.0).
bool sameOptunaValue(std::string_view aJson, std::string_view bJson);
// The union of the distributions one parameter had in two trials: the wider range (on the step grid
// both share, else without a step) or every choice of both. Fails, saying why, when their kinds or
// log scales differ, as Optuna itself refuses within one study.
Result<OptunaDistribution> optunaUnion(const OptunaDistribution& a, const OptunaDistribution& b);
// A TuneLab search space (parseSearchSpace's format) with one parameter per name, in order: ranges
// as float or int parameters, a range of a single value as a fixed parameter, categorical
// distributions as categorical parameters. None has a condition: TuneLab records only the
// parameters that applied to a trial, so a parameter that some trials lack reads the same.
std::string optunaSearchSpaceJson(const std::vector<std::pair<std::string, OptunaDistribution>>& parameters);

// Writes a study as the only study of a new Optuna storage at `path`, named `studyName`: its
// direction, each trial's number, state, parameters (with their distributions), value, start and
// end time and intermediate values (epoch N as step N), waiting trials' parameters as Optuna's
// enqueued "fixed_params", and the study file and trial messages as system attributes. `trials`
// come from RunStore::trials(id, true). The file is built under a temporary name in the same
// folder and moved into place, so a failure leaves nothing behind; an existing file is replaced
// only with `overwrite`. Errors name the file.
Result<bool> writeOptunaStorage(const std::string& path, const std::string& studyName, const StudySpec& spec,
                                const std::vector<TrialRecord>& trials, bool overwrite);

// A study read from an Optuna storage, ready to add to a run store.
struct OptunaImport {
    std::string optunaName;
    // The study file that TuneLab exported with the study when it still describes every trial's
    // parameters; otherwise a study without an experiment (scored by "value", like `optimize`)
    // whose space has one plain parameter per Optuna parameter, its range the union over trials.
    StudySpec spec;
    bool restoredSpec = false;
    // In number order: state, params, value, message, prunedEpoch and intermediate values.
    std::vector<TrialRecord> trials;
    // What could not be kept (user attributes, parameters of waiting trials outside the space).
    std::vector<std::string> notes;
};

// Reads the study named `studyName` of the Optuna storage at `path` (or its only study when the
// name is empty). Never writes to the file. Errors name the file and what is wrong: not SQLite,
// not an Optuna storage, another schema version, several studies and none named, several
// objectives, a damaged distribution, a value TuneLab cannot hold.
Result<OptunaImport> readOptunaStudy(const std::string& path, const std::string& studyName);

// Adds the study to `store` as `name` with its trials; on a failure removes the study again, so
// nothing half-imported stays. Returns the new study's id.
Result<StudyId> addImportedStudy(RunStore& store, const std::string& name, const OptunaImport& study);

} // namespace tunelab
