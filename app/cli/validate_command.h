#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tunelab::cli {

struct ValidateOptions {
    std::string specPath;
    bool json = false;
};

CLI::App* addValidateCommand(CLI::App& app, ValidateOptions& options);
int runValidate(const ValidateOptions& options);

} // namespace tunelab::cli
