#include "compress/quantization.h"

#include "compress/inference_latency.h"
#include "compress/model_measurement.h"
#include "model/network_graph.h"
#include "training/saved_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tunelab::detail {

namespace {

constexpr int64_t kCheckedRows = 512;

// What quantizing one linear or conv2d stage does not depend on the engine: its calibration input,
// its float output, and the times of the float layer and of quantizing its input.
struct StageMeasure {
    torch::Tensor input;       // the calibration rows' input to the layer
    torch::Tensor floatOutput; // the float layer's output on them
    double float1 = 0.0, float64 = 0.0;
    double quantize1 = 0.0, quantize64 = 0.0; // the layer's input to quint8
};

// The int8 form of one stage on one engine.
struct EngineMeasure {
    c10::IValue packed;
    double core1 = 0.0, core64 = 0.0;             // quantized in, quantized out
    double dequantize1 = 0.0, dequantize64 = 0.0; // its int8 output back to float
    double maxAbsError = 0.0;
    double relativeError = 0.0;
    std::vector<int64_t> errorBins;
};

// One engine's measurements and the decisions they lead to, indexed like the stages.
struct EnginePlan {
    QuantizedEngine engine = QuantizedEngine::Onednn;
    std::vector<EngineMeasure> measures;
    std::vector<bool> int8;
    std::vector<double> int8Ms, int8Batch64Ms; // with the conversions the layer's place needs
    double totalMs = 0.0; // the linear and conv2d layers at the deciding batch, as decided
};

torch::Tensor rowsFor(const torch::Tensor& all, int64_t count) {
    const auto index = torch::arange(count, torch::kLong).remainder(all.size(0));
    return all.index_select(0, index).contiguous();
}

std::string milliseconds(double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f ms", ms);
    return text;
}

std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f %%", fraction * 100.0);
    return text;
}

bool finite(const torch::Tensor& tensor) {
    return torch::isfinite(tensor).all().item<bool>();
}

// Runs the float stages over the calibration rows, keeping each linear and conv2d stage's input and
// output, and sets its weights' int8 form and its activation ranges.
Result<std::vector<StageMeasure>> calibrate(std::vector<QuantizedStage>& stages,
                                            const torch::Tensor& calibration,
                                            const QuantizationOptions& options) {
    using Calibrated = Result<std::vector<StageMeasure>>;
    std::vector<StageMeasure> measures(stages.size());
    const torch::Tensor input = calibration.to(torch::kFloat).contiguous();
    std::vector<torch::Tensor> values(stages.size());
    for (size_t i = 0; i < stages.size(); ++i) {
        QuantizedStage& stage = stages[i];
        std::vector<torch::Tensor> inputs;
        for (const int from : stage.inputs)
            inputs.push_back(from == QuantizedStage::kNetworkInput ? input
                                                                   : values[static_cast<size_t>(from)]);
        if (!stage.quantizable()) {
            values[i] = runFloat(stage, inputs);
            continue;
        }
        const torch::Tensor& x = inputs.at(0);
        if (!finite(stage.weight) || !finite(stage.bias))
            return Calibrated::failure(stage.name() +
                                       ": its weights are not finite, so it cannot be quantized");
        if (!finite(x))
            return Calibrated::failure(stage.name() + ": its input on the calibration rows is not finite");
        StageMeasure& measure = measures[i];
        measure.input = x;
        measure.floatOutput = runFloat(stage, x);
        stage.int8Weight = quantizeWeight(stage.weight, options.perChannel);
        const auto [inMin, inMax] = observedRange(x, options.calibrationPercentile);
        const auto [outMin, outMax] = observedRange(measure.floatOutput, options.calibrationPercentile);
        stage.input = activationQuant(inMin, inMax);
        stage.output = activationQuant(outMin, outMax);
        values[i] = measure.floatOutput;
    }
    return measures;
}

