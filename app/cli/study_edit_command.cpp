#include "study_edit_command.h"

#include "exit_codes.h"
#include "search/assignment_reader.h"
#include "search/search_space.h"
#include "spec/spec.h"
#include "store_access.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace tunelab::cli {

namespace {

// A fresh seed for a copy: 31 bits, so it reads the same everywhere it is shown.
uint64_t freshSeed(uint64_t differentFrom) {
    std::random_device device;
    uint64_t seed = differentFrom;
    while (seed == differentFrom)
        seed = device() & 0x7fffffffu;
    return seed;
}

} // namespace

int enqueueStudyCommand(RunStore& store, const StudyOptions& options) {
    auto study = loadStudy(store, options.target);
    if (!study)
        return kExitBadInput;
    const auto space = parseSearchSpace(study->spec.spaceJson);
    if (!space.ok()) {
        printErrors(space.errors());
        return kExitBadInput;
    }
    auto params = readAssignment(options.params, space.value());
    if (!params.ok()) {
        std::fprintf(stderr, "error: --params for study '%s':\n", study->spec.name.c_str());
        printErrors(params.errors());
        return kExitBadInput;
    }
    if (!study->spec.experimentJson.empty()) {
        // The trial's experiment must train: the same check a sampled trial gets before it runs.
        auto experiment = trialExperimentJson(study->spec.experimentJson, params.value());
        auto checked = experiment.ok() ? parseExperimentSpec(experiment.value())
                                       : Result<ExperimentSpec>(Errors{experiment.errors()});
        if (!checked.ok()) {
            std::fprintf(stderr, "error: with these parameters the study's experiment is invalid:\n");
            printErrors(checked.errors());
            return kExitBadInput;
        }
    }
    auto trial = store.createTrial(study->record.id, params.value(), TrialState::Waiting);
    if (!trial.ok()) {
        printErrors(trial.errors());
        return kExitRunFailed;
    }
    std::fprintf(stderr,
                 "trial %lld of study '%s' is waiting: it runs first at the next `study run` or `study "
                 "resume`, even past the budget\n",
                 static_cast<long long>(trial.value().number), study->spec.name.c_str());
    std::printf("%lld\n", static_cast<long long>(trial.value().number));
    return kExitSuccess;
}

int copyStudyCommand(RunStore& store, const StudyOptions& options) {
    auto source = loadStudy(store, options.target);
    if (!source)
        return kExitBadInput;
    StudySpec spec = source->spec;
    if (!options.name.empty()) {
        if (!studyNameIsSafe(options.name))
            return kExitBadInput;
        if (store.findStudy(options.name)) {
            std::fprintf(stderr, "error: a study named '%s' already exists in %s\n", options.name.c_str(),
                         store.path().c_str());
            return kExitBadInput;
        }
        spec.name = options.name;
    } else {
        spec.name = store.freeStudyName(source->spec.name);
    }
    spec.sampler.seed =
        options.seed >= 0 ? static_cast<uint64_t>(options.seed) : freshSeed(source->spec.sampler.seed);
    auto created = store.createStudy(spec.name, studySpecToJson(spec));
    if (!created.ok()) {
        printErrors(created.errors());
        return kExitBadInput;
    }
    std::fprintf(stderr, "study '%s' created from '%s' with seed %llu ('%s' has seed %llu); no trials yet\n",
                 spec.name.c_str(), source->spec.name.c_str(),
                 static_cast<unsigned long long>(spec.sampler.seed), source->spec.name.c_str(),
                 static_cast<unsigned long long>(source->spec.sampler.seed));
    std::printf("%s\n", spec.name.c_str());
    return kExitSuccess;
}

bool addStudyTrials(RunStore& store, LoadedStudy& study, int64_t count) {
    const int64_t trials = store.trialCount(study.record.id);
    const int64_t before = study.spec.budget.trials;
    StudySpec raised = study.spec;
    raised.budget.trials = std::max(before, trials) + count;
    const std::string json = studySpecToJson(raised);
    auto updated = store.updateStudySpec(study.record.id, study.record.specJson, json);
    if (!updated.ok()) {
        printErrors(updated.errors());
        return false;
    }
    std::fprintf(stderr, "study '%s': trial budget raised from %s to %lld (%lld trials so far)\n",
                 study.spec.name.c_str(), before > 0 ? std::to_string(before).c_str() : "no limit",
                 static_cast<long long>(raised.budget.trials), static_cast<long long>(trials));
    study.spec = std::move(raised);
    study.record.specJson = json;
    return true;
}

} // namespace tunelab::cli
