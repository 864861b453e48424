#include "common/machine_limits.h"
#include "exit_codes.h"
#include "json_output.h"
#include "spec/spec.h"
#include "store_access.h"
#include "study/experiment_objective.h"
#include "study_command.h"
#include "study_edit_command.h"

#include <cstdio>
#include <optional>
#include <string>

// `study run`, `study resume` and `worker`: the study verbs that train each trial's experiment (LibTorch).

namespace tunelab::cli {

namespace {

int runStudyCommand(RunStore& store, const StudyOptions& options, bool resume) {
    const bool worker = options.worker->parsed();
    std::optional<LoadedStudy> study;
    if (!resume && !worker && isExistingFile(options.target) && !store.findStudy(options.target))
        study = createStudyFromFile(store, options.target, options.name, true);
    else
        study = loadStudy(store, options.target);
    if (!study)
        return kExitBadInput;
    if (options.addTrials > 0) {
        if (options.trials > 0) {
            std::fprintf(stderr, "error: give --trials (this run's budget) or --add-trials (a raised stored "
                                 "budget), not both\n");
            return kExitBadInput;
        }
        if (!addStudyTrials(store, *study, options.addTrials))
            return kExitRunFailed;
    }
    if (study->spec.experimentJson.empty()) {
        std::fprintf(
            stderr,
            "error: study '%s' has no experiment: evaluate its trials with `tunelab-cli optimize --name "
            "%s --command CMD` or with ask/tell\n",
            study->spec.name.c_str(), study->spec.name.c_str());
        return kExitBadInput;
    }
    if (!options.device.empty()) {
        if (const std::string problem = deviceStringError(options.device); !problem.empty()) {
            std::fprintf(stderr, "error: --device: %s\n", problem.c_str());
            return kExitBadInput;
        }
    }
    RunOptions runOptions;
    runOptions.device = options.device;
    runOptions.threads = options.threads;
    ExperimentObjective objective(store, study->spec.objective, runOptions);
    objective.setMoreObjectives(study->spec.moreObjectives);
    StudyRunOptions runnerOptions;
    runnerOptions.forceParallel = options.forceParallel;
    if (!resume) {
        runnerOptions.parallel = options.parallel;
        if (options.trials > 0)
            runnerOptions.maxTrials = options.trials;
        if (options.seconds > 0.0)
            runnerOptions.maxSeconds = options.seconds;
    }
    if (worker) {
        runnerOptions.waitForOthers = true;
        runnerOptions.maxStarted = options.maxTrials;
    }
    auto ran = runStudyInForeground(store, *study, objective, runnerOptions, true);
    if (!ran.ok()) {
        printErrors(ran.errors());
        return kExitBadInput;
    }
    const StudyRunSummary& summary = ran.value().summary;
    if (!worker && summary.trialsStarted == 0 && summary.endReason.rfind("the trial budget is spent", 0) == 0)
        std::fprintf(stderr, "nothing ran: %s; `tunelab-cli study run %s --add-trials N` runs N more\n",
                     summary.endReason.c_str(), study->spec.name.c_str());
    const auto trials = store.trials(study->record.id);
    auto result = studyResultJson(*study, trials, ran.value().seconds);
    addStoreError(result, store);
    if (options.json) {
        std::printf("%s\n", result.dump().c_str());
    } else {
        const auto best = bestTrial(trials, study->spec.objective);
        const int waiting = countState(trials, TrialState::Waiting);
        std::printf("study '%s': %lld trials (%d complete, %d pruned, %d failed%s)\n",
                    study->spec.name.c_str(), static_cast<long long>(trials.size()),
                    countState(trials, TrialState::Complete), countState(trials, TrialState::Pruned),
                    countState(trials, TrialState::Failed),
                    waiting > 0 ? (", " + std::to_string(waiting) + " waiting").c_str() : "");
        if (best)
            std::printf("best %s %s at trial %lld: %s\n", study->spec.objective.metric.c_str(),
                        formatStudyValue(best->value).c_str(), static_cast<long long>(best->number),
                        paramsText(best->params).c_str());
    }
    std::fflush(stdout);
    if (summary.storeFailed)
        return kExitStoreFailed;
    if (ran.value().interrupted)
        return kExitInterrupted;
    if (worker) // its part is done whatever the trials scored; the study's results are for `study best`
        return kExitSuccess;
    return countState(trials, TrialState::Complete) > 0 ? kExitSuccess : kExitRunFailed;
}

} // namespace

int runStudyTraining(const StudyOptions& options) {
    if (options.parallel > 0) {
        if (const std::string problem = parallelProblem(options.parallel, options.forceParallel);
            !problem.empty()) {
            std::fprintf(stderr, "error: --%s\n", problem.c_str());
            return kExitBadInput;
        }
    }
    if (const std::string problem = threadsProblem(options.threads); !problem.empty()) {
        std::fprintf(stderr, "error: --%s\n", problem.c_str());
        return kExitBadInput;
    }
    // A study file is checked before any store file is made (a name of a stored study is no file).
    if (!options.resume->parsed() && !options.worker->parsed() && isExistingFile(options.target) &&
        !studyFileIsValid(options.target))
        return kExitBadInput;
    auto store = openStudyStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    return checkStoreSaved(*store, runStudyCommand(*store, options, options.resume->parsed()));
}

} // namespace tunelab::cli