void timeFloatForms(const std::vector<QuantizedStage>& stages, std::vector<StageMeasure>& measures,
                    int repeats) {
    for (size_t i = 0; i < stages.size(); ++i) {
        if (!stages[i].quantizable())
            continue;
        const QuantizedStage& stage = stages[i];
        StageMeasure& measure = measures[i];
        const torch::Tensor one = rowsFor(measure.input, 1), batch = rowsFor(measure.input, 64);
        const int batchRepeats = std::max(10, repeats / 4);
        measure.float1 = medianMilliseconds([&] { runFloat(stage, one); }, repeats);
        measure.float64 = medianMilliseconds([&] { runFloat(stage, batch); }, batchRepeats);
        measure.quantize1 = medianMilliseconds([&] { quantizeActivation(one, stage.input); }, repeats);
        measure.quantize64 =
            medianMilliseconds([&] { quantizeActivation(batch, stage.input); }, batchRepeats);
    }
}

// The int8 and float times of a layer at the batch that decides (QuantizationOptions::decisionBatch).
double decidingMs(const EnginePlan& plan, size_t i, const QuantizationOptions& options) {
    return options.decisionBatch == 64 ? plan.int8Batch64Ms[i] : plan.int8Ms[i];
}

double decidingFloatMs(const StageMeasure& measure, const QuantizationOptions& options) {
    return options.decisionBatch == 64 ? measure.float64 : measure.float1;
}

// Packs every linear and conv2d stage on `engine`, measures its int8 error and time, and decides.
Result<EnginePlan> planEngine(QuantizedEngine engine, std::vector<QuantizedStage> stages,
                              const std::vector<StageMeasure>& measures, const QuantizationOptions& options) {
    using Planned = Result<EnginePlan>;
    EnginePlan plan;
    plan.engine = engine;
    plan.measures.resize(stages.size());
    plan.int8.assign(stages.size(), false);
    plan.int8Ms.assign(stages.size(), kNoValue);
    plan.int8Batch64Ms.assign(stages.size(), kNoValue);
    EngineScope scope(engine);
    for (size_t i = 0; i < stages.size(); ++i) {
        QuantizedStage& stage = stages[i];
        if (!stage.quantizable())
            continue;
        const StageMeasure& measure = measures[i];
        EngineMeasure& int8 = plan.measures[i];
        try {
            int8.packed = packStage(stage);
            stage.packed = int8.packed;
            const torch::Tensor output =
                runInt8(stage, quantizeActivation(measure.input, stage.input)).dequantize();
            if (!finite(output))
                return Planned::failure(stage.name() + ": its int8 output on the " + toString(engine) +
                                        " engine is not finite");
            const torch::Tensor error = (output - measure.floatOutput).abs();
            int8.maxAbsError = error.max().item<double>();
            const double floatRms = measure.floatOutput.square().mean().sqrt().item<double>();
            const double errorRms = error.square().mean().sqrt().item<double>();
            int8.relativeError = floatRms > 0.0 ? errorRms / floatRms : (errorRms > 0.0 ? INFINITY : 0.0);
            int8.errorBins = histogram(error, 0.0, int8.maxAbsError, kQuantizationHistogramBins);
            const int repeats = options.timingRepeats, batchRepeats = std::max(10, options.timingRepeats / 4);
            const torch::Tensor one = quantizeActivation(rowsFor(measure.input, 1), stage.input);
            const torch::Tensor batch = quantizeActivation(rowsFor(measure.input, 64), stage.input);
            int8.core1 = medianMilliseconds([&] { runInt8(stage, one); }, repeats);
            int8.core64 = medianMilliseconds([&] { runInt8(stage, batch); }, batchRepeats);
            // The kernel's own output, in the memory layout it chose.
            const torch::Tensor out1 = runInt8(stage, one), out64 = runInt8(stage, batch);
            int8.dequantize1 = medianMilliseconds([&] { out1.dequantize(); }, repeats);
            int8.dequantize64 = medianMilliseconds([&] { out64.dequantize(); }, batchRepeats);
        } catch (const c10::Error& error) {
            return Planned::failure(stage.name() + ": cannot be quantized on the " + toString(engine) +
                                    " engine: " + error.what_without_backtrace());
        }
        const bool faster =
            options.decisionBatch == 64 ? int8.core64 < measure.float64 : int8.core1 < measure.float1;
        plan.int8[i] = options.allInt8 || (int8.relativeError <= options.maxRelativeError && faster);
    }
    // A layer in int8 pays for the conversions its neighbours in float make it do; where that makes it
    // slower than float it goes back to float, which may leave a neighbour with more conversions.
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < stages.size(); ++i) {
            if (!stages[i].quantizable())
                continue;
            const StageMeasure& measure = measures[i];
            const EngineMeasure& int8 = plan.measures[i];
            const ConversionPlan conversions = planConversions(stages, plan.int8);
            const int from = stages[i].inputs.at(0);
            const bool quantizedIn = from != QuantizedStage::kNetworkInput &&
                                     conversions.quantizedOutput[static_cast<size_t>(from)];
            const bool quantizedOut = !outputNeedsFloat(stages, plan.int8, i);
            plan.int8Ms[i] = int8.core1 + (quantizedIn ? 0.0 : measure.quantize1) +
                             (quantizedOut ? 0.0 : int8.dequantize1);
            plan.int8Batch64Ms[i] = int8.core64 + (quantizedIn ? 0.0 : measure.quantize64) +
                                    (quantizedOut ? 0.0 : int8.dequantize64);
            if (plan.int8[i] && !options.allInt8 &&
                decidingMs(plan, i, options) >= decidingFloatMs(measure, options)) {
                plan.int8[i] = false;
                changed = true;
            }
        }
    }
    for (size_t i = 0; i < stages.size(); ++i)
        if (stages[i].quantizable())
            plan.totalMs +=
                plan.int8[i] ? decidingMs(plan, i, options) : decidingFloatMs(measures[i], options);
    return plan;
}

