#pragma once

// Private to the spec reader and writer: the optimizer catalog's JSON in and out on nlohmann values.

#include "spec/spec.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunelab {

// The "optimizer" object with every key of its type, in the catalog's order.
nlohmann::ordered_json optimizerJsonObject(const OptimizerSpec& optimizer);
// Reads an "optimizer" object at `path`; errors name path.key. Missing keys take the type's defaults.
void readOptimizerObject(const nlohmann::json& json, const std::string& path, OptimizerSpec& optimizer,
                         std::vector<std::string>& errors);

} // namespace tunelab
