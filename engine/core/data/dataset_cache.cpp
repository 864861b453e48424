#include "data/dataset_cache.h"

#include <sys/stat.h>

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <list>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <utility>

namespace tunelab {

namespace {

constexpr size_t kCachedDatasets = 2;
// Beyond the most recent dataset, older ones are kept only while all of them fit in this.
std::atomic<size_t> g_cachedBytes{size_t(1) << 30};

using Loaded = Result<std::shared_ptr<const Dataset>>;

// Size and modification time (nanoseconds) of a file, or of every file directly in a folder, and
// `depth` levels of folders below it.
void appendFileIdentity(const std::string& path, std::ostringstream& key, int depth = 0) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        key << "|missing";
        return;
    }
    auto appendStat = [&key](const std::string& name, const struct stat& entry) {
        key << '|' << name << ':' << entry.st_size << ':' << entry.st_mtim.tv_sec << '.'
            << entry.st_mtim.tv_nsec;
    };
    if (!S_ISDIR(info.st_mode)) {
        appendStat(path, info);
        return;
    }
    DIR* folder = ::opendir(path.c_str());
    if (!folder)
        return;
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(folder))
        names.emplace_back(entry->d_name);
    ::closedir(folder);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        struct stat entry {};
        if (name == "." || name == ".." || ::stat((path + "/" + name).c_str(), &entry) != 0)
            continue;
        if (S_ISREG(entry.st_mode))
            appendStat(name, entry);
        else if (S_ISDIR(entry.st_mode) && depth > 0)
            appendFileIdentity(path + "/" + name, key, depth - 1);
    }
}

std::string cacheKey(const DataSpec& spec, uint64_t seed) {
    std::ostringstream key;
    key.precision(17);
    key << toString(spec.kind) << '|' << spec.path << '|' << spec.target << '|' << spec.targetIndex << '|'
        << int(spec.delimiter) << '|' << toString(spec.task) << '|' << spec.scale << '|' << spec.samples
        << '|' << spec.noise << '|' << spec.classes << '|' << spec.features << '|' << spec.limit << '|'
        << seed << '|';
    for (int64_t extent : spec.inputShape)
        key << extent << ',';
    key << '|' << spec.grayscale << '|';
    for (int64_t extent : spec.imageSize)
        key << extent << ',';
    if (!spec.path.empty())
        appendFileIdentity(spec.path, key, spec.kind == DataKind::ImageFolder ? 1 : 0);
    return key.str();
}

struct Entry {
    std::string key;
    std::shared_future<Loaded> result;
};

size_t bytesOf(const std::shared_future<Loaded>& result) {
    if (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready || !result.get().ok())
        return 0;
    const Dataset& data = *result.get().value();
    return (data.features.size() + data.targets.size()) * sizeof(float);
}

// Keeps the most recent entry whatever its size, and older ones while the total fits the budget.
void dropOlderBeyondBudget(std::list<Entry>& entries) {
    size_t total = 0;
    for (auto it = entries.begin(); it != entries.end();) {
        total += bytesOf(it->result);
        if (it != entries.begin() && total > g_cachedBytes.load())
            it = entries.erase(it);
        else
            ++it;
    }
}

struct Cache {
    std::mutex mutex;
    std::list<Entry> entries; // most recently used first
    std::atomic<int64_t> loads{0};
};

Cache& cache() {
    static Cache instance;
    return instance;
}

Loaded loadOrWait(const DataSpec& spec, uint64_t seed, const LoadCancel* cancel) {
    const std::string key = cacheKey(spec, seed);
    Cache& shared = cache();
    std::promise<Loaded> promise;
    std::shared_future<Loaded> result;
    bool loadHere = false;
    {
        std::lock_guard<std::mutex> lock(shared.mutex);
        auto found = std::find_if(shared.entries.begin(), shared.entries.end(),
                                  [&key](const Entry& entry) { return entry.key == key; });
        // A failure that its loader has not yet taken out (it is told to those who waited only).
        if (found != shared.entries.end() &&
            found->result.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
            !found->result.get().ok()) {
            shared.entries.erase(found);
            found = shared.entries.end();
        }
        if (found != shared.entries.end()) {
            shared.entries.splice(shared.entries.begin(), shared.entries, found);
            result = found->result;
        } else {
            loadHere = true;
            result = promise.get_future().share();
            shared.entries.push_front(Entry{key, result});
            if (shared.entries.size() > kCachedDatasets)
                shared.entries.pop_back(); // whoever holds its data keeps it alive
        }
    }
    if (!loadHere) {
        // Waits while another thread loads the same data, looking at `cancel` now and then.
        while (result.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
            if (loadCancelled(cancel))
                return Loaded::failure(kDataLoadCancelled);
        }
        return result.get();
    }

    ++shared.loads;
    Loaded outcome = Loaded::failure("data: not enough memory to load the data");
    try {
        auto loaded = loadDataset(spec, seed, cancel); // reports its own errors, never throws
        outcome = loaded.ok()
                      ? Loaded(std::shared_ptr<const Dataset>(std::make_shared<Dataset>(loaded.take())))
                      : Loaded(Errors{loaded.errors()});
    } catch (const std::bad_alloc&) {
        // the message above; waiters must get an answer either way
    }
    const bool ok = outcome.ok();
    promise.set_value(std::move(outcome));
    if (ok) {
        std::lock_guard<std::mutex> lock(shared.mutex);
        dropOlderBeyondBudget(shared.entries);
        return result.get();
    }
    {
        // A failure (or a cancelled load) is told to whoever waited, then forgotten, so a fixed file
        // is read again.
        std::lock_guard<std::mutex> lock(shared.mutex);
        shared.entries.remove_if([&](const Entry& entry) {
            return entry.key == key && entry.result.valid() &&
                   entry.result.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
                   !entry.result.get().ok();
        });
    }
    return result.get();
}

} // namespace

Result<std::shared_ptr<const Dataset>> loadDatasetCached(const DataSpec& spec, uint64_t seed,
                                                         const LoadCancel* cancel) {
    while (true) {
        Loaded loaded = loadOrWait(spec, seed, cancel);
        // Another thread's load was cancelled, not this one's: load again.
        if (loaded.ok() || !isCancelledLoad(loaded.errors()) || loadCancelled(cancel))
            return loaded;
    }
}

int64_t datasetCacheLoads() {
    return cache().loads.load();
}

void setDatasetCacheBudget(size_t bytes) {
    g_cachedBytes = bytes;
}

void clearDatasetCache() {
    std::lock_guard<std::mutex> lock(cache().mutex);
    cache().entries.clear();
}

} // namespace tunelab