std::string decisionWhy(const EnginePlan& plan, const StageMeasure& measure, size_t i,
                        const QuantizationOptions& options) {
    const EngineMeasure& int8 = plan.measures[i];
    const std::string times = milliseconds(decidingMs(plan, i, options)) + " at batch " +
                              std::to_string(options.decisionBatch) + " against " +
                              milliseconds(decidingFloatMs(measure, options)) + " in float";
    const std::string error = "error " + percent(int8.relativeError) + " of the output";
    if (options.allInt8)
        return "int8, as all layers were asked to be: " + times + ", " + error;
    if (plan.int8[i])
        return "int8: " + times + ", " + error;
    if (int8.relativeError > options.maxRelativeError)
        return "float: the int8 " + error + " is above the " + percent(options.maxRelativeError) + " allowed";
    const double core = options.decisionBatch == 64 ? int8.core64 : int8.core1;
    return "float: int8 is not faster, " + times +
           (decidingMs(plan, i, options) > core ? " (with the quantize or dequantize it needs here)" : "");
}

QuantizedLayerReport layerReport(const QuantizedStage& stage, const StageMeasure& measure,
                                 const EnginePlan& plan, size_t i, const QuantizationOptions& options) {
    QuantizedLayerReport report;
    report.layer = stage.layer;
    report.kind = toString(stage.spec.type);
    report.absorbed = stage.absorbed;
    report.int8 = plan.int8[i];
    report.why = decisionWhy(plan, measure, i, options);
    report.floatMs = measure.float1;
    report.floatBatch64Ms = measure.float64;
    report.int8Ms = plan.int8Ms[i];
    report.int8Batch64Ms = plan.int8Batch64Ms[i];
    const EngineMeasure& int8 = plan.measures[i];
    report.maxAbsError = int8.maxAbsError;
    report.relativeError = int8.relativeError;
    report.errorMax = int8.maxAbsError;
    report.errorBins = int8.errorBins;
    report.weightMin = stage.weight.min().item<double>();
    report.weightMax = stage.weight.max().item<double>();
    report.weightBins =
        histogram(stage.weight, report.weightMin, report.weightMax, kQuantizationHistogramBins);
    report.weightScale = stage.int8Weight.scales.max().item<double>();
    const torch::Tensor weightError = (stage.int8Weight.dequantized() - stage.weight).abs();
    report.weightMaxAbsError = weightError.max().item<double>();
    report.weightRmsError = weightError.square().mean().sqrt().item<double>();
    report.inputMin = stage.input.min;
    report.inputMax = stage.input.max;
    report.outputMin = stage.output.min;
    report.outputMax = stage.output.max;
    return report;
}

