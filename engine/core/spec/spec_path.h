#pragma once

// Private to the engine: paths into an experiment spec such as model.layers[0].out_features.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tunelab {

// One step of a path: a key or an array index.
struct PathSegment {
    std::string key;
    int64_t index = -1; // >= 0 for "[n]"
};

// The steps of a path, or nullopt when it is not one (keys are identifiers, indexes are [digits]).
std::optional<std::vector<PathSegment>> parsePath(const std::string& path);

} // namespace tunelab
