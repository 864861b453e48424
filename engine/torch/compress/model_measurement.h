#pragma once

// Private to the engine: included only by engine .cpp files.

#include "compress/compression_runner.h"
#include "spec/spec.h"
#include "training/saved_model.h"

#include <string>
#include <vector>

namespace tunelab::detail {

// Validation accuracy (classification) or MAE (regression) of `forward` on the saved model's
// validation rows (its training rows when it has none), written into `result`.
void measureAccuracy(const SavedModel& model,
                     const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                     VariantResult& result);

// The batch-1 and batch-64 median CPU latency of `forward` on the model's first rows.
void measureLatency(const SavedModel& model,
                    const std::function<torch::Tensor(const torch::Tensor&)>& forward, int repeats,
                    VariantResult& result);

// Measures a float model (a run's saved state dict): parameters and non-zero ones, each linear and
// conv2d layer's sparsity, accuracy and latency, and its TorchScript export to `path` (bytes and
// check). Fails when the model cannot be rebuilt; an export that fails is the result's message.
Result<VariantResult> measureFloatModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                        const std::string& path, int repeats);

// The state dict of the spec's network freshly initialised from its seed: what a plan's checks
// shrink or quantize before the source experiment has trained.
std::vector<char> freshStateDict(const ExperimentSpec& spec, const Shape& input);

} // namespace tunelab::detail