Result<std::vector<QuantizedEngine>> candidateEngines(QuantizedEngine wanted) {
    const std::vector<QuantizedEngine> available = availableEngines();
    if (available.empty())
        return Result<std::vector<QuantizedEngine>>::failure(
            "int8: this LibTorch has no quantized engine (oneDNN or QNNPACK)");
    if (wanted == QuantizedEngine::Auto)
        return available;
    if (std::find(available.begin(), available.end(), wanted) == available.end())
        return Result<std::vector<QuantizedEngine>>::failure(std::string("int8: this LibTorch has no ") +
                                                             toString(wanted) + " quantized engine");
    return std::vector<QuantizedEngine>{wanted};
}

Result<QuantizationResult> quantizeStages(const ModelSpec& model, NetworkImpl& network,
                                          const torch::Tensor& calibration,
                                          const QuantizationOptions& options) {
    using Quantized = Result<QuantizationResult>;
    torch::NoGradGuard noGrad;
    if (const NetworkGraph graph = buildNetworkGraph(model); !graph.ok())
        return Quantized::failure("model.layers: " + graph.errors.front());
    std::vector<QuantizedStage> stages = buildStages(model, network);
    if (std::none_of(stages.begin(), stages.end(), [](const auto& stage) { return stage.quantizable(); }))
        return Quantized::failure("model.layers: the network has no linear or conv2d layer to quantize");
    if (calibration.dim() < 2 || calibration.size(0) == 0)
        return Quantized::failure("int8: there are no calibration rows");
    auto engines = candidateEngines(options.engine);
    if (!engines.ok())
        return Quantized(Errors{engines.errors()});

    auto calibrated = calibrate(stages, calibration, options);
    if (!calibrated.ok())
        return Quantized(Errors{calibrated.errors()});
    std::vector<StageMeasure>& measures = calibrated.value();
    timeFloatForms(stages, measures, options.timingRepeats);

    std::vector<EnginePlan> plans;
    for (QuantizedEngine engine : engines.value()) {
        auto plan = planEngine(engine, stages, measures, options);
        if (!plan.ok())
            return Quantized(Errors{plan.errors()});
        plans.push_back(plan.take());
    }
    // The first engine (oneDNN) unless another measured faster.
    const EnginePlan& chosen =
        *std::min_element(plans.begin(), plans.end(),
                          [](const EnginePlan& a, const EnginePlan& b) { return a.totalMs < b.totalMs; });

    QuantizationResult result;
    result.calibrationRows = calibration.size(0);
    result.engineWhy =
        std::string(toString(chosen.engine)) +
        (options.engine != QuantizedEngine::Auto ? ", as asked"
         : plans.size() == 1                     ? ", the only quantized engine of this LibTorch"
                             : ", the faster at batch " + std::to_string(options.decisionBatch));
    result.engineWhy += ": its linear and conv2d layers take " + milliseconds(chosen.totalMs);
    for (const EnginePlan& plan : plans)
        if (plan.engine != chosen.engine)
            result.engineWhy += ", against " + milliseconds(plan.totalMs) + " on " + toString(plan.engine);
    for (size_t i = 0; i < stages.size(); ++i) {
        QuantizedStage& stage = stages[i];
        if (!stage.quantizable())
            continue;
        result.layers.push_back(layerReport(stage, measures[i], chosen, i, options));
        stage.int8 = chosen.int8[i];
        stage.packed = stage.int8 ? chosen.measures[i].packed : c10::IValue();
    }
    result.network = QuantizedNetwork(std::move(stages), chosen.engine);
    return result;
}

} // namespace

