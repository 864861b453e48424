#pragma once

// How much of this machine one setting may ask for. A study file or a command line that asks for a
// million threads gets a message, not a process that hangs or aborts.

#include <cstdint>
#include <string>

namespace tunelab {

// Trials at once in any study, forced or not: far beyond what any machine runs usefully.
constexpr int kMaxParallel = 1024;
// Without being forced, a study runs at most this many trials per core.
constexpr int kParallelPerCore = 4;

// This machine's cores (at least 1).
int machineCores();
// "" when `parallel` trials at once are acceptable here, else why not. `forced` lifts the per-core
// limit, never kMaxParallel.
std::string parallelProblem(int64_t parallel, bool forced);
// "" when `threads` (0: one per core) fits this machine's cores, else why not.
std::string threadsProblem(int threads);

// Bytes of memory this process may use: the machine's physical memory, lowered by the process's
// address-space and data limits (ulimit -v, -d) and its cgroup's memory.max where they are lower.
uint64_t processMemoryLimit();
// "" when a network of `parameters` float parameters fits in `limit` bytes for training (weights,
// gradients and up to two optimizer states: four copies), else why not, with the numbers. Checked
// before the network is built, so that an impossible width fails at once instead of after a minute
// of allocation.
std::string trainingMemoryProblem(int64_t parameters, uint64_t limit = processMemoryLimit());

} // namespace tunelab
