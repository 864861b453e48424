#pragma once

#include "study_command.h"

#include <CLI/CLI.hpp>

namespace tunelab::cli {

// `study export` and `study import`: a study to and from another tool's storage; for now Optuna's
// RDB storage in SQLite (study/optuna_storage.h, docs/cli.md "Optuna interop").

// Adds both verbs under `study`, with their options in `options`.
void addStudyInteropCommands(CLI::App& study, StudyOptions& options);
int exportStudyCommand(const RunStore& store, const StudyOptions& options);
// Reads the file first and opens (or creates) the run store only when there is a study to add, so
// a file that cannot be imported leaves no new store behind.
int importStudyCommand(const StudyOptions& options);

} // namespace tunelab::cli