int QuantizedNetwork::int8Layers() const {
    return static_cast<int>(std::count_if(m_stages.begin(), m_stages.end(),
                                          [](const auto& s) { return s.quantizable() && s.int8; }));
}

Result<QuantizationResult> quantizeNetwork(const ModelSpec& model, NetworkImpl& network,
                                           const torch::Tensor& calibration,
                                           const QuantizationOptions& options) {
    using Quantized = Result<QuantizationResult>;
    try {
        return quantizeStages(model, network, calibration, options);
    } catch (const c10::Error& error) {
        return Quantized::failure(std::string("int8: ") + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Quantized::failure(std::string("int8: ") + error.what());
    }
}

Result<QuantizationResult> quantizeModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                         const QuantizationOptions& options) {
    using Quantized = Result<QuantizationResult>;
    if (std::none_of(spec.model.layers.begin(), spec.model.layers.end(), [](const LayerSpec& layer) {
            return layer.type == LayerType::Linear || layer.type == LayerType::Conv2d;
        }))
        return Quantized::failure("model.layers: the network has no linear or conv2d layer to quantize");
    try {
        auto loaded = loadSavedModel(spec, stateDict);
        if (!loaded.ok())
            return Quantized(Errors{loaded.errors()});
        SavedModel& model = loaded.value();
        torch::NoGradGuard noGrad;
        std::vector<int64_t> rows = model.split.train.empty() ? model.split.validation : model.split.train;
        rows.resize(std::min<size_t>(rows.size(),
                                     static_cast<size_t>(std::max<int64_t>(options.calibrationRows, 1))));
        auto quantized = quantizeNetwork(spec.model, *model.network, model.features(rows), options);
        if (!quantized.ok())
            return quantized;
        QuantizationResult& result = quantized.value();

        const auto floatForward = [&model](const torch::Tensor& x) { return model.network->forward(x); };
        const QuantizedNetwork& network = result.network;
        const auto int8Forward = [&network](const torch::Tensor& x) { return network.forward(x); };
        VariantResult floatMeasure, int8Measure;
        measureAccuracy(model, floatForward, floatMeasure);
        measureAccuracy(model, int8Forward, int8Measure);
        measureLatency(model, floatForward, options.timingRepeats, floatMeasure);
        measureLatency(model, int8Forward, options.timingRepeats, int8Measure);
        result.task = model.data.task;
        result.floatAccuracy = floatMeasure.valAccuracy;
        result.int8Accuracy = int8Measure.valAccuracy;
        result.floatMae = floatMeasure.valMae;
        result.int8Mae = int8Measure.valMae;
        result.floatMs = floatMeasure.latencyMs;
        result.int8Ms = int8Measure.latencyMs;
        result.floatBatch64Ms = floatMeasure.batch64Ms;
        result.int8Batch64Ms = int8Measure.batch64Ms;
        result.floatStateDictBytes = static_cast<int64_t>(stateDict.size());

        std::vector<int64_t> checked =
            model.split.validation.empty() ? model.split.train : model.split.validation;
        result.evaluatedRows = static_cast<int64_t>(checked.size());
        checked.resize(std::min<size_t>(checked.size(), kCheckedRows));
        result.checkInput = model.features(checked);
        return quantized;
    } catch (const c10::Error& error) {
        return Quantized::failure(std::string("int8: ") + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Quantized::failure(std::string("int8: ") + error.what());
    }
}

} // namespace tunelab::detail
