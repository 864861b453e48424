#pragma once

// Private to the spec reader and writer: the experiment's "model" section, its layers, names and
// inputs, and blocks written once and expanded at each instance (docs/experiment-format.md).

#include "spec/spec.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunelab {

// `asked`, when given, receives the keys the reader asked for: those a layer of this type accepts.
void readLayer(const nlohmann::json& json, const std::string& path, LayerSpec& layer,
               std::vector<std::string>& errors, std::vector<std::string>* asked = nullptr);
void readModel(const nlohmann::json& json, ModelSpec& model, std::vector<std::string>& errors);

// The layers an instance named `instance` of `block` stands for: an identity named "INSTANCE/input"
// reading `inputs` (the layer before it when empty), then the block's layers named
// "INSTANCE/NAME" (or "INSTANCE/N" for the block's N-th layer when unnamed).
std::vector<LayerSpec> expandBlock(const BlockSpec& block, const std::string& instance,
                                   const std::vector<std::string>& inputs);

} // namespace tunelab
