#pragma once

#include "store/run_store.h"

#include <memory>
#include <string>
#include <vector>

namespace tunelab::cli {

// The run store file a command uses: `dbPath` from --db, or the default store when it is empty.
std::string runStorePath(const std::string& dbPath);
// Each error on its own "error: …" line on stderr.
void printErrors(const std::vector<std::string>& errors);
// The store at runStorePath(dbPath); prints why and returns null when it cannot be opened.
std::unique_ptr<RunStore> openRunStore(const std::string& dbPath);
// The same for commands that only read: nothing is created or changed (RunStore::openForReading).
std::unique_ptr<RunStore> openRunStoreForReading(const std::string& dbPath);
// After a command's last write: flushes the store and, when it could not save everything (a full
// disk, an I/O error), prints what was lost (the store's path, SQLite's error, each run with the
// kinds of update it lost) and returns kExitStoreFailed; otherwise returns `code`.
int checkStoreSaved(RunStore& store, int code);

// Says that `what` (e.g. "no study named 'x'") was not found in the store; in a damaged store
// (SQLite's integrity check, run only on this path) it may be unreadable rather than absent, and
// the message says so and how to recover, instead of inviting the user to make a new one. `hint`
// follows the message of a sound store.
void printNotFound(const RunStore& store, const std::string& what, const std::string& hint = {});

} // namespace tunelab::cli
