#pragma once

// Private to the engine: included only by engine .cpp files.

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"
#include "training/network.h"

#include <string>
#include <vector>

namespace tunelab::detail {

// A run's saved model rebuilt on the CPU, with the rows it was trained and validated on: the
// trainer's split and standardization (same seed, same rows), the network of the run's spec in
// evaluation mode with the saved weights.
struct SavedModel {
    Dataset data;
    DataSplit split;
    Network network{nullptr};

    // Rows of features as the network takes them, by dataset row.
    torch::Tensor features(const std::vector<int64_t>& rows) const;
};

// Fails with the reason: no saved model, data that no longer loads, a model that does not fit the
// spec's network.
Result<SavedModel> loadSavedModel(const ExperimentSpec& spec, const std::vector<char>& stateDict);

// Copies a saved state dict (torch.save's format, as saveStateDict writes it) into `module`; every
// parameter and buffer must be there with its shape. "" when it did, else why not.
std::string loadStateDict(torch::nn::Module& module, const std::vector<char>& bytes);

} // namespace tunelab::detail
