#include "optimize_command.h"

#include "common/file_text.h"
#include "common/machine_limits.h"
#include "exit_codes.h"
#include "json_output.h"
#include "search/samplers.h"
#include "search/search_space.h"
#include "study/command_objective.h"
#include "study_command.h"
#include "text_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace tunelab::cli {

namespace {

constexpr int64_t kDefaultTrials = 20;

// "optimize-20260301-142530", with a suffix when that name is taken.
std::string freshStudyName(const RunStore& store) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "optimize-%Y%m%d-%H%M%S", &local);
    return store.freeStudyName(stamp);
}

// "minimize,maximize" as directions, one per objective; an error is printed when it is not such a list.
std::optional<std::vector<ObjectiveDirection>> objectiveDirections(const std::string& text) {
    std::vector<ObjectiveDirection> directions;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string word = text.substr(start, comma - start);
        if (word == "minimize" || word == "maximize") {
            directions.push_back(word == "maximize" ? ObjectiveDirection::Maximize
                                                    : ObjectiveDirection::Minimize);
        } else {
            std::fprintf(stderr,
                         "error: --directions: expected minimize or maximize for each objective, got '%s'\n",
                         word.c_str());
            return std::nullopt;
        }
        start = comma + 1;
    }
    if (directions.size() > 4) {
        std::fprintf(stderr, "error: --directions: at most 4 objectives, got %zu\n", directions.size());
        return std::nullopt;
    }
    return directions;
}

std::optional<LoadedStudy> createCommandStudy(RunStore& store, const OptimizeOptions& options) {
    if (options.spacePath.empty()) {
        std::fprintf(stderr, "error: --space is needed to create a study\n");
        return std::nullopt;
    }
    const auto spaceText = readRegularFile(options.spacePath, kMaxJsonFileBytes);
    if (!spaceText.ok()) {
        std::fprintf(stderr, "error: --space: %s\n", spaceText.error().c_str());
        return std::nullopt;
    }
    auto space = parseSearchSpace(spaceText.value());
    if (!space.ok()) {
        std::fprintf(stderr, "error: %s is not a valid search space:\n", options.spacePath.c_str());
        printErrors(space.errors());
        return std::nullopt;
    }
    StudySpec spec;
    spec.name = options.name.empty() ? freshStudyName(store) : options.name;
    if (!studyNameIsSafe(spec.name))
        return std::nullopt;
    spec.spaceJson = spaceText.value();
    spec.sampler.type = options.sampler;
    spec.sampler.seed = options.seed;
    spec.sampler.startupTrials = options.startupTrials;
    spec.objective.metric = "value";
    spec.objective.at = ObjectiveAt::Last;
    spec.objective.direction =
        options.direction == "maximize" ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    if (!options.directions.empty()) {
        const auto directions = objectiveDirections(options.directions);
        if (!directions)
            return std::nullopt;
        for (size_t i = 0; i < directions->size(); ++i) {
            ObjectiveSpec objective = spec.objective;
            objective.direction = (*directions)[i];
            objective.name = "value " + std::to_string(i + 1);
            (i == 0 ? spec.objective : spec.moreObjectives.emplace_back()) = objective;
        }
        if (isMultiObjective(spec) && !(options.samplerOption && options.samplerOption->count() > 0))
            spec.sampler.type = "motpe";
    }
    spec.budget.trials = options.trials > 0 ? options.trials : kDefaultTrials;
    spec.parallel = std::max(options.parallel, 1);
    auto sampler = makeSampler(spec.sampler, space.value());
    if (!sampler.ok()) {
        printErrors(sampler.errors());
        return std::nullopt;
    }
    // The rules a study file follows (a sampler that models one objective cannot serve several).
    if (auto checked = parseStudySpec(studySpecToJson(spec)); !checked.ok()) {
        printErrors(checked.errors());
        return std::nullopt;
    }
    auto created = store.createStudy(spec.name, studySpecToJson(spec));
    if (!created.ok()) {
        printErrors(created.errors());
        return std::nullopt;
    }
    // Read back what was stored, so a fresh study and a resumed one run from the same spec.
    return loadStudy(store, spec.name);
}

