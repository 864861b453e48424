#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace tunelab::cli {

// optimize: a study whose trials run a shell command; ask/tell: a study whose trials are evaluated
// by the caller, one `ask` and one `tell` per trial.
struct OptimizeOptions {
    std::string dbPath;
    std::string spacePath;
    std::string command;
    std::string name;
    int64_t trials = 0; // 0: 20 for a new study, the stored budget for an existing one
    std::string sampler = "auto";
    CLI::Option* samplerOption = nullptr; // counts whether --sampler was given
    uint64_t seed = 0;
    int startupTrials = 10;
    std::string direction = "minimize";
    std::string directions; // "minimize,maximize": one objective per entry
    int parallel = 1;
    bool forceParallel = false;
    double timeoutSeconds = 0.0;
};

struct AskTellOptions {
    std::string dbPath;
    std::string study;
    int64_t trial = -1;
    double value = 0.0;
    CLI::Option* valueOption = nullptr; // counts whether --value was given
    std::string values;                 // --values "0.12,3400": one per objective
    std::string state;
    std::string message;
    CLI::App* ask = nullptr;
    CLI::App* tell = nullptr;
    CLI::App* heartbeat = nullptr; // an outside evaluator says a trial from ask is still alive
};

CLI::App* addOptimizeCommand(CLI::App& app, OptimizeOptions& options);
int runOptimize(const OptimizeOptions& options);

void addAskTellCommands(CLI::App& app, AskTellOptions& options);
int runAskTell(const AskTellOptions& options);

} // namespace tunelab::cli
