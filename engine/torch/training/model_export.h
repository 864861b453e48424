#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "spec/spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tunelab {

// The files a trained model is exported to (docs/export.md):
// - TorchScript: a self-contained module (weights and a forward written out layer by layer) that
//   torch.jit.load in Python and torch::jit::load in C++ run without TuneLab;
// - a state dict with readable names ("layers.0.linear.weight"), in torch.save's format, and the
//   resolved experiment spec beside it (FILE.spec.json);
// - ONNX: the network written with standard ONNX operators (opset 13), which ONNX Runtime, OpenCV
//   and other runtimes run; a TuneLab built without ONNX refuses it with that reason.
enum class ExportFormat { TorchScript, StateDict, Onnx };

const char* toString(ExportFormat format); // "torchscript", "state-dict", "onnx"
bool parseExportFormat(const std::string& text, ExportFormat& format);
// Empty when this TuneLab writes `format`; else why not ("this TuneLab was built without ONNX
// support ...").
std::string exportFormatUnavailableReason(ExportFormat format);

// What an export wrote and how it checked itself: the file was loaded back and run on the run's
// validation rows (its training rows when it has none), and its outputs compared with the model's.
struct ExportReport {
    ExportFormat format = ExportFormat::TorchScript;
    std::string path;
    std::string specPath; // state dict: the spec written beside it
    int64_t bytes = 0;
    int64_t checkedRows = 0;
    double maxAbsDifference = kNoValue;
    double tolerance = 1e-5;
    std::string checkedWith; // ONNX: the runtime that read the file back ("OpenCV 4.6.0")
    bool verified() const { return checkedRows > 0 && maxAbsDifference <= tolerance; }
};

// Exports a run's saved model (RunStore::model) of the resolved spec `spec` to `path`, written
// atomically, then verifies the file. Fails with the reason when the model cannot be rebuilt (its
// data no longer loads), the file cannot be written, or the reloaded file computes other outputs
// (then nothing is left at `path`), or when a layer cannot be written in the format (the message
// names it: "model.layers[3]: ...").
Result<ExportReport> exportModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                 ExportFormat format, const std::string& path);

// The readable name of a parameter or buffer of the network of `model` saved as `indexName`
// ("0.weight" -> "layers.0.linear.weight"); empty for a name the network does not have.
std::string readableParameterName(const ModelSpec& model, const std::string& indexName);

namespace detail {
// A double written as TorchScript source that reads back as the same double ("0.1", "3.0").
std::string scriptNumber(double value);
} // namespace detail

} // namespace tunelab
