#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tunelab::cli {

struct TrainOptions {
    std::string specPath;
    bool useDefault = false;
    std::string device;
    std::string dbPath;
    int threads = 0;
    int epochs = 0;
    bool json = false;
    int64_t fromRun = 0;       // continue this run's training from its checkpoint (a fork)
    int worldSize = 0;         // processes that train the run together (0: as the launcher's variables say)
    bool noCudaGraphs = false; // on a GPU, run every step eagerly instead of replaying a recorded one
};

CLI::App* addTrainCommand(CLI::App& app, TrainOptions& options);
int runTrain(const TrainOptions& options);

// export RUN --format torchscript|state-dict|onnx -o FILE (docs/export.md).
struct ExportOptions {
    int64_t runId = 0;
    std::string format = "torchscript";
    std::string outPath;
    std::string dbPath;
    bool json = false;
};

CLI::App* addExportCommand(CLI::App& app, ExportOptions& options);
int runExport(const ExportOptions& options);

// compress PLAN [--db PATH] [--out DIR] [--json] (docs/compression.md).
struct CompressOptions {
    std::string planPath;
    std::string dbPath;
    std::string outDir; // default: PLAN's folder / PLAN's name without extension + ".out"
    std::string device;
    int threads = 1; // training threads per run
    bool json = false;
};

CLI::App* addCompressCommand(CLI::App& app, CompressOptions& options);
int runCompress(const CompressOptions& options);

} // namespace tunelab::cli
