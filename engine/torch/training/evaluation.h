#pragma once

#include "common/result.h"
#include "spec/spec.h"

#include <cstdint>
#include <vector>

namespace tunelab {

// How a trained classifier sorts its experiment's validation split: counts[true * classes +
// predicted]. The split, the standardization and the network are the trainer's own (same seed,
// same rows), so the matrix is of the rows the run validated on.
struct ConfusionMatrix {
    int classes = 0;
    std::vector<int64_t> counts;
    int64_t at(int actual, int predicted) const {
        return counts[size_t(actual) * size_t(classes) + size_t(predicted)];
    }
    int64_t total() const;
    double accuracy() const; // the diagonal's share; NaN without rows
};

// The matrix of the model `stateDict` (a run's saved model, RunStore::model) on the validation split
// of `spec` (the run's resolved spec), on the CPU. Fails with the reason for a regression run, an
// experiment without a validation split, data that no longer loads, or a model that does not fit
// the spec's network.
Result<ConfusionMatrix> validationConfusion(const ExperimentSpec& spec, const std::vector<char>& stateDict);

} // namespace tunelab
