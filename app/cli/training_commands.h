#pragma once

#include "race_command.h"
#include "study_command.h"
#include "train_command.h"

#include <CLI/CLI.hpp>

namespace tunelab::cli {

// The commands that train, and so need LibTorch: train, race, lr-find, study run, study resume, worker,
// export (which runs the model it writes) and compress.
//
// tunelab-cli itself does not link LibTorch, so every other command starts and ends in a few
// milliseconds. It parses a training command like any other (help and option errors answer at
// once), then replaces itself with tunelab-cli-training, the same command line built with LibTorch,
// with the same arguments: same process, same pid, same exit code, nothing run twice.
struct TrainingCommandLine {
    const CLI::App* train = nullptr;
    const TrainOptions* trainOptions = nullptr;
    const CLI::App* race = nullptr;
    const RaceOptions* raceOptions = nullptr;
    const CLI::App* lrFind = nullptr;
    const LrFindOptions* lrFindOptions = nullptr;
    const StudyOptions* studyOptions = nullptr; // run and resume
    const CLI::App* exportModel = nullptr;
    const ExportOptions* exportOptions = nullptr;
    const CLI::App* compress = nullptr;
    const CompressOptions* compressOptions = nullptr;
};

bool parsedTrainingCommand(const TrainingCommandLine& line);

// tunelab-cli-training (training_commands.cpp) runs the command; tunelab-cli (training_handoff.cpp)
// hands `argv` to tunelab-cli-training and returns only when that could not start.
int runTrainingCommand(const TrainingCommandLine& line, int argc, char** argv);

} // namespace tunelab::cli
