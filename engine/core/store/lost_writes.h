#pragma once

// What the run store could not save. A background write that fails (the disk is full, an I/O
// error, the file was made read-only) cannot return an error to whoever queued it, so the store
// keeps a record of it that callers read once their writes are flushed.

#include "events/run_events.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace tunelab {

// One kind of update lost for one run (or, with runId 0, a write that belongs to no run).
struct LostWrite {
    RunId runId = 0;
    std::string what;  // "steps", "epochs", "start", "final status and model", "deletion", ...
    std::string error; // SQLite's message for the first such loss
};

// Several lines: the store's path and error, then one line per run with what it lost. Empty when
// nothing was lost. "could not save everything to the run store runs.sqlite: database or disk is
// full\n  run 2: epochs, final status and model".
std::string describeLostWrites(const std::string& storePath, const std::vector<LostWrite>& lost);
// Whether `lost` holds the final status of `runId` (then the store does not know that it ended).
bool lostFinalStatus(const std::vector<LostWrite>& lost, RunId runId);

// The kinds of update describeLostWrites names for run events.
constexpr const char* kLostStart = "start";
constexpr const char* kLostSteps = "steps";
constexpr const char* kLostEpochs = "epochs";
constexpr const char* kLostFinish = "final status and model";
constexpr const char* kLostDeletion = "deletion";

// Thread-safe: the writer thread adds, any thread reads.
class LostWriteRecord {
public:
    // Merges repeats: one entry per (run, what), keeping the first error.
    void add(RunId runId, const std::string& what, const std::string& error);
    // Calls the handler, once the writes of a failed batch are added.
    void announce();
    std::vector<LostWrite> list() const;
    uint64_t count() const; // losses ever added, repeats included
    // Called by announce(), on the writer thread, outside any store lock: it must be quick and
    // thread-safe (push to a queue, post an event). Once set(nullptr) returns, the old handler is not
    // running.
    void setHandler(std::function<void()> handler);

private:
    mutable std::mutex m_mutex;
    std::vector<LostWrite> m_lost;
    uint64_t m_count = 0;
    std::mutex m_handlerMutex; // held while the handler runs, so clearing it waits for a running call
    std::function<void()> m_handler;
};

} // namespace tunelab
