#include "store_access.h"

#include "exit_codes.h"

#include <cstdio>

namespace tunelab::cli {

std::string runStorePath(const std::string& dbPath) {
    return dbPath.empty() ? RunStore::defaultPath() : dbPath;
}

void printErrors(const std::vector<std::string>& errors) {
    for (const auto& error : errors)
        std::fprintf(stderr, "error: %s\n", error.c_str());
}

std::unique_ptr<RunStore> openRunStore(const std::string& dbPath) {
    auto store = RunStore::open(runStorePath(dbPath));
    if (!store.ok()) {
        printErrors(store.errors());
        return nullptr;
    }
    return store.take();
}

std::unique_ptr<RunStore> openRunStoreForReading(const std::string& dbPath) {
    auto store = RunStore::openForReading(runStorePath(dbPath));
    if (!store.ok()) {
        printErrors(store.errors());
        return nullptr;
    }
    return store.take();
}

int checkStoreSaved(RunStore& store, int code) {
    store.flush();
    const std::string lost = store.lostWritesReport();
    if (lost.empty())
        return code;
    std::fprintf(stderr, "error: %s\n", lost.c_str());
    std::fflush(stderr);
    return kExitStoreFailed;
}

void printNotFound(const RunStore& store, const std::string& what, const std::string& hint) {
    const auto problems = RunStore::checkFile(store.path());
    if (problems.ok() && problems.value().empty()) {
        std::fprintf(stderr, "error: %s in %s%s\n", what.c_str(), store.path().c_str(), hint.c_str());
        return;
    }
    std::fprintf(
        stderr,
        "error: %s in %s, but the run store is damaged, so it may be unreadable rather than missing; "
        "`tunelab-cli store check --db %s` lists every problem, and sqlite3's .recover command copies "
        "the readable rows into a new file\n",
        what.c_str(), store.path().c_str(), store.path().c_str());
}

} // namespace tunelab::cli
