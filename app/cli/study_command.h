#pragma once

#include "store/run_store.h"
#include "store_access.h"
#include "study/study_runner.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tunelab::cli {

struct StudyOptions {
    std::string dbPath;
    std::string target; // a study name, or a study file for create/run
    std::string name;
    int64_t trials = 0;
    double seconds = 0.0;
    int parallel = 0;
    bool forceParallel = false;
    std::string device;
    int threads = 1;
    bool json = false;
    std::string format = "json";
    int64_t addTrials = 0;             // run, resume: raise the stored budget by this many first
    int64_t maxTrials = -1;            // worker: evaluate at most this many trials
    std::string params;                // enqueue: a JSON object from parameter path to value
    int64_t seed = -1;                 // copy: the copy's sampler seed; -1: a fresh one
    std::string outPath;               // export: the file written
    bool force = false;                // export: replace an existing file; delete: even with running trials
    std::string sourceStudy;           // import: the study of the file, when it holds several
    std::string fileFormat = "optuna"; // export, import: the other tool's storage
    CLI::App* create = nullptr;
    CLI::App* run = nullptr;
    CLI::App* resume = nullptr;
    CLI::App* status = nullptr;
    CLI::App* best = nullptr;
    CLI::App* list = nullptr;
    CLI::App* remove = nullptr;
    CLI::App* enqueue = nullptr;
    CLI::App* copy = nullptr;
    CLI::App* exportStudy = nullptr;
    CLI::App* importStudy = nullptr;
    CLI::App* worker = nullptr; // `tunelab-cli worker`: a study's trials pulled from a shared store
};

CLI::App* addStudyCommand(CLI::App& app, StudyOptions& options);
// The options of the verbs that train a study's trials (study run, worker): --parallel,
// --force-parallel, --device, --threads and --json.
void addTrialTrainingOptions(CLI::App* command, StudyOptions& options, const std::string& parallelHelp);
// `tunelab-cli worker` (training_command_lines.cpp), with the study verbs' options.
void addWorkerCommand(CLI::App& app, StudyOptions& options);
// The study verbs that do not train: create, status, best, list, enqueue, copy, export, import and
// delete.
int runStudy(const StudyOptions& options);
// `study run` and `study resume` (study_run_command.cpp): they train, so only tunelab-cli-training
// has them (training_commands.h).
int runStudyTraining(const StudyOptions& options);

// Shared by the study verbs, optimize and ask/tell.

struct LoadedStudy {
    StudyRecord record;
    StudySpec spec;
};

// The store at `dbPath` (or the default store); prints why when it cannot be opened.
std::unique_ptr<RunStore> openStudyStore(const std::string& dbPath);
// False, after printing why, when `name` may not name a study (a control character: from --name or
// a file's stem, which the study file's checks do not see).
bool studyNameIsSafe(const std::string& name);
// The named study with its spec; prints a message naming the store when there is none.
std::optional<LoadedStudy> loadStudy(const RunStore& store, const std::string& name);
// Creates a study from a study file; its name is `name`, else the file's own, else the file's stem.
// With `reuseExisting`, a study of that name already in the store is loaded instead (and said so).
std::optional<LoadedStudy> createStudyFromFile(RunStore& store, const std::string& path,
                                               const std::string& name, bool reuseExisting);
bool isExistingFile(const std::string& path);
// Reads a study file and prints every mistake in it; false when there are any.
bool studyFileIsValid(const std::string& path);
int countState(const std::vector<TrialRecord>& trials, TrialState state);
// Objective values keep six significant digits: losses and rates span many magnitudes.
std::string formatStudyValue(double value);
// "optimizer.lr=0.00385 optimizer.type=\"sgd\"": compact, one line; fractions to six significant
// digits (--json and `study best --format json` keep every digit).
std::string paramsText(const Assignment& params);
// Prints what makes no sense in the study's settings (studySettingsWarnings) as warnings.
void printSettingsWarnings(const StudySpec& spec);
// The trial's parameters as a JSON object with typed values.
nlohmann::ordered_json paramsObject(const Assignment& params);
// Counts, best trial and totals of a study as one JSON object (the last line `optimize` prints).
nlohmann::ordered_json studyResultJson(const LoadedStudy& study, const std::vector<TrialRecord>& trials,
                                       double seconds);

struct ForegroundRun {
    StudyRunSummary summary;
    bool interrupted = false;
    double seconds = 0.0;
};
// Runs the study on a worker thread with one progress line per trial on stderr; Ctrl-C or SIGTERM
// stops it gracefully (running trials go back to waiting), a second one exits at once.
Result<ForegroundRun> runStudyInForeground(RunStore& store, const LoadedStudy& study,
                                           TrialObjective& objective, StudyRunOptions options,
                                           bool announceStarts);

} // namespace tunelab::cli