// The trials as samplers see them: lower is better, running and waiting ones pending.
std::vector<FinishedTrial> samplerHistory(const std::vector<TrialRecord>& trials, const StudySpec& spec) {
    const ObjectiveSpec& objective = spec.objective;
    std::vector<FinishedTrial> history;
    for (const TrialRecord& trial : trials) {
        FinishedTrial finished;
        finished.number = trial.number;
        finished.assignment = trial.params;
        finished.state = trial.state == TrialState::Waiting ? TrialState::Running : trial.state;
        // A trial told pruned without a value tells the model nothing more than a failed one.
        if (finished.state == TrialState::Pruned && std::isnan(trial.value))
            finished.state = TrialState::Failed;
        if (finished.state == TrialState::Complete || finished.state == TrialState::Pruned)
            finished.value = towardsMinimum(objective, trial.value);
        if (finished.state == TrialState::Complete && isMultiObjective(spec)) {
            const std::vector<ObjectiveSpec> objectives = studyObjectives(spec);
            const std::vector<double> values = trialValues(trial);
            for (size_t i = 0; i < objectives.size(); ++i)
                finished.values.push_back(
                    towardsMinimum(objectives[i], i < values.size() ? values[i] : kNoValue));
            finished.violation = boundsViolation(objectives, values);
        }
        history.push_back(std::move(finished));
    }
    return history;
}

void printAskedTrial(const TrialRecord& trial) {
    nlohmann::ordered_json json;
    json["trial"] = trial.number;
    json["params"] = paramsObject(trial.params);
    std::printf("%s\n", json.dump().c_str());
}

int ask(RunStore& store, const LoadedStudy& study) {
    auto space = parseSearchSpace(study.spec.spaceJson);
    if (!space.ok()) {
        printErrors(space.errors());
        return kExitBadInput;
    }
    // A trial that went back to waiting (its evaluator stopped) is handed out before a new one. Trials
    // handed out here have no owner process: this one exits at once, and the trial stays running
    // until `tell`, whatever other processes do with the study meanwhile.
    if (auto waiting = store.claimWaitingTrial(study.record.id, RunStore::TrialOwner::Outside)) {
        printAskedTrial(*waiting);
        return kExitSuccess;
    }
    auto sampler = makeSampler(study.spec.sampler, space.value());
    if (!sampler.ok()) {
        printErrors(sampler.errors());
        return kExitBadInput;
    }
    // The suggestion depends on the trial number it is drawn for: a process that asks at the same
    // moment and takes that number first makes this one suggest again for the next number.
    constexpr int kAttempts = 50;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        const auto trials = store.trials(study.record.id);
        int64_t nextNumber = 0;
        for (const auto& trial : trials)
            nextNumber = std::max(nextNumber, trial.number + 1);
        const auto suggestion =
            sampler.value()->suggest(space.value(), nextNumber, samplerHistory(trials, study.spec));
        if (!suggestion) {
            std::fprintf(stderr, "error: the %s sampler has no trial left to suggest\n",
                         study.spec.sampler.type.c_str());
            return kExitRunFailed;
        }
        auto created = store.createTrialNumbered(study.record.id, nextNumber, *suggestion,
                                                 TrialState::Running, RunStore::TrialOwner::Outside);
        if (!created.ok()) {
            printErrors(created.errors());
            return kExitRunFailed;
        }
        if (created.value()) {
            printAskedTrial(*created.value());
            return kExitSuccess;
        }
    }
    std::fprintf(stderr, "error: other processes kept taking the next trial number; ask again\n");
    return kExitRunFailed;
}

