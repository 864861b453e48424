#pragma once

// Private to the spec reader and writer: the experiment's "augment" section (docs/experiment-format.md).

#include "spec/spec.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunelab {

void readAugment(const nlohmann::json& json, AugmentSpec& augment, std::vector<std::string>& errors);
// The section with the changes that are on; absent (null) when none is.
nlohmann::ordered_json augmentToJson(const AugmentSpec& augment);

} // namespace tunelab
