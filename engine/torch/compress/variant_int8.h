#pragma once

// Private to the engine: included only by engine .cpp files.

#include "compress/compression_runner.h"
#include "spec/spec.h"

#include <string>
#include <vector>

namespace tunelab {
class RunStore;
}

namespace tunelab::detail {

// Why a network cannot be quantized ("" when it can): it has no linear or conv2d layer.
std::string int8Problem(const ModelSpec& model);

// A plan's int8 variant of the source: quantized, saved to `path` and read back, measured like every
// variant, and recorded as an export of the source run.
VariantResult quantizedVariant(const CompressionVariant& variant, const ExperimentSpec& spec,
                               const std::vector<char>& stateDict, RunId sourceRun, const std::string& path,
                               int repeats, RunStore& store);

} // namespace tunelab::detail
