#include "study_interop_command.h"

#include "exit_codes.h"
#include "store_access.h"
#include "study/optuna_storage.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>

namespace tunelab::cli {

namespace {

std::string stateCounts(const std::vector<TrialRecord>& trials) {
    return std::to_string(trials.size()) + " trials (" +
           std::to_string(countState(trials, TrialState::Complete)) + " complete, " +
           std::to_string(countState(trials, TrialState::Pruned)) + " pruned, " +
           std::to_string(countState(trials, TrialState::Failed)) + " failed, " +
           std::to_string(countState(trials, TrialState::Running)) + " running, " +
           std::to_string(countState(trials, TrialState::Waiting)) + " waiting)";
}

// Adds the read study under `name` unless the store has one of that name.
int addImported(RunStore& store, const StudyOptions& options, const OptunaImport& imported,
                const std::string& name) {
    if (store.findStudy(name)) {
        std::fprintf(stderr,
                     "error: the run store already has a study named '%s'; import it under another name with "
                     "--name NAME\n",
                     name.c_str());
        return kExitBadInput;
    }
    for (const std::string& note : imported.notes)
        std::fprintf(stderr, "warning: %s: %s\n", options.target.c_str(), note.c_str());
    auto added = addImportedStudy(store, name, imported);
    if (!added.ok()) {
        printErrors(added.errors());
        return kExitStoreFailed;
    }
    std::fprintf(stderr, "Optuna study '%s' of %s imported as study '%s': %s%s\n",
                 imported.optunaName.c_str(), options.target.c_str(), name.c_str(),
                 stateCounts(imported.trials).c_str(),
                 imported.restoredSpec ? ", with its TuneLab study file" : "");
    std::printf("%s\n", name.c_str());
    return kExitSuccess;
}

} // namespace

void addStudyInteropCommands(CLI::App& study, StudyOptions& options) {
    options.exportStudy =
        study.add_subcommand("export", "Write a study into another tool's storage (Optuna)");
    options.exportStudy->add_option("study", options.target, "Study name")->required();
    options.exportStudy->add_option("--format", options.fileFormat, "optuna: Optuna 3.1's SQLite storage")
        ->check(CLI::IsMember({"optuna"}));
    options.exportStudy->add_option("--out", options.outPath, "The file to write (e.g. study.sqlite3)")
        ->required();
    options.exportStudy->add_flag("--force", options.force, "Replace the file when it exists");

    options.importStudy =
        study.add_subcommand("import", "Add a study from another tool's storage (an Optuna SQLite file)");
    options.importStudy->add_option("file", options.target, "The storage file")->required();
    options.importStudy->add_option("--format", options.fileFormat, "optuna: Optuna 3.0/3.1's SQLite storage")
        ->check(CLI::IsMember({"optuna"}));
    options.importStudy->add_option("--study", options.sourceStudy,
                                    "The study to import when the file holds several");
    options.importStudy->add_option("--name", options.name,
                                    "Name of the new study (default: the study's own)");

    for (CLI::App* sub : {options.exportStudy, options.importStudy})
        sub->add_option("--db,--storage", options.dbPath, "Run store: a file or a postgresql:// URL");
}

int exportStudyCommand(const RunStore& store, const StudyOptions& options) {
    const auto study = loadStudy(store, options.target);
    if (!study)
        return kExitBadInput;
    struct stat info {};
    if (!options.force && ::lstat(options.outPath.c_str(), &info) == 0) {
        std::fprintf(stderr, "error: %s already exists; give --force to replace it\n",
                     options.outPath.c_str());
        return kExitBadInput;
    }
    const auto trials = store.trials(study->record.id, true);
    auto written = writeOptunaStorage(options.outPath, study->spec.name, study->spec, trials, options.force);
    if (!written.ok()) {
        printErrors(written.errors());
        return kExitStoreFailed;
    }
    std::fprintf(stderr,
                 "study '%s': %s written to %s; Python: optuna.load_study(study_name=\"%s\", "
                 "storage=\"sqlite:///%s\")\n",
                 study->spec.name.c_str(), stateCounts(trials).c_str(), options.outPath.c_str(),
                 study->spec.name.c_str(), options.outPath.c_str());
    return kExitSuccess;
}

int importStudyCommand(const StudyOptions& options) {
    auto read = readOptunaStudy(options.target, options.sourceStudy);
    if (!read.ok()) {
        printErrors(read.errors());
        return kExitBadInput;
    }
    const OptunaImport& imported = read.value();
    const std::string name = options.name.empty() ? imported.optunaName : options.name;
    if (!studyNameIsSafe(name)) {
        if (options.name.empty())
            std::fprintf(stderr, "give the new study a name with --name NAME\n");
        return kExitBadInput;
    }
    auto opened = openStudyStore(options.dbPath);
    if (!opened)
        return kExitBadInput;
    RunStore& store = *opened;
    return checkStoreSaved(store, addImported(store, options, imported, name));
}

} // namespace tunelab::cli
