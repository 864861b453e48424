#pragma once

#include "common/result.h"

#include <cstdint>
#include <functional>
#include <string>

namespace tunelab {

// One run trained by several processes (docs/data-parallel.md): every process builds the same
// network from the same seed, takes its share of every global batch, and the gradients are summed
// across the processes once per step, so each process applies the same update. Rank 0 serves the
// rendezvous at `address`:`port` and is the one that records the run.
struct DataParallelSettings {
    int rank = 0;
    int worldSize = 1;                 // 1: this process trains alone
    std::string address = "127.0.0.1"; // where rank 0 listens
    int port = 0;
    // The longest any process waits for the others: to join, or inside one exchange. A process that
    // died is noticed at once (its connections close); this bounds a process that hangs.
    double timeoutSeconds = 300.0;

    bool enabled() const { return worldSize > 1; }
};

// "" when this build can train over several processes, else why not (LibTorch without c10d/Gloo).
std::string dataParallelUnavailableReason();

// The name of the collective back end a run on `device` uses ("gloo", "nccl").
std::string dataParallelBackend(const std::string& device);

using EnvironmentReader = std::function<const char*(const char*)>;

// The settings the launchers' variables give: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (what
// torchrun sets), or SLURM_PROCID and SLURM_NTASKS (what srun sets) together with MASTER_ADDR and
// MASTER_PORT. A world size of 1 when none is set; a message naming the variable when one is wrong.
Result<DataParallelSettings> dataParallelFromEnvironment(const EnvironmentReader& read);
Result<DataParallelSettings> dataParallelFromEnvironment();

// The rows [first, first + count) of a global batch of `rows` that `rank` of `worldSize` trains:
// consecutive, as even as the division allows, the first ranks taking one row more.
struct BatchShard {
    int64_t first = 0;
    int64_t count = 0;
};
BatchShard shardOfBatch(int64_t rows, int rank, int worldSize);

} // namespace tunelab
