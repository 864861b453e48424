#pragma once

#include "common/result.h"
#include "training/data_parallel.h"

#include <sys/types.h>

#include <vector>

namespace tunelab::cli {

// How a `train` process takes part in training one run over several processes
// (docs/data-parallel.md): alone, as the launcher of `--world-size N` (rank 0, which starts the
// others on this host), or as one rank of a group a launcher started (its variables say which).
struct TrainProcesses {
    DataParallelSettings settings; // worldSize 1: this process trains alone
    std::vector<pid_t> started;    // the ranks this process started, when it is the launcher
    int localProcesses = 1;        // processes of the group on this host, which share its cores
};

// Reads --world-size (0: not given) and the launcher variables (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT, or srun's SLURM_PROCID and SLURM_NTASKS). With --world-size N and no variables,
// this process becomes rank 0 and starts ranks 1..N-1 on this host, with the same command line.
// Fails, starting nothing, when the two disagree or this build cannot train over processes.
Result<TrainProcesses> joinTrainProcesses(int worldSize);

// Waits for the ranks this process started; a line on stderr for each that did not end with 0.
// True when all of them did.
bool waitForStartedRanks(const TrainProcesses& processes);

// CPU threads per process for --threads 0: the host's cores shared by the processes on it.
int threadsPerProcess(int requested, const TrainProcesses& processes);

} // namespace tunelab::cli
