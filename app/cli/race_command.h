#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tunelab::cli {

// `tunelab-cli race FILE`: runs an optimizer race (docs/race.md) and prints its results table.
struct RaceOptions {
    std::string racePath;
    std::string dbPath;
    std::string device;
    std::string csvPath;
    int threads = 1; // per set-up
    bool json = false;
};

// `tunelab-cli lr-find SPEC`: the learning-rate range test of one experiment.
struct LrFindOptions {
    std::string specPath;
    std::string device;
    double minLr = 1e-6;
    double maxLr = 1.0;
    int steps = 200;
    bool json = false;
};

CLI::App* addRaceCommand(CLI::App& app, RaceOptions& options);
int runRace(const RaceOptions& options);

CLI::App* addLrFindCommand(CLI::App& app, LrFindOptions& options);
int runLrFind(const LrFindOptions& options);

} // namespace tunelab::cli
