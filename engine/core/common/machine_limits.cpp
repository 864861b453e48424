#include "common/machine_limits.h"

#include <algorithm>
#include <thread>

namespace tunelab {

int machineCores() {
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::string parallelProblem(int64_t parallel, bool forced) {
    if (parallel < 1)
        return "parallel must be at least 1, got " + std::to_string(parallel);
    if (parallel > kMaxParallel)
        return "parallel " + std::to_string(parallel) + " is more than the " + std::to_string(kMaxParallel) +
               " trials TuneLab runs at once";
    const int cores = machineCores();
    if (!forced && parallel > kParallelPerCore * cores)
        return "parallel " + std::to_string(parallel) + " is more than " + std::to_string(kParallelPerCore) +
               " trials per core on this machine's " + std::to_string(cores) + " core(s) (at most " +
               std::to_string(kParallelPerCore * cores) + "); lower it, or force it (--force-parallel)";
    return {};
}

std::string threadsProblem(int threads) {
    const int cores = machineCores();
    if (threads < 0)
        return "threads must be 0 (one per core) or more, got " + std::to_string(threads);
    if (threads > cores)
        return "threads " + std::to_string(threads) + " is more than this machine's " +
               std::to_string(cores) + " core(s); use 0 for one per core";
    return {};
}

} // namespace tunelab
