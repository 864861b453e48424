#include "training_commands.h"

// The command lines of the commands that train. Both tunelab-cli and tunelab-cli-training parse
// them, so that help and a mistyped option answer at once, without LibTorch.

namespace tunelab::cli {

CLI::App* addTrainCommand(CLI::App& app, TrainOptions& options) {
    CLI::App* train = app.add_subcommand("train", "Train one experiment and record it in the run store");
    train->add_option("spec", options.specPath, "Experiment spec (JSON)")->check(CLI::ExistingFile);
    train->add_flag("--default", options.useDefault,
                    "Train the built-in default experiment (two spirals, small MLP)");
    train->add_option("--device", options.device, "auto, cpu, cuda or cuda:N (overrides the spec)");
    train->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    train
        ->add_option("--threads", options.threads, "CPU threads for LibTorch and OpenBLAS (0 = one per core)")
        ->check(CLI::NonNegativeNumber);
    train->add_option("--epochs", options.epochs, "Override training.epochs")->check(CLI::PositiveNumber);
    train
        ->add_option("--from", options.fromRun,
                     "Continue run ID's training from its checkpoint (weights and optimizer state); "
                     "without a spec file, with its experiment")
        ->check(CLI::PositiveNumber);
    train
        ->add_option("--world-size", options.worldSize,
                     "Train over N processes on this host, data parallel (docs/data-parallel.md); "
                     "RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (torchrun, srun) join processes "
                     "started elsewhere")
        ->check(CLI::Range(1, 4096));
    train->add_flag("--no-cuda-graphs", options.noCudaGraphs,
                    "On a GPU, run every training step eagerly instead of replaying one recorded as a "
                    "CUDA graph (docs/gpu.md)");
    train->add_flag("--json", options.json,
                    "Progress to stderr; the last line of stdout is the result as JSON");
    return train;
}

CLI::App* addExportCommand(CLI::App& app, ExportOptions& options) {
    CLI::App* exporting = app.add_subcommand(
        "export", "Export a run's model to a file that runs without TuneLab, and verify it");
    exporting->add_option("id", options.runId, "Run id")->required();
    exporting->add_option("--format", options.format, "torchscript (default), state-dict or onnx")
        ->check(CLI::IsMember({"torchscript", "state-dict", "onnx"}));
    exporting->add_option("-o,--out", options.outPath, "The file to write")->required();
    exporting->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    exporting->add_flag("--json", options.json, "Print the export and its check as one JSON object");
    return exporting;
}

CLI::App* addRaceCommand(CLI::App& app, RaceOptions& options) {
    CLI::App* race = app.add_subcommand("race", "Race optimizers on one experiment (docs/race.md)");
    race->add_option("file", options.racePath, "Race file (JSON)")->required()->check(CLI::ExistingFile);
    race->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    race->add_option("--device", options.device, "auto, cpu, cuda or cuda:N (overrides the experiment)");
    race->add_option("--csv", options.csvPath, "Also write the results table as CSV to this file");
    race->add_option("--threads", options.threads, "CPU threads per set-up")->check(CLI::PositiveNumber);
    race->add_flag("--json", options.json,
                   "Progress to stderr; the last line of stdout is the results as JSON");
    return race;
}

CLI::App* addLrFindCommand(CLI::App& app, LrFindOptions& options) {
    CLI::App* find =
        app.add_subcommand("lr-find", "Learning-rate range test of one experiment: suggests a learning rate");
    find->add_option("spec", options.specPath, "Experiment spec (JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    find->add_option("--min-lr", options.minLr, "Learning rate of the first step")
        ->check(CLI::PositiveNumber);
    find->add_option("--max-lr", options.maxLr, "Learning rate of the last step")->check(CLI::PositiveNumber);
    find->add_option("--steps", options.steps, "Steps from --min-lr to --max-lr")
        ->check(CLI::Range(10, 100000));
    find->add_option("--device", options.device, "auto, cpu, cuda or cuda:N (overrides the spec)");
    find->add_flag("--json", options.json, "Print the curve and the suggestion as one JSON object");
    return find;
}

CLI::App* addCompressCommand(CLI::App& app, CompressOptions& options) {
    CLI::App* compress = app.add_subcommand(
        "compress",
        "Make a trained model smaller and faster: prune, quantize, distill, measure (docs/compression.md)");
    compress->add_option("plan", options.planPath, "Compression plan (JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    compress->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    compress->add_option("--out", options.outDir,
                         "Folder for the exported variants (default: beside the plan, PLAN.out)");
    compress->add_option("--device", options.device,
                         "auto, cpu, cuda or cuda:N for training (latency is CPU)");
    compress->add_option("--threads", options.threads, "CPU threads per training run")
        ->check(CLI::PositiveNumber);
    compress->add_flag("--json", options.json,
                       "Progress to stderr; the last line of stdout is the results as JSON");
    return compress;
}

bool parsedTrainingCommand(const TrainingCommandLine& line) {
    return line.train->parsed() || line.race->parsed() || line.lrFind->parsed() ||
           line.exportModel->parsed() || line.compress->parsed() || line.studyOptions->run->parsed() ||
           line.studyOptions->resume->parsed() || line.studyOptions->worker->parsed();
}

// `tunelab-cli worker`: one of any number of processes, on any hosts, that evaluate a study's trials.
void addWorkerCommand(CLI::App& app, StudyOptions& options) {
    options.worker = app.add_subcommand(
        "worker", "Evaluate trials of a stored study until its budget is spent; start any number, on any "
                  "hosts, against one shared store (docs/scale-out.md)");
    options.worker
        ->add_option("--db,--storage", options.dbPath,
                     "Run store: a postgresql:// URL shared by every worker, or a file")
        ->required();
    options.worker->add_option("--study", options.target, "Study name")->required();
    options.worker
        ->add_option("--max-trials", options.maxTrials, "Evaluate at most this many trials, then exit")
        ->check(CLI::PositiveNumber);
    addTrialTrainingOptions(options.worker, options, "Trials trained at once by this worker");
}

} // namespace tunelab::cli
