#pragma once

// Exit codes of tunelab-cli, documented in docs/cli.md.
namespace tunelab::cli {
constexpr int kExitSuccess = 0;
constexpr int kExitBadInput = 2;      // a bad spec, data file, option or run id
constexpr int kExitRunFailed = 3;     // the run failed or diverged
constexpr int kExitStoreFailed = 4;   // the run store is damaged, or could not save everything
constexpr int kExitInterrupted = 130; // Ctrl-C: the run was stopped and kept
} // namespace tunelab::cli
