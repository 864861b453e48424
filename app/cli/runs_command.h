#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace tunelab::cli {

struct RunsOptions {
    std::string dbPath;
    int64_t runId = 0;
    std::string format = "csv";
    std::string series = "all";
    std::string outputPath;
    CLI::App* list = nullptr;
    CLI::App* show = nullptr;
    CLI::App* exportCommand = nullptr;
};

CLI::App* addRunsCommand(CLI::App& app, RunsOptions& options);
int runRuns(const RunsOptions& options);

} // namespace tunelab::cli
