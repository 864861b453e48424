#pragma once

// Private to the engine: included only by engine .cpp files, never by a public header.

#include "training/data_parallel.h"
#include "training/network.h"

#include <memory>
#include <string>

namespace tunelab::detail {

// The words a data-parallel step sends behind the gradients, in the same exchange: this process's
// share of the batch loss, its stop request, and rank 0's wish to report the pending steps now.
constexpr int64_t kExchangeControlWords = 3;

// What one exchange decided, the same in every process.
struct ExchangedStep {
    torch::Tensor loss; // the global batch's mean loss (a scalar on the run's device)
    bool stop = false;  // some process was asked to stop: every process ends after this step
    bool flush = false; // report the pending steps now (rank 0's clock decides for all)
};

// A run's side of a data-parallel group (docs/data-parallel.md): joins the other processes, checks
// that they train the same thing, starts them from rank 0's weights, and sums the gradients once
// per step. Every failure to reach the others throws std::runtime_error saying what happened.
class DataParallelRun {
public:
    DataParallelRun(const DataParallelSettings& settings, const torch::Device& device);
    ~DataParallelRun();

    DataParallelRun(const DataParallelRun&) = delete;
    DataParallelRun& operator=(const DataParallelRun&) = delete;

    const DataParallelSettings& settings() const { return m_settings; }
    int rank() const { return m_settings.rank; }
    BatchShard shard(int64_t batchRows) const {
        return shardOfBatch(batchRows, m_settings.rank, m_settings.worldSize);
    }

    // Fails the run in every process when any of them trains something else (`fingerprint` covers
    // the experiment, the data and the network), then copies rank 0's weights to the others.
    void agree(uint64_t fingerprint, FlatParameters& flat);

    // Sums the gradients (flat.grads, with the control words behind them in flat.exchange) over the
    // processes. `shareOfLoss` is this process's rows' mean loss times its share of the batch.
    ExchangedStep exchange(FlatParameters& flat, const torch::Tensor& shareOfLoss, bool stopRequested,
                           bool wantsFlush, int64_t step);

    // "trained by N processes (data parallel over gloo)", for the run's message.
    std::string note() const;

private:
    struct Group;
    DataParallelSettings m_settings;
    std::string m_backend;
    std::unique_ptr<Group> m_group;
};

} // namespace tunelab::detail
