#pragma once

// Private to the engine: included only by engine .cpp files.

#include "events/run_events.h"
#include "training/network.h"
#include "training/optimizers.h"

#include <random>
#include <string>

namespace tunelab::detail {

// What a checkpoint captures of a run in training, by reference.
struct TrainingState {
    Network& network;
    FlatParameters& flat;
    FlatOptimizer& optimizer;
    const OptimizerSpec& optimizerSpec;
    std::mt19937_64& shuffleRandom;
};

// The run's state after `epoch` (its last step `step`): the flat parameters, the network's buffers
// (batch norm statistics), the followed ranges of rounded layer inputs, the optimizer's steps and
// buffers, the shuffling generator and the dropout generator, all on the CPU.
TrainingCheckpoint captureCheckpoint(const TrainingState& state, int epoch, int64_t step);

// Continues from a checkpoint. Throws std::runtime_error naming the problem when it cannot be
// restored (another network, a damaged state). The optimizer's state carries over when the
// optimizer is of the same kind; returns a note for the user when it does not ("" otherwise).
std::string restoreCheckpoint(const TrainingCheckpoint& checkpoint, const TrainingState& state);

} // namespace tunelab::detail
