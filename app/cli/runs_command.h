#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tunelab::cli {

struct RunsOptions {
    std::string dbPath;
    int64_t runId = 0;
    std::vector<int64_t> runIds; // delete: the runs to delete
    std::string format = "csv";
    std::string series = "all";
    std::string outputPath;
    std::vector<std::string> tags; // tag: the run's tags from now on (none clears them)
    std::string note;              // note: the run's note from now on ("" clears it)
    CLI::App* list = nullptr;
    CLI::App* show = nullptr;
    CLI::App* exportCommand = nullptr;
    CLI::App* tag = nullptr;
    CLI::App* noteCommand = nullptr;
    CLI::App* deleteCommand = nullptr;
};

CLI::App* addRunsCommand(CLI::App& app, RunsOptions& options);
int runRuns(const RunsOptions& options);

} // namespace tunelab::cli