int tell(RunStore& store, const LoadedStudy& study, const AskTellOptions& options) {
    const bool hasValue =
        (options.valueOption && options.valueOption->count() > 0) || !options.values.empty();
    const int objectives = 1 + static_cast<int>(study.spec.moreObjectives.size());
    std::vector<double> moreValues;
    double value = hasValue ? options.value : kNoValue;
    if (!options.values.empty()) {
        if (options.valueOption && options.valueOption->count() > 0) {
            std::fprintf(stderr, "error: give --value or --values, not both\n");
            return kExitBadInput;
        }
        const auto values = parseObjectiveValues(options.values, objectives);
        if (!values) {
            std::fprintf(stderr,
                         "error: --values: expected %d numbers (one per objective of study '%s'), got '%s'\n",
                         objectives, study.spec.name.c_str(), options.values.c_str());
            return kExitBadInput;
        }
        for (const double each : *values)
            if (!std::isfinite(each)) {
                std::fprintf(stderr,
                             "error: --values must be finite numbers (tell --state failed instead)\n");
                return kExitBadInput;
            }
        value = values->front();
        moreValues.assign(values->begin() + 1, values->end());
    } else if (hasValue && objectives > 1) {
        std::fprintf(stderr, "error: study '%s' has %d objectives: give --values with one number for each\n",
                     study.spec.name.c_str(), objectives);
        return kExitBadInput;
    }
    TrialState state = TrialState::Complete;
    if (!options.state.empty() && !parseTrialState(options.state, state)) {
        std::fprintf(stderr, "error: --state: expected complete, pruned or failed, got '%s'\n",
                     options.state.c_str());
        return kExitBadInput;
    }
    if (!isFinal(state)) {
        std::fprintf(stderr, "error: --state: expected complete, pruned or failed, got '%s'\n",
                     options.state.c_str());
        return kExitBadInput;
    }
    if (state == TrialState::Complete && !hasValue) {
        std::fprintf(stderr, objectives > 1 ? "error: give --values V1,V2,..., or --state failed\n"
                                            : "error: give --value V, or --state pruned|failed\n");
        return kExitBadInput;
    }
    if (hasValue && !std::isfinite(value)) {
        std::fprintf(stderr, "error: --value must be a finite number (tell --state failed instead)\n");
        return kExitBadInput;
    }
    const auto trial = store.trial(study.record.id, options.trial);
    if (!trial) {
        std::fprintf(stderr, "error: study '%s' has no trial %lld\n", study.spec.name.c_str(),
                     static_cast<long long>(options.trial));
        return kExitBadInput;
    }
    if (isFinal(trial->state)) {
        std::fprintf(stderr, "error: trial %lld of study '%s' is already %s; it cannot be told again\n",
                     static_cast<long long>(trial->number), study.spec.name.c_str(), toString(trial->state));
        return kExitBadInput;
    }
    if (state == TrialState::Pruned && objectives > 1) {
        std::fprintf(stderr,
                     "error: a study with several objectives does not prune; tell complete or failed\n");
        return kExitBadInput;
    }
    if (state != TrialState::Complete)
        moreValues.clear();
    auto finished = store.finishTrial(trial->id, state, value, options.message, 0, moreValues);
    if (!finished.ok()) {
        printErrors(finished.errors());
        return kExitRunFailed;
    }
    nlohmann::ordered_json json;
    json["trial"] = trial->number;
    json["state"] = toString(state);
    json["value"] = numberOrNull(value);
    if (!moreValues.empty()) {
        nlohmann::ordered_json values = nlohmann::ordered_json::array({numberOrNull(value)});
        for (const double each : moreValues)
            values.push_back(numberOrNull(each));
        json["values"] = values;
    }
    std::printf("%s\n", json.dump().c_str());
    return kExitSuccess;
}

} // namespace

CLI::App* addOptimizeCommand(CLI::App& app, OptimizeOptions& options) {
    CLI::App* optimize = app.add_subcommand(
        "optimize", "Tune a shell command: it reads TUNELAB_PARAMS (JSON) and prints the objective last");
    optimize->add_option("--space", options.spacePath, "Search space file (docs/search-space.md)")
        ->check(CLI::ExistingFile);
    optimize->add_option("--command", options.command, "Shell command evaluated once per trial")->required();
    optimize
        ->add_option("--trials", options.trials, "Trial budget (default 20; counts earlier trials of --name)")
        ->check(CLI::PositiveNumber);
    options.samplerOption =
        optimize
            ->add_option(
                "--sampler", options.sampler,
                "auto (GP, then TPE), random, grid, sobol, tpe, tpe-independent, gp, rf; nsga2 or motpe "
                "for several objectives")
            ->check(CLI::IsMember(samplerNames()));
    optimize->add_option("--seed", options.seed, "Sampler seed");
    optimize
        ->add_option("--startup-trials", options.startupTrials,
                     "Random trials before the sampler models the results")
        ->check(CLI::NonNegativeNumber);
    optimize->add_option("--direction", options.direction, "minimize or maximize")
        ->check(CLI::IsMember({"minimize", "maximize"}));
    optimize
        ->add_option(
            "--directions", options.directions,
            "Several objectives, e.g. minimize,maximize: the command prints one number per objective "
            "on its last line")
        ->excludes("--direction");
    optimize->add_option("--parallel", options.parallel, "Commands run at once")->check(CLI::PositiveNumber);
    optimize->add_flag("--force-parallel", options.forceParallel,
                       "Allow more than 4 commands per core (at most 1024)");
    optimize->add_option("--timeout", options.timeoutSeconds, "Seconds before a command is killed and failed")
        ->check(CLI::PositiveNumber);
    optimize->add_option("--name", options.name, "Study name; an existing study of that name is continued");
    optimize->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    return optimize;
}

