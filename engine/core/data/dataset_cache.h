#pragma once

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tunelab {

// loadDataset() through a small process-wide cache: checking an experiment and then training it,
// the trials of a study and the runs of a race all read their data once. An entry is keyed by
// everything loading depends on (the data spec, the seed, and the size and modification time of
// the data's files), so an edited CSV file is read again. The two most recently used datasets are
// kept, the older one only while both fit in 1 GiB; errors are never cached. Threads asking for the same data
// at once wait for one load. Safe to call from any thread.
//
// `cancel` stops this caller's load, or its wait for another thread's, soon after it is set: the
// answer is then kDataLoadCancelled, and nothing is cached. Another thread waiting for data whose load
// was cancelled loads it itself.
Result<std::shared_ptr<const Dataset>> loadDatasetCached(const DataSpec& spec, uint64_t seed,
                                                         const LoadCancel* cancel = nullptr);

// Loads from the files since the process started (cache misses), for tests and benchmarks.
int64_t datasetCacheLoads();
// The bytes of features and targets that older datasets may keep beside the most recent one
// (default 1 GiB; tests).
void setDatasetCacheBudget(size_t bytes);
// Forgets every cached dataset (tests).
void clearDatasetCache();

} // namespace tunelab
