#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tunelab::cli {

struct StoreOptions {
    std::string dbPath;
    CLI::App* check = nullptr;
};

CLI::App* addStoreCommand(CLI::App& app, StoreOptions& options);
int runStore(const StoreOptions& options);

} // namespace tunelab::cli
