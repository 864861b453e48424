#include "training/data_parallel.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>

namespace tunelab {

namespace {

constexpr int kMostProcesses = 4096;

// The whole text as a whole number in [low, high], or nothing.
std::optional<long> wholeNumber(const char* text, long low, long high) {
    if (!text || !*text)
        return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < low || value > high)
        return std::nullopt;
    return value;
}

std::string quoted(const char* text) {
    return std::string("\"") + (text ? text : "") + "\"";
}

} // namespace

std::string dataParallelUnavailableReason() {
#if defined(TUNELAB_WITH_GLOO)
    return {};
#else
    return "this TuneLab was built without LibTorch's c10d/Gloo process groups (the libgloo-dev "
           "headers were missing), so it trains each run in one process";
#endif
}

std::string dataParallelBackend(const std::string& device) {
#if defined(TUNELAB_WITH_NCCL)
    if (device.rfind("cuda", 0) == 0)
        return "nccl";
#else
    (void)device;
#endif
    return "gloo";
}

Result<DataParallelSettings> dataParallelFromEnvironment(const EnvironmentReader& read) {
    using Found = Result<DataParallelSettings>;
    const char* rankName = "RANK";
    const char* sizeName = "WORLD_SIZE";
    if (!read(rankName) && !read(sizeName) && read("MASTER_ADDR") && read("MASTER_PORT") &&
        read("SLURM_PROCID") && read("SLURM_NTASKS")) {
        rankName = "SLURM_PROCID";
        sizeName = "SLURM_NTASKS";
    }
    const char* rankText = read(rankName);
    const char* sizeText = read(sizeName);
    DataParallelSettings settings;
    if (!rankText && !sizeText)
        return Found(settings);
    if (!rankText || !sizeText)
        return Found::failure(std::string(rankText ? sizeName : rankName) + " is not set, but " +
                              (rankText ? rankName : sizeName) +
                              " is: a process of a data-parallel run needs both");
    const auto size = wholeNumber(sizeText, 1, kMostProcesses);
    if (!size)
        return Found::failure(std::string(sizeName) + "=" + quoted(sizeText) +
                              ": the number of processes must be a whole number from 1 to " +
                              std::to_string(kMostProcesses));
    const auto rank = wholeNumber(rankText, 0, *size - 1);
    if (!rank)
        return Found::failure(std::string(rankName) + "=" + quoted(rankText) +
                              ": this process's rank must be a whole number from 0 to " +
                              std::to_string(*size - 1) + " (" + sizeName + " is " + sizeText + ")");
    settings.rank = static_cast<int>(*rank);
    settings.worldSize = static_cast<int>(*size);
    if (settings.worldSize == 1)
        return Found(settings);
    const char* address = read("MASTER_ADDR");
    if (!address || !*address)
        return Found::failure("MASTER_ADDR is not set: the processes of a data-parallel run meet at rank "
                              "0's address (MASTER_ADDR) and port (MASTER_PORT)");
    const auto port = wholeNumber(read("MASTER_PORT"), 1, 65535);
    if (!port)
        return Found::failure("MASTER_PORT=" + quoted(read("MASTER_PORT")) +
                              ": rank 0's port must be a whole number from 1 to 65535");
    settings.address = address;
    settings.port = static_cast<int>(*port);
    return Found(settings);
}

Result<DataParallelSettings> dataParallelFromEnvironment() {
    return dataParallelFromEnvironment([](const char* name) { return std::getenv(name); });
}

BatchShard shardOfBatch(int64_t rows, int rank, int worldSize) {
    if (worldSize <= 1)
        return {0, rows};
    const int64_t base = rows / worldSize;
    const int64_t extra = rows % worldSize;
    BatchShard shard;
    shard.count = base + (rank < extra ? 1 : 0);
    shard.first = rank * base + std::min<int64_t>(rank, extra);
    return shard;
}

} // namespace tunelab
