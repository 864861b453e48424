#pragma once

#include "engine/pruners.h"
#include "engine/result.h"
#include "engine/run_events.h"
#include "engine/samplers.h"
#include "engine/search_space.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tunelab {

using StudyId = int64_t;

enum class ObjectiveDirection { Minimize, Maximize };
enum class ObjectiveAt { Last, Best };

// What a trial is scored by: a recorded metric ("val_loss", "val_accuracy", "val_mae",
// "train_loss"; "value" for studies whose trials are evaluated elsewhere) at the last epoch or at
// the best epoch, minimized or maximized.
struct ObjectiveSpec {
    std::string metric = "val_loss";
    ObjectiveAt at = ObjectiveAt::Best;
    ObjectiveDirection direction = ObjectiveDirection::Minimize;
};

struct StudyBudget {
    int64_t trials = 20;  // 0: no limit (then seconds must be set)
    double seconds = 0.0; // wall time; 0: no limit
};

// A study: a base experiment plus a search space, a sampler, a pruner, an objective and a budget
// (docs/search-space.md). `experimentJson` is empty for studies whose trials are evaluated
// elsewhere (ask/tell, optimize --command).
struct StudySpec {
    std::string name;
    std::string experimentJson;
    std::string spaceJson;
    SamplerSettings sampler;
    PrunerSettings pruner;
    ObjectiveSpec objective;
    StudyBudget budget;
    int parallel = 1;
};

// Parses a study file. "experiment" is an object or a path (relative to `baseDirectory`);
// "space" is an object or a path. Errors name the JSON path. The space is checked against the
// experiment when there is one.
Result<StudySpec> parseStudySpec(std::string_view jsonText, const std::string& baseDirectory = ".");
Result<StudySpec> loadStudySpec(const std::string& path);
// Canonical JSON with the experiment and space inlined; parseStudySpec reads it back.
std::string studySpecToJson(const StudySpec& spec);

// The experiment of one trial: the base with the trial's parameters applied. Where a trial switches
// an object's "type" (optimizer.type adam -> sgd), keys of the old type that the new one rejects
// (betas, eps) are dropped unless the trial sets them itself.
Result<std::string> trialExperimentJson(const std::string& baseExperimentJson, const Assignment& params);

// The objective's value in "lower is better" form, for samplers and pruners.
inline double towardsMinimum(const ObjectiveSpec& objective, double value) {
    return objective.direction == ObjectiveDirection::Maximize ? -value : value;
}
// Whether `a` is better than `b` for this objective (NaN is never better).
bool isBetter(const ObjectiveSpec& objective, double a, double b);
// The metric's value in one epoch record (NaN when the epoch lacks it).
double epochMetric(const EpochRecord& epoch, const std::string& metric);
bool isKnownMetric(const std::string& metric);

const char* toString(ObjectiveDirection direction);
const char* toString(ObjectiveAt at);

struct StudyRecord {
    StudyId id = 0;
    std::string name;
    std::string specJson; // studySpecToJson
    double createdAt = 0.0;
};

struct TrialRecord {
    int64_t id = 0; // row id, unique across studies
    StudyId studyId = 0;
    int64_t number = 0; // 0-based within the study
    TrialState state = TrialState::Waiting;
    Assignment params; // only the parameters that applied
    double value = kNoValue;
    RunId runId = 0; // the training run, 0 for trials evaluated elsewhere
    std::string message;
    int prunedEpoch = 0; // the epoch it stopped at when pruned
    int requeues = 0;    // times it was re-queued after its process died
    double startedAt = 0.0;
    double finishedAt = 0.0;
    std::map<int, double> intermediate; // epoch -> objective value; filled on request
};

} // namespace tunelab
