#include "store_access.h"

#include "text_format.h"

#include <cstdio>

namespace tunelab::cli {

std::string runStorePath(const std::string& dbPath) {
    return dbPath.empty() ? RunStore::defaultPath() : dbPath;
}

void printErrors(const std::vector<std::string>& errors) {
    for (const auto& error : errors)
        std::fprintf(stderr, "error: %s\n", terminalText(error).c_str());
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

} // namespace tunelab::cli