namespace {

int optimizeInStore(RunStore& store, const OptimizeOptions& options) {
    std::optional<LoadedStudy> study;
    const bool existing = !options.name.empty() && store.findStudy(options.name).has_value();
    if (existing) {
        study = loadStudy(store, options.name);
        if (study && !study->spec.experimentJson.empty()) {
            std::fprintf(stderr,
                         "error: study '%s' trains an experiment; run it with `tunelab-cli study run %s`\n",
                         options.name.c_str(), options.name.c_str());
            return kExitBadInput;
        }
        // A study keeps its objectives: --directions that say otherwise are refused, not ignored.
        if (study && !options.directions.empty()) {
            const auto directions = objectiveDirections(options.directions);
            if (!directions)
                return kExitBadInput;
            std::vector<ObjectiveDirection> stored;
            for (const ObjectiveSpec& objective : studyObjectives(study->spec))
                stored.push_back(objective.direction);
            if (*directions != stored) {
                std::fprintf(
                    stderr,
                    "error: --directions %s differs from study '%s', which has %zu objective(s); leave "
                    "it out to continue the study, or give another --name\n",
                    options.directions.c_str(), options.name.c_str(), stored.size());
                return kExitBadInput;
            }
        }
        if (study)
            std::fprintf(stderr, "continuing study '%s' (%lld trials so far)\n", options.name.c_str(),
                         static_cast<long long>(store.trialCount(study->record.id)));
    } else {
        study = createCommandStudy(store, options);
    }
    if (!study)
        return kExitBadInput;

    CommandObjective objective(
        {options.command, options.timeoutSeconds, 1 + static_cast<int>(study->spec.moreObjectives.size())});
    StudyRunOptions runOptions;
    runOptions.parallel = std::max(options.parallel, 1);
    runOptions.forceParallel = options.forceParallel;
    if (existing && options.trials > 0)
        runOptions.maxTrials = options.trials;
    auto ran = runStudyInForeground(store, *study, objective, runOptions, false);
    if (!ran.ok()) {
        printErrors(ran.errors());
        return kExitBadInput;
    }
    const auto trials = store.trials(study->record.id);
    auto result = studyResultJson(*study, trials, ran.value().seconds);
    addStoreError(result, store);
    std::printf("%s\n", result.dump().c_str());
    std::fflush(stdout);
    if (ran.value().summary.storeFailed)
        return kExitStoreFailed;
    if (ran.value().interrupted)
        return kExitInterrupted;
    return result["complete"].get<int>() > 0 ? kExitSuccess : kExitRunFailed;
}

} // namespace

int runOptimize(const OptimizeOptions& options) {
    if (const std::string problem = parallelProblem(options.parallel, options.forceParallel);
        !problem.empty()) {
        std::fprintf(stderr, "error: --%s\n", problem.c_str());
        return kExitBadInput;
    }
    auto store = openStudyStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    return checkStoreSaved(*store, optimizeInStore(*store, options));
}

void addAskTellCommands(CLI::App& app, AskTellOptions& options) {
    options.ask =
        app.add_subcommand("ask", "Start a trial of a study: prints {\"trial\": N, \"params\": {...}}");
    options.ask->add_option("--study", options.study, "Study name")->required();
    options.ask->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");

    options.tell = app.add_subcommand("tell", "Report the result of a trial started with ask");
    options.tell->add_option("--study", options.study, "Study name")->required();
    options.tell->add_option("--trial", options.trial, "Trial number printed by ask")->required();
    options.valueOption = options.tell->add_option("--value", options.value, "The objective's value");
    options.tell->add_option("--values", options.values,
                             "A study with several objectives: one value each, e.g. 0.12,3400");
    options.tell->add_option("--state", options.state, "complete (with --value), pruned or failed")
        ->check(CLI::IsMember({"complete", "pruned", "failed"}));
    options.tell->add_option("--message", options.message, "Why the trial failed or was pruned");
    options.tell->add_option("--db,--storage", options.dbPath, "Run store: a file or a postgresql:// URL");

    options.heartbeat = app.add_subcommand(
        "heartbeat", "Say that a trial started with ask is still being evaluated (see the study's "
                     "heartbeat.ask_grace_seconds)");
    options.heartbeat->add_option("--study", options.study, "Study name")->required();
    options.heartbeat->add_option("--trial", options.trial, "Trial number printed by ask")->required();
    options.heartbeat->add_option("--db,--storage", options.dbPath,
                                  "Run store: a file or a postgresql:// URL");
}

int runAskTell(const AskTellOptions& options) {
    auto store = openStudyStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    const auto study = loadStudy(*store, options.study);
    if (!study)
        return kExitBadInput;
    if (options.ask->parsed())
        return checkStoreSaved(*store, ask(*store, *study));
    if (options.heartbeat->parsed()) {
        auto beaten = store->beatTrial(study->record.id, options.trial);
        if (!beaten.ok()) {
            printErrors(beaten.errors());
            return kExitBadInput;
        }
        return checkStoreSaved(*store, kExitSuccess);
    }
    return checkStoreSaved(*store, tell(*store, *study, options));
}

} // namespace tunelab::cli
