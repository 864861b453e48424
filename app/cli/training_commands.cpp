#include "training_commands.h"

// tunelab-cli-training: the training commands run here, with LibTorch loaded.

namespace tunelab::cli {

int runTrainingCommand(const TrainingCommandLine& line, int, char**) {
    if (line.train->parsed())
        return runTrain(*line.trainOptions);
    if (line.race->parsed())
        return runRace(*line.raceOptions);
    if (line.lrFind->parsed())
        return runLrFind(*line.lrFindOptions);
    if (line.exportModel->parsed())
        return runExport(*line.exportOptions);
    if (line.compress->parsed())
        return runCompress(*line.compressOptions);
    return runStudyTraining(*line.studyOptions);
}

} // namespace tunelab::cli
