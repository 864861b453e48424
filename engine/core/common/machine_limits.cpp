#include "common/machine_limits.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

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

namespace {

std::string gigabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
    return text;
}

} // namespace

uint64_t processMemoryLimit() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    uint64_t limit = pages > 0 && pageSize > 0
                         ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize)
                         : UINT64_MAX;
    for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
        rlimit value{};
        if (getrlimit(resource, &value) == 0 && value.rlim_cur != RLIM_INFINITY)
            limit = std::min<uint64_t>(limit, value.rlim_cur);
    }
    std::ifstream cgroup("/sys/fs/cgroup/memory.max");
    std::string text;
    if (cgroup >> text && text != "max") {
        try {
            limit = std::min<uint64_t>(limit, std::stoull(text));
        } catch (const std::exception&) {
            // an unreadable value limits nothing
        }
    }
    return limit;
}

std::string trainingMemoryProblem(int64_t parameters, uint64_t limit) {
    constexpr double kCopies = 4.0; // weights, gradients, two optimizer states
    const double needed = static_cast<double>(parameters) * sizeof(float) * kCopies;
    if (needed <= static_cast<double>(limit))
        return {};
    return "model: the network's " + std::to_string(parameters) + " parameters need about " +
           gigabytes(needed) + " to train (weights, gradients and optimizer state), more than the " +
           gigabytes(static_cast<double>(limit)) + " this process may use";
}

} // namespace tunelab
