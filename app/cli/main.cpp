// tunelab-cli: TuneLab's headless tool. Trains experiments, validates specs, reads the run store and
// runs hyperparameter studies and optimizer races. The same main is tunelab-cli (no LibTorch: the
// commands that train go on in tunelab-cli-training, training_commands.h) and tunelab-cli-training.

#include "exit_codes.h"
#include "optimize_command.h"
#include "race_command.h"
#include "runs_command.h"
#include "store_command.h"
#include "study_command.h"
#include "terminal_output.h"
#include "train_command.h"
#include "training_commands.h"
#include "validate_command.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

int main(int argc, char** argv) {
    using namespace tunelab::cli;
    installTerminalSafeOutput();
    // Under a file-size limit (ulimit -f) a write past it fails with EFBIG, which the store and the
    // file writers report, instead of killing the process half-way through.
    std::signal(SIGXFSZ, SIG_IGN);
    CLI::App app{"TuneLab: train and tune neural networks from the command line"};
    app.set_version_flag("--version", "tunelab-cli 0.1.0");
    app.require_subcommand(1);

    TrainOptions trainOptions;
    ValidateOptions validateOptions;
    RunsOptions runsOptions;
    CLI::App* train = addTrainCommand(app, trainOptions);
    CLI::App* validate = addValidateCommand(app, validateOptions);
    CLI::App* runs = addRunsCommand(app, runsOptions);
    StudyOptions studyOptions;
    OptimizeOptions optimizeOptions;
    AskTellOptions askTellOptions;
    CLI::App* study = addStudyCommand(app, studyOptions);
    CLI::App* optimize = addOptimizeCommand(app, optimizeOptions);
    addAskTellCommands(app, askTellOptions);
    RaceOptions raceOptions;
    LrFindOptions lrFindOptions;
    CLI::App* race = addRaceCommand(app, raceOptions);
    CLI::App* lrFind = addLrFindCommand(app, lrFindOptions);
    ExportOptions exportOptions;
    CLI::App* exportModel = addExportCommand(app, exportOptions);
    CompressOptions compressOptions;
    CLI::App* compress = addCompressCommand(app, compressOptions);
    StoreOptions storeOptions;
    CLI::App* store = addStoreCommand(app, storeOptions);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? kExitSuccess : kExitBadInput;
    }
    const TrainingCommandLine training{train,           &trainOptions, race,        &raceOptions,   lrFind,
                                       &lrFindOptions,  &studyOptions, exportModel, &exportOptions, compress,
                                       &compressOptions};
    if (parsedTrainingCommand(training))
        return runTrainingCommand(training, argc, argv);
    if (validate->parsed())
        return runValidate(validateOptions);
    if (runs->parsed())
        return runRuns(runsOptions);
    if (study->parsed())
        return runStudy(studyOptions);
    if (optimize->parsed())
        return runOptimize(optimizeOptions);
    if (store->parsed())
        return runStore(storeOptions);
    if (askTellOptions.ask->parsed() || askTellOptions.tell->parsed() || askTellOptions.heartbeat->parsed())
        return runAskTell(askTellOptions);
    return kExitBadInput;
}
