#include "store_command.h"

#include "exit_codes.h"
#include "store/run_store.h"
#include "store_access.h"

#include <cstdio>

namespace tunelab::cli {

namespace {

int checkStore(const std::string& path) {
    const auto problems = RunStore::checkFile(path);
    if (!problems.ok()) {
        printErrors(problems.errors());
        return kExitStoreFailed;
    }
    if (problems.value().empty()) {
        std::printf("%s: ok\n", path.c_str());
        return kExitSuccess;
    }
    for (const auto& problem : problems.value())
        std::printf("%s\n", problem.c_str());
    std::fprintf(stderr,
                 "error: %s is damaged (%zu problem(s) above). TuneLab reads what it can but will not write "
                 "into it; sqlite3's .recover command copies the readable rows into a new file.\n",
                 path.c_str(), problems.value().size());
    return kExitStoreFailed;
}

} // namespace

CLI::App* addStoreCommand(CLI::App& app, StoreOptions& options) {
    CLI::App* store = app.add_subcommand("store", "Check the run store file");
    store->require_subcommand(1);
    options.check = store->add_subcommand(
        "check", "SQLite's full integrity check of the run store; exit 4 when it is damaged");
    for (CLI::App* command : {store, options.check})
        command->add_option(
            "--db,--storage", options.dbPath,
            "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    return store;
}

int runStore(const StoreOptions& options) {
    return checkStore(runStorePath(options.dbPath));
}

} // namespace tunelab::cli
