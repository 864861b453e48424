#include "study_command.h"

#include "common/names.h"
#include "exit_codes.h"
#include "json_output.h"
#include "pareto_output.h"
#include "search/search_space.h"
#include "spec/spec.h"
#include "store_access.h"
#include "study/command_objective.h"
#include "study/study_settings_check.h"
#include "study_edit_command.h"
#include "study_interop_command.h"
#include "text_format.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <unistd.h>

namespace tunelab::cli {

namespace {

volatile std::sig_atomic_t g_interruptCount = 0;

// The first Ctrl-C stops the study gracefully; a second one leaves at once.
extern "C" void onStudyInterrupt(int) {
    if (++g_interruptCount > 1)
        _exit(kExitInterrupted);
}

std::string fileStem(const std::string& path) {
    std::string base = path.substr(path.find_last_of('/') + 1);
    const size_t dot = base.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

} // namespace

std::string formatStudyValue(double value) {
    return formatNumber(value, "%.6g");
}

std::string paramsText(const Assignment& params) {
    std::string text;
    for (const auto& [path, value] : params) {
        if (!text.empty())
            text += ' ';
        const bool fraction = value.isNumber() && value.json.find_first_of(".eE") != std::string::npos;
        text += path + '=' + (fraction ? formatNumber(value.toDouble(), "%.6g") : value.json);
    }
    return text;
}

bool studyFileIsValid(const std::string& path) {
    const auto loaded = loadStudySpec(path);
    if (!loaded.ok())
        printErrors(loaded.errors());
    return loaded.ok();
}

bool isExistingFile(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

int countState(const std::vector<TrialRecord>& trials, TrialState state) {
    return static_cast<int>(std::count_if(trials.begin(), trials.end(),
                                          [state](const TrialRecord& t) { return t.state == state; }));
}

std::optional<LoadedStudy> createStudyFromFile(RunStore& store, const std::string& path,
                                               const std::string& name, bool reuseExisting) {
    auto loaded = loadStudySpec(path);
    if (!loaded.ok()) {
        printErrors(loaded.errors());
        return std::nullopt;
    }
    StudySpec spec = loaded.take();
    spec.name = !name.empty() ? name : !spec.name.empty() ? spec.name : fileStem(path);
    if (!studyNameIsSafe(spec.name))
        return std::nullopt;
    if (store.findStudy(spec.name)) {
        if (reuseExisting) {
            std::fprintf(stderr,
                         "running the existing study '%s' (its stored spec; the file is not read again)\n",
                         spec.name.c_str());
            return loadStudy(store, spec.name);
        }
        std::fprintf(stderr, "error: a study named '%s' already exists in %s (choose another with --name)\n",
                     spec.name.c_str(), store.path().c_str());
        return std::nullopt;
    }
    const std::string specJson = studySpecToJson(spec);
    auto created = store.createStudy(spec.name, specJson);
    if (!created.ok()) {
        printErrors(created.errors());
        return std::nullopt;
    }
    auto record = store.study(created.value());
    if (!record)
        return std::nullopt;
    std::fprintf(stderr, "study '%s' created in %s\n", spec.name.c_str(), store.path().c_str());
    printSettingsWarnings(spec);
    return LoadedStudy{*record, std::move(spec)};
}

namespace {

int createStudyCommand(RunStore& store, const StudyOptions& options) {
    auto study = createStudyFromFile(store, options.target, options.name, false);
    if (!study)
        return kExitBadInput;
    std::printf("%s\n", study->spec.name.c_str());
    return kExitSuccess;
}

nlohmann::ordered_json trialJson(const TrialRecord& trial) {
    nlohmann::ordered_json json;
    json["number"] = trial.number;
    json["state"] = toString(trial.state);
    json["value"] = numberOrNull(trial.value);
    if (!trial.moreValues.empty()) {
        nlohmann::ordered_json values = nlohmann::ordered_json::array();
        for (const double value : trialValues(trial))
            values.push_back(numberOrNull(value));
        json["values"] = values;
    }
    json["params"] = paramsObject(trial.params);
    if (trial.runId != 0)
        json["run_id"] = trial.runId;
    if (trial.prunedEpoch > 0)
        json["pruned_epoch"] = trial.prunedEpoch;
    if (trial.member >= 0) {
        json["member"] = trial.member;
        json["parent_trial"] =
            trial.parentNumber >= 0 ? nlohmann::ordered_json(trial.parentNumber) : nlohmann::ordered_json();
        json["start_epoch"] = trial.startEpoch;
    }
    json["message"] = trial.message;
    json["started_at"] = numberOrNull(trial.startedAt > 0 ? trial.startedAt : std::nan(""));
    json["finished_at"] = numberOrNull(trial.finishedAt > 0 ? trial.finishedAt : std::nan(""));
    return json;
}

int statusCommand(const RunStore& store, const StudyOptions& options) {
    const auto study = loadStudy(store, options.target);
    if (!study)
        return kExitBadInput;
    const auto trials = store.trials(study->record.id);
    const auto best = bestTrial(trials, study->spec.objective);
    const ObjectiveSpec& objective = study->spec.objective;
    if (options.json) {
        nlohmann::ordered_json json = studyResultJson(*study, trials, 0.0);
        json.erase("seconds");
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& trial : trials)
            list.push_back(trialJson(trial));
        json["trial_list"] = list;
        std::printf("%s\n", json.dump(2).c_str());
        return kExitSuccess;
    }
    if (isMultiObjective(study->spec)) {
        std::string objectives;
        for (const ObjectiveSpec& each : studyObjectives(study->spec))
            objectives += (objectives.empty() ? "" : ", ") + std::string(toString(each.direction)) + " " +
                          objectiveLabel(each);
        std::printf("study %s: %s, sampler %s\n", study->spec.name.c_str(), objectives.c_str(),
                    study->spec.sampler.type.c_str());
    } else {
        std::printf("study %s: %s %s (%s), sampler %s, pruner %s\n", study->spec.name.c_str(),
                    toString(objective.direction), objective.metric.c_str(), toString(objective.at),
                    study->spec.sampler.type.c_str(), study->spec.pruner.type.c_str());
    }
    // A failed attempt that a later trial retries (its worker fell silent) is not one of the budget's.
    const auto retried = std::count_if(trials.begin(), trials.end(),
                                       [](const TrialRecord& trial) { return trial.retryOf >= 0; });
    const std::string retriedText =
        retried > 0 ? " (" + std::to_string(retried) + " of them retried: their worker fell silent)"
                    : std::string();
    std::printf("trials %lld of %lld: %d complete, %d pruned, %d failed%s, %d running, %d waiting\n",
                static_cast<long long>(trials.size() - static_cast<size_t>(retried)),
                static_cast<long long>(study->spec.budget.trials), countState(trials, TrialState::Complete),
                countState(trials, TrialState::Pruned), countState(trials, TrialState::Failed),
                retriedText.c_str(), countState(trials, TrialState::Running),
                countState(trials, TrialState::Waiting));
    if (isMultiObjective(study->spec))
        printParetoStatus(*study, trials);
    else if (best)
        std::printf("best %s at trial %lld: %s\n", formatStudyValue(best->value).c_str(),
                    static_cast<long long>(best->number), paramsText(best->params).c_str());
    else
        std::printf("best: no complete trial yet\n");
    constexpr size_t kShownTrials = 10;
    if (!trials.empty()) {
        std::printf("\n%-6s %-9s %12s  %s\n", "trial", "state", "value", "params / message");
        const size_t first = trials.size() > kShownTrials ? trials.size() - kShownTrials : 0;
        for (size_t i = first; i < trials.size(); ++i) {
            const TrialRecord& trial = trials[i];
            std::string details = paramsText(trial.params);
            if (!trial.message.empty() && trial.state != TrialState::Complete)
                details += "  (" + trial.message + ")";
            std::printf("%-6lld %-9s %12s  %s\n", static_cast<long long>(trial.number), toString(trial.state),
                        formatStudyValue(trial.value).c_str(), details.c_str());
        }
    }
    return kExitSuccess;
}

int bestCommand(const RunStore& store, const StudyOptions& options) {
    const auto study = loadStudy(store, options.target);
    if (!study)
        return kExitBadInput;
    if (isMultiObjective(study->spec))
        return printParetoFront(*study, store.trials(study->record.id), options.format);
    const auto best = bestTrial(store.trials(study->record.id), study->spec.objective);
    if (!best) {
        std::fprintf(stderr, "error: study '%s' has no complete trial yet\n", study->spec.name.c_str());
        return kExitRunFailed;
    }
    if (options.format == "text") {
        std::printf("%s %s (trial %lld)\n", study->spec.objective.metric.c_str(),
                    formatStudyValue(best->value).c_str(), static_cast<long long>(best->number));
        for (const auto& [path, value] : best->params)
            std::printf("%s = %s\n", path.c_str(), value.json.c_str());
        return kExitSuccess;
    }
    if (study->spec.experimentJson.empty()) {
        // Nothing to apply the parameters to: the parameters themselves.
        std::printf("%s\n", paramsObject(best->params).dump(2).c_str());
        return kExitSuccess;
    }
    // The same complete spec the trial trained (keys of a switched optimizer type dropped), so it
    // reruns as is with `tunelab-cli train`.
    auto spec = trialExperimentJson(study->spec.experimentJson, best->params);
    if (!spec.ok()) {
        printErrors(spec.errors());
        return kExitRunFailed;
    }
    const auto parsed = nlohmann::ordered_json::parse(spec.value(), nullptr, false, true);
    std::printf("%s\n", parsed.is_discarded() ? spec.value().c_str() : parsed.dump(2).c_str());
    return kExitSuccess;
}

int listCommand(const RunStore& store, const StudyOptions& options) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    if (!options.json && isatty(STDOUT_FILENO))
        std::printf("%-24s %-8s %7s %8s %6s %6s %12s  %s\n", "name", "sampler", "trials", "complete",
                    "pruned", "failed", "best", "created");
    for (const StudyRecord& record : store.listStudies()) {
        auto spec = parseStudySpec(record.specJson);
        const auto trials = store.trials(record.id);
        LoadedStudy study{record, spec.ok() ? spec.take() : StudySpec{}};
        if (study.spec.name.empty())
            study.spec.name = record.name;
        if (options.json) {
            nlohmann::ordered_json json = studyResultJson(study, trials, 0.0);
            json.erase("seconds");
            json["created_at"] = record.createdAt;
            list.push_back(json);
            continue;
        }
        const auto best = bestTrial(trials, study.spec.objective);
        std::printf("%-24s %-8s %7lld %8d %6d %6d %12s  %s\n", record.name.c_str(),
                    study.spec.sampler.type.c_str(), static_cast<long long>(trials.size()),
                    countState(trials, TrialState::Complete), countState(trials, TrialState::Pruned),
                    countState(trials, TrialState::Failed),
                    best ? formatStudyValue(best->value).c_str() : "-", formatTime(record.createdAt).c_str());
    }
    if (options.json)
        std::printf("%s\n", list.dump().c_str());
    return kExitSuccess;
}

int deleteCommand(RunStore& store, const StudyOptions& options) {
    const auto record = store.findStudy(options.target);
    if (!record) {
        printNotFound(store, "no study named '" + options.target + "'");
        return kExitBadInput;
    }
    // Trials of processes of this host that died go back to waiting first: what is still running is
    // being evaluated (or belongs to another host's worker whose heartbeat has not yet gone stale).
    store.requeueInterruptedTrials(record->id);
    const auto trials = store.trials(record->id);
    if (const int running = countState(trials, TrialState::Running); running > 0 && !options.force) {
        std::fprintf(stderr,
                     "error: study '%s' has %d running trial%s: a process is evaluating %s (study status "
                     "lists them). Stop its workers first, or add --force to delete it anyway; their results "
                     "would be lost\n",
                     record->name.c_str(), running, running == 1 ? "" : "s", running == 1 ? "it" : "them");
        return kExitBadInput;
    }
    if (auto deleted = store.deleteStudy(record->id); !deleted.ok()) {
        std::fprintf(stderr, "error: %s; the study is still there\n", deleted.error().c_str());
        return kExitStoreFailed;
    }
    std::fprintf(stderr, "study '%s' deleted (its training runs stay in the runs list)\n",
                 record->name.c_str());
    return kExitSuccess;
}

} // namespace

void printSettingsWarnings(const StudySpec& spec) {
    for (const std::string& warning : studySettingsWarnings(spec))
        std::fprintf(stderr, "warning: %s\n", warning.c_str());
}

std::unique_ptr<RunStore> openStudyStore(const std::string& dbPath) {
    return openRunStore(dbPath);
}

bool studyNameIsSafe(const std::string& name) {
    if (const std::string problem = nameProblem(name); !problem.empty()) {
        std::fprintf(stderr, "error: study name '%s': %s\n", name.c_str(), problem.c_str());
        return false;
    }
    return true;
}

std::optional<LoadedStudy> loadStudy(const RunStore& store, const std::string& name) {
    const auto record = store.findStudy(name);
    if (!record) {
        printNotFound(store, "no study named '" + name + "'",
                      " (create one with `tunelab-cli study create STUDY.json` or `tunelab-cli optimize`)");
        return std::nullopt;
    }
    auto spec = parseStudySpec(record->specJson);
    if (!spec.ok()) {
        std::fprintf(stderr, "error: the stored spec of study '%s' does not parse:\n", name.c_str());
        printErrors(spec.errors());
        return std::nullopt;
    }
    LoadedStudy study{*record, spec.take()};
    study.spec.name = record->name;
    return study;
}

nlohmann::ordered_json paramsObject(const Assignment& params) {
    return nlohmann::ordered_json::parse(paramsToJson(params));
}

nlohmann::ordered_json studyResultJson(const LoadedStudy& study, const std::vector<TrialRecord>& trials,
                                       double seconds) {
    const auto best = bestTrial(trials, study.spec.objective);
    nlohmann::ordered_json json;
    json["best_value"] = best ? numberOrNull(best->value) : nlohmann::ordered_json(nullptr);
    json["best_params"] = best ? paramsObject(best->params) : nlohmann::ordered_json(nullptr);
    json["best_trial"] = best ? nlohmann::ordered_json(best->number) : nlohmann::ordered_json(nullptr);
    json["trials"] = trials.size();
    json["complete"] = countState(trials, TrialState::Complete);
    json["failed"] = countState(trials, TrialState::Failed);
    json["pruned"] = countState(trials, TrialState::Pruned);
    json["running"] = countState(trials, TrialState::Running);
    json["waiting"] = countState(trials, TrialState::Waiting);
    json["study"] = study.spec.name;
    json["metric"] = study.spec.objective.metric;
    json["direction"] = toString(study.spec.objective.direction);
    json["seconds"] = seconds;
    if (isMultiObjective(study.spec))
        addParetoResults(json, study, trials);
    return json;
}

Result<ForegroundRun> runStudyInForeground(RunStore& store, const LoadedStudy& study,
                                           TrialObjective& objective, StudyRunOptions options,
                                           bool announceStarts) {
    const ObjectiveSpec objectiveSpec = study.spec.objective;
    const auto bestSoFar = bestTrial(store.trials(study.record.id), objectiveSpec);
    double bestValue = bestSoFar ? bestSoFar->value : kNoValue;
    int64_t bestNumber = bestSoFar ? bestSoFar->number : -1;
    const bool several = isMultiObjective(study.spec);
    ParetoTracker front(studyObjectives(study.spec));
    if (several)
        for (const TrialRecord& trial : store.trials(study.record.id))
            front.add(trial);
    // Population studies: each trial's member, to tell an exploit (a copy of another member) apart.
    std::map<int64_t, int> memberOf;
    for (const TrialRecord& trial : store.trials(study.record.id))
        memberOf[trial.number] = trial.member;
    const int interval = study.spec.population.interval;
    const int epochs = studyEpochs(study.spec);
    const auto print = [&](const StudyEvent& event) {
        const TrialRecord& trial = event.trial;
        if (event.kind == StudyEventKind::TrialStarted && announceStarts) {
            std::string place;
            if (trial.member >= 0) {
                memberOf[trial.number] = trial.member;
                place = "member " + std::to_string(trial.member) + ", epochs " +
                        std::to_string(trial.startEpoch + 1) + "-" +
                        std::to_string(std::min(trial.startEpoch + interval, epochs));
                if (trial.parentNumber >= 0) {
                    const auto parent = memberOf.find(trial.parentNumber);
                    const bool exploit = parent != memberOf.end() && parent->second != trial.member;
                    place += exploit ? ", copies member " + std::to_string(parent->second) + " (trial " +
                                           std::to_string(trial.parentNumber) + ")"
                                     : ", continues trial " + std::to_string(trial.parentNumber);
                }
                place += "  ";
            }
            std::fprintf(stderr, "trial %lld started  %s%s\n", static_cast<long long>(trial.number),
                         place.c_str(), paramsText(trial.params).c_str());
        } else if (event.kind == StudyEventKind::TrialFinished) {
            if (const auto better = bestTrial({trial}, objectiveSpec);
                better && (bestNumber < 0 || isBetter(objectiveSpec, better->value, bestValue))) {
                bestValue = better->value;
                bestNumber = better->number;
            }
            std::string line = "trial " + std::to_string(trial.number) + " " + toString(trial.state);
            if (several && trial.state == TrialState::Complete)
                line += "  " + front.valuesText(trial);
            else if (!std::isnan(trial.value))
                line += "  " + objectiveSpec.metric + " " + formatStudyValue(trial.value);
            line += "  " + paramsText(trial.params);
            if (!trial.message.empty() && trial.state != TrialState::Complete)
                line += "  (" + trial.message + ")";
            if (several) {
                front.add(trial);
                line += "  [Pareto front: " + std::to_string(front.size()) + " trials]";
            } else if (bestNumber >= 0) {
                line += "  [best " + formatStudyValue(bestValue) + " at trial " + std::to_string(bestNumber) +
                        "]";
            }
            std::fprintf(stderr, "%s\n", line.c_str());
        } else if (event.kind == StudyEventKind::StudyFinished && event.summary.storeFailed) {
            std::fprintf(stderr, "error: the study cannot go on: %s\n", event.message.c_str());
        } else if (event.kind == StudyEventKind::StudyFinished && !event.message.empty()) {
            std::fprintf(stderr, "study finished: %s\n", event.message.c_str());
        }
        std::fflush(stderr);
    };

    struct sigaction action {};
    action.sa_handler = onStudyInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    const auto start = std::chrono::steady_clock::now();
    StudyRunner runner(store, study.record.id, objective, std::move(options));
    auto started = runner.start();
    if (!started.ok())
        return Result<ForegroundRun>(Errors{started.errors()});
    // The study's events, printed here as they come, until its last one.
    std::optional<StudyRunSummary> summary;
    bool stopRequested = false;
    while (!summary) {
        if (g_interruptCount > 0 && !stopRequested) {
            stopRequested = true;
            std::fprintf(stderr,
                         "stopping: running trials go back to waiting (Ctrl-C again to quit at once)\n");
            runner.requestStop();
        }
        // Wakes for the next event, or to notice Ctrl-C.
        runner.events().waitForEvents(std::chrono::milliseconds(50));
        for (const StudyEvent& event : runner.events().drain()) {
            print(event);
            if (event.kind == StudyEventKind::StudyFinished)
                summary = event.summary;
        }
    }
    runner.wait();
    store.flush();
    ForegroundRun run;
    run.summary = *summary;
    run.interrupted = stopRequested || run.summary.stopped;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

void addTrialTrainingOptions(CLI::App* command, StudyOptions& options, const std::string& parallelHelp) {
    command->add_option("--parallel", options.parallel, parallelHelp)->check(CLI::PositiveNumber);
    command->add_flag("--force-parallel", options.forceParallel,
                      "Allow more than 4 trials per core (at most 1024)");
    command->add_option("--device", options.device, "auto, cpu, cuda or cuda:N (overrides the experiment)");
    command->add_option("--threads", options.threads, "CPU threads per trial (0 = one per core)")
        ->check(CLI::NonNegativeNumber);
    command->add_flag("--json", options.json, "Print the result as one JSON line");
}

CLI::App* addStudyCommand(CLI::App& app, StudyOptions& options) {
    addWorkerCommand(app, options);
    CLI::App* study = app.add_subcommand("study", "Create, run and inspect hyperparameter studies");
    study->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    study->require_subcommand(1);

    options.create = study->add_subcommand("create", "Create a study from a study file");
    options.create->add_option("file", options.target, "Study file (JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    options.create->add_option("--name", options.name,
                               "Study name (default: the file's \"name\", else its stem)");

    options.run =
        study->add_subcommand("run", "Run a study (a study file creates it first) until its budget is spent");
    options.run->add_option("study", options.target, "Study name or study file")->required();
    options.run->add_option("--name", options.name, "Name of the study a file creates");
    options.run
        ->add_option("--trials", options.trials, "Trial budget (counts the study's earlier trials too)")
        ->check(CLI::PositiveNumber);
    options.run->add_option("--seconds", options.seconds, "Wall-time budget of this run")
        ->check(CLI::PositiveNumber);
    addTrialTrainingOptions(options.run, options, "Trials trained at once");
    options.run
        ->add_option("--add-trials", options.addTrials,
                     "Raise the study's stored budget by this many trials, then run")
        ->check(CLI::PositiveNumber);

    options.resume =
        study->add_subcommand("resume", "Re-queue interrupted trials and finish the original budget");
    options.resume->add_option("study", options.target, "Study name")->required();
    options.resume->add_option("--device", options.device, "auto, cpu, cuda or cuda:N");
    options.resume->add_option("--threads", options.threads, "CPU threads per trial")
        ->check(CLI::NonNegativeNumber);
    options.resume
        ->add_option("--add-trials", options.addTrials,
                     "Raise the study's stored budget by this many trials, then resume")
        ->check(CLI::PositiveNumber);
    options.resume->add_flag("--json", options.json, "Print the result as one JSON line");

    options.enqueue = study->add_subcommand(
        "enqueue", "Queue a trial with chosen parameters; it runs first at the next run or resume");
    options.enqueue->add_option("study", options.target, "Study name")->required();
    options.enqueue
        ->add_option("--params", options.params,
                     "The trial's parameters as a JSON object, e.g. '{\"optimizer.lr\": 0.01}'")
        ->required();

    options.copy = study->add_subcommand("copy", "A new study with the same settings and a new sampler seed");
    options.copy->add_option("study", options.target, "Study to copy")->required();
    options.copy->add_option("--name", options.name,
                             "Name of the copy (default: the next free NAME-2, NAME-3…)");
    options.copy->add_option("--seed", options.seed, "The copy's sampler seed (default: a fresh random one)")
        ->check(CLI::NonNegativeNumber);

    options.status = study->add_subcommand("status", "Counts by state, the best trial and the last trials");
    options.status->add_option("study", options.target, "Study name")->required();
    options.status->add_flag("--json", options.json, "Everything as JSON, every trial included");

    options.best = study->add_subcommand("best", "The best trial: a ready-to-train experiment spec, or text");
    options.best->add_option("study", options.target, "Study name")->required();
    options.best->add_option("--format", options.format, "json (an experiment spec) or text")
        ->check(CLI::IsMember({"json", "text"}));

    options.list = study->add_subcommand("list", "One line per study");
    options.list->add_flag("--json", options.json, "A JSON array");

    options.remove = study->add_subcommand("delete", "Delete a study and its trials (their runs stay)");
    options.remove->add_option("study", options.target, "Study name")->required();
    options.remove->add_flag(
        "--force", options.force,
        "Delete it even while other processes evaluate its trials (their results are lost)");
    addStudyInteropCommands(*study, options);

    for (CLI::App* sub : {options.create, options.run, options.resume, options.status, options.best,
                          options.list, options.remove, options.enqueue, options.copy})
        sub->add_option("--db,--storage", options.dbPath, "Run store: a file or a postgresql:// URL");
    return study;
}

int runStudy(const StudyOptions& options) {
    if (options.importStudy->parsed())
        return importStudyCommand(options);
    const bool readsOnly = options.status->parsed() || options.best->parsed() || options.list->parsed() ||
                           options.exportStudy->parsed();
    if (options.create->parsed() && !studyFileIsValid(options.target))
        return kExitBadInput; // before any store file is made
    auto store = readsOnly ? openRunStoreForReading(options.dbPath) : openStudyStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    if (options.create->parsed())
        return checkStoreSaved(*store, createStudyCommand(*store, options));
    if (options.status->parsed())
        return statusCommand(*store, options);
    if (options.best->parsed())
        return bestCommand(*store, options);
    if (options.list->parsed())
        return listCommand(*store, options);
    if (options.enqueue->parsed())
        return checkStoreSaved(*store, enqueueStudyCommand(*store, options));
    if (options.copy->parsed())
        return checkStoreSaved(*store, copyStudyCommand(*store, options));
    if (options.exportStudy->parsed())
        return exportStudyCommand(*store, options);
    return checkStoreSaved(*store, deleteCommand(*store, options));
}

} // namespace tunelab::cli
