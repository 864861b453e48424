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

} // namespace tunelab::cli
