#pragma once

// Private to the engine: writes a network as an ONNX model and runs such a file (docs/export.md).

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"
#include "training/network.h"

#include <string>

namespace tunelab::detail {

// The opset the ONNX models TuneLab writes import from the default domain.
constexpr int kOnnxOpset = 13;

// Empty when this TuneLab writes and checks ONNX models; else why it cannot (built without ONNX or
// OpenCV).
std::string onnxUnavailableReason();

// The network of `model`, built for samples of shape `input` and holding the trained weights, as a
// serialized ONNX model: one float32 input "input" of shape [batch, ...input] with a dynamic batch
// dimension, one output "output", every layer written with standard ONNX operators (in evaluation:
// dropout is left out, batch norm uses its running statistics). The model passed ONNX's checker and
// its strict shape inference. Fails naming the layer ("model.layers[3]: ...") that cannot be
// written, and why.
Result<std::string> onnxModelBytes(const ModelSpec& model, const Shape& input, Network& network);

// Reads the ONNX model of `model` at `path` with OpenCV's DNN module, an implementation independent
// of LibTorch, and runs it on `input` (float32 on the CPU, batch first). Its errors name the layer
// they are about where they can.
Result<torch::Tensor> runOnnxModel(const ModelSpec& model, const std::string& path,
                                   const torch::Tensor& input);

// What runs the check, for the report: "OpenCV 4.6.0".
std::string onnxCheckerName();

} // namespace tunelab::detail
