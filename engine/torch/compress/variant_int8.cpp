#include "compress/variant_int8.h"

#include "compress/model_measurement.h"
#include "compress/quantization.h"
#include "store/run_store.h"

namespace tunelab::detail {

std::string int8Problem(const ModelSpec& model) {
    for (const auto& layer : model.layers)
        if (layer.type == LayerType::Linear || layer.type == LayerType::Conv2d)
            return {};
    return "int8: the network has no linear or conv2d layer to quantize";
}

VariantResult quantizedVariant(const CompressionVariant& variant, const ExperimentSpec& spec,
                               const std::vector<char>& stateDict, RunId sourceRun, const std::string& path,
                               int repeats, RunStore& store) {
    VariantResult result;
    result.name = variant.name;
    result.kind = "int8";
    result.runId = sourceRun;
    auto fail = [&result](const std::string& message) {
        result.status = RunStatus::Failed;
        result.message = message;
        return result;
    };
    QuantizationOptions options;
    options.perChannel = variant.perChannel;
    options.calibrationRows = variant.calibrationRows;
    options.allInt8 = variant.allInt8;
    options.decisionBatch = variant.decisionBatch;
    auto quantized = quantizeModel(spec, stateDict, options);
    if (!quantized.ok())
        return fail("int8: " + quantized.error());
    const QuantizationResult& int8 = quantized.value();
    auto saved = saveQuantizedModel(int8, path);
    if (!saved.ok())
        return fail("int8: " + saved.error());
    result.file = saved.value().path;
    result.sizeBytes = saved.value().bytes;
    result.verified = saved.value().verified();
    ExportRecord record;
    record.format = "int8-torchscript";
    record.path = result.file;
    record.bytes = result.sizeBytes;
    record.checkedRows = saved.value().checkedRows;
    record.maxAbsDifference = saved.value().maxAbsDifference;
    if (auto recorded = store.recordExport(sourceRun, record); !recorded.ok())
        result.message =
            "the int8 file was not recorded with run " + std::to_string(sourceRun) + ": " + recorded.error();

    // Accuracy and latency measured by the same code, on the same rows, as every other variant.
    auto source = loadSavedModel(spec, stateDict);
    if (!source.ok())
        return fail(source.error());
    const SavedModel& model = source.value();
    for (const auto& parameter : model.network->parameters()) {
        result.parameters += parameter.numel();
        result.nonzeroParameters += parameter.ne(0).sum().item<int64_t>();
    }
    const QuantizedNetwork& network = int8.network;
    auto forward = [&network](const torch::Tensor& x) { return network.forward(x); };
    measureAccuracy(model, forward, result);
    measureLatency(model, forward, repeats, result);
    int kept = 0;
    for (const QuantizedLayerReport& report : int8.layers) {
        CompressedLayer layer;
        layer.layer = report.layer;
        layer.kind = report.kind;
        layer.weights = model.network->named_parameters()[std::to_string(report.layer) + ".weight"].numel();
        layer.int8 = report.int8;
        layer.note = report.why;
        layer.maxAbsError = report.maxAbsError;
        layer.errorMax = report.errorMax;
        layer.errorBins = report.errorBins;
        result.layers.push_back(layer);
        kept += report.int8 ? 0 : 1;
    }
    std::string summary = std::to_string(int8.layers.size() - kept) + " of " +
                          std::to_string(int8.layers.size()) + " layers int8; " + int8.engineWhy;
    result.message = result.message.empty() ? summary : summary + "; " + result.message;
    return result;
}

} // namespace tunelab::detail
