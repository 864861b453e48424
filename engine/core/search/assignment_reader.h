#pragma once

#include "common/result.h"
#include "search/search_space.h"

#include <string_view>

namespace tunelab {

// A parameter set a user gives for a trial (`tunelab-cli study enqueue`): a JSON object from
// parameter path to value, {"optimizer.lr": 0.01, "model.layers[0].out_features": 64}. Each value
// is taken as given or refused with the reason, never moved into the space: a path the space does
// not have, a parameter that does not apply (its condition is not met) or one that applies and has
// no value, a value of the wrong kind, outside the parameter's range, off its step or not one of
// its choices. A fixed parameter left out takes its one value.
Result<Assignment> readAssignment(std::string_view jsonText, const SearchSpace& space);

} // namespace tunelab
