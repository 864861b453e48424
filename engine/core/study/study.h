#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "search/pruners.h"
#include "search/samplers.h"
#include "search/search_space.h"
#include "store/study_records.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

enum class ObjectiveDirection { Minimize, Maximize };
enum class ObjectiveAt { Last, Best };

// What a trial is scored by: a recorded metric ("val_loss", "val_accuracy", "val_mae",
// "train_loss"; "value" for studies whose trials are evaluated elsewhere) at the last epoch or at
// the best epoch, minimized or maximized.
// In a study with several objectives each may carry a name (shown in tables and plots; the metric
// when empty), a reference value for the hypervolume (NaN: derived from the trials), and bounds a
// trial must keep to count as feasible (NaN: none): "parameters at most 50,000".
struct ObjectiveSpec {
    std::string metric = "val_loss";
    ObjectiveAt at = ObjectiveAt::Best;
    ObjectiveDirection direction = ObjectiveDirection::Minimize;
    std::string name;
    double reference = kNoValue;
    double atMost = kNoValue;
    double atLeast = kNoValue;
};
// The objective's name for people: its name, else its metric.
std::string objectiveLabel(const ObjectiveSpec& objective);

struct StudyBudget {
    int64_t trials = 20;  // 0: no limit (then seconds must be set)
    double seconds = 0.0; // wall time; 0: no limit
};

// Population-based training (docs/studies.md, "Population-based training"): `size` members train at
// once, each in stretches of `interval` epochs. When a member ends a stretch and the population has
// caught up with it, a member in the worst `quantile` copies the weights and optimizer state of one
// in the best `quantile` (exploit) and perturbs the hyperparameters it copied (explore: each one is
// drawn afresh with `resampleProbability`, else moved by a factor of 0.8 or 1.2, or to a
// neighbouring choice). size 0: not a population study.
struct PopulationSettings {
    int size = 0;
    int interval = 2;
    double quantile = 0.25;
    double resampleProbability = 0.25;
};

// Trials whose worker fell silent (docs/scale-out.md). Every process that evaluates trials beats
// for them every few seconds; a running trial whose last beat is older than `graceSeconds` is failed
// as stale (its intermediate values kept) and retried as a new trial with the same parameters, at
// most `maxRetries` times. A trial handed out by `ask` goes stale only where `askGraceSeconds` is set
// (its evaluator beats with `tunelab-cli heartbeat`, or reports within that time).
struct HeartbeatSettings {
    double graceSeconds = 60.0;
    int maxRetries = 2;
    double askGraceSeconds = 0.0; // 0: never
};

// A study: a base experiment plus a search space, a sampler, a pruner, an objective and a budget
// (docs/search-space.md). `experimentJson` is empty for studies whose trials are evaluated
// elsewhere (ask/tell, optimize --command).
// A study with several objectives ("objectives": [...] in its file) keeps the first in `objective`
// and the others in `moreObjectives`; its result is a Pareto front rather than one best trial.
struct StudySpec {
    std::string name;
    std::string experimentJson;
    std::string spaceJson;
    SamplerSettings sampler;
    PrunerSettings pruner;
    ObjectiveSpec objective;
    std::vector<ObjectiveSpec> moreObjectives;
    StudyBudget budget;
    int parallel = 1;
    PopulationSettings population;
    HeartbeatSettings heartbeat;
};

inline bool isPopulationStudy(const StudySpec& spec) {
    return spec.population.size > 0;
}

inline bool isMultiObjective(const StudySpec& spec) {
    return !spec.moreObjectives.empty();
}
// Every objective of the study, the first one first.
std::vector<ObjectiveSpec> studyObjectives(const StudySpec& spec);
// A trial's value of every objective, in the study's order (NaN where it has none).
std::vector<double> trialValues(const TrialRecord& trial);
// How far values (one per objective) lie outside the objectives' bounds: the sum of each overshoot
// relative to its bound (at least 1 in magnitude); 0 when they keep to every bound, infinity when a
// bounded value is missing.
double boundsViolation(const std::vector<ObjectiveSpec>& objectives, const std::vector<double>& values);

// Parses a study file. "experiment" is an object or a path (relative to `baseDirectory`);
// "space" is an object or a path. Errors name the JSON path. The space is checked against the
// experiment when there is one.
Result<StudySpec> parseStudySpec(std::string_view jsonText, const std::string& baseDirectory = ".");
Result<StudySpec> loadStudySpec(const std::string& path);
// Canonical JSON with the experiment and space inlined; parseStudySpec reads it back.
std::string studySpecToJson(const StudySpec& spec);

// The objective's value in "lower is better" form, for samplers and pruners.
inline double towardsMinimum(const ObjectiveSpec& objective, double value) {
    return objective.direction == ObjectiveDirection::Maximize ? -value : value;
}
// Whether `a` is better than `b` for this objective (NaN is never better).
bool isBetter(const ObjectiveSpec& objective, double a, double b);
// A trial's value from the values it reported per epoch, under the objective's rule (its best epoch
// or its last): the one rule for complete and pruned trials alike. NaN when there are none.
double objectiveOverEpochs(const std::map<int, double>& values, const ObjectiveSpec& objective);
// The epochs the study's base experiment trains for; 0 for a study without an experiment.
int studyEpochs(const StudySpec& spec);
// The metric's value in one epoch record (NaN when the epoch lacks it).
double epochMetric(const EpochRecord& epoch, const std::string& metric);
bool isKnownMetric(const std::string& metric);

const char* toString(ObjectiveDirection direction);
const char* toString(ObjectiveAt at);

} // namespace tunelab
