#pragma once

// Private to the engine: the TorchScript module that `exportModel` saves (docs/export.md).

#include "spec/spec.h"
#include "training/network.h"

#include <string>

namespace tunelab::detail {

// The network as a saved TorchScript module (what torch::jit::save writes): its parameters and
// buffers registered as layerN_name, and a forward that applies each layer with the same operator
// the trainer's network uses (dropout is the identity in evaluation).
std::string torchScriptBytes(const ModelSpec& model, Network& network);

} // namespace tunelab::detail
