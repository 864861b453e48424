#include "compress/compression_runner.h"

#include "common/atomic_file.h"
#include "compress/model_measurement.h"
#include "compress/structured_pruning.h"
#include "compress/taylor_importance.h"
#include "compress/variant_int8.h"
#include "model/validation.h"
#include "store/run_store.h"
#include "training/devices.h"
#include "training/run_manager.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace tunelab {

namespace {

using detail::measureFloatModel;

// A file name for a variant: its name with anything but letters, digits, '-', '_' and '.' as '_'.
std::string fileStem(const std::string& name) {
    std::string stem;
    for (unsigned char c : name)
        stem += std::isalnum(c) || c == '-' || c == '_' || c == '.' ? static_cast<char>(c) : '_';
    return stem.empty() ? std::string("variant") : stem;
}

class PlanRunner {
public:
    PlanRunner(const CompressionPlan& plan, RunStore& store, const CompressionOptions& options)
        : m_plan(plan)
        , m_store(store)
        , m_options(options)
        , m_manager(&store) {}

    Result<CompressionResult> run();

private:
    std::string prepareSource();
    std::string checkVariants();
    std::string checkVariant(const CompressionVariant& variant);
    void runVariant(const CompressionVariant& variant);
    void runQat(const CompressionVariant& variant);
    VariantResult trainAndMeasure(const ExperimentSpec& spec, const std::string& name,
                                  const std::string& kind, const RunOptions& extra = {});
    Result<RunSummary> train(const ExperimentSpec& spec, RunOptions runOptions, RunId& id);
    Result<ExperimentSpec> structuredExperiment(const CompressionVariant& variant,
                                                const std::string& weightsPath,
                                                std::vector<char>& shrunkWeights);
    std::string pathFor(const std::string& name, const std::string& extension) const {
        return (std::filesystem::path(m_options.outputDirectory) / (fileStem(name) + extension)).string();
    }
    void progress(const std::string& line) const {
        if (m_options.onProgress)
            m_options.onProgress(line);
    }
    bool stopped() const { return m_options.stop && m_options.stop->load(); }

    const CompressionPlan& m_plan;
    RunStore& m_store;
    const CompressionOptions& m_options;
    RunManager m_manager;
    ExperimentSpec m_sourceSpec;
    std::vector<char> m_sourceModel;
    CompressionResult m_result;
};

Result<RunSummary> PlanRunner::train(const ExperimentSpec& spec, RunOptions runOptions, RunId& id) {
    runOptions.threads = m_options.trainingThreads;
    if (!m_options.device.empty())
        runOptions.device = m_options.device;
    auto started = m_manager.start(spec, runOptions);
    if (!started.ok())
        return Result<RunSummary>(Errors{started.errors()});
    id = started.value();
    progress("run " + std::to_string(id) + ": training " + spec.name);
    RunSummary summary;
    bool finished = false;
    bool stopping = false;
    while (!finished) {
        if (stopped() && !stopping) {
            stopping = true;
            m_manager.requestStop(id);
        }
        m_manager.events().waitForEvents(std::chrono::milliseconds(50));
        for (const RunEvent& event : m_manager.events().drain()) {
            if (m_options.onRunEvent)
                m_options.onRunEvent(event);
            if (event.kind == RunEventKind::Finished && event.runId == id) {
                summary = event.summary;
                finished = true;
            }
        }
    }
    m_manager.waitForAll();
    m_store.flush();
    return summary;
}

std::string PlanRunner::prepareSource() {
    if (m_plan.sourceRun > 0) {
        const auto record = m_store.run(m_plan.sourceRun);
        if (!record)
            return "source.run: there is no run " + std::to_string(m_plan.sourceRun) + " in " +
                   m_store.path();
        m_sourceModel = m_store.model(m_plan.sourceRun);
        if (m_sourceModel.empty())
            return "source.run: run " + std::to_string(m_plan.sourceRun) + " (" + toString(record->status) +
                   ") has no saved model to compress";
        auto spec = parseExperimentSpec(record->specJson);
        if (!spec.ok())
            return "source.run: the experiment of run " + std::to_string(m_plan.sourceRun) +
                   " no longer reads: " + spec.error();
        m_sourceSpec = spec.take();
        m_result.source.runId = m_plan.sourceRun;
        return {};
    }
    m_sourceSpec = parseExperimentSpec(m_plan.sourceExperimentJson).take();
    if (auto check = checkExperiment(m_sourceSpec); !check.ok())
        return "source.experiment: " + check.error();
    return {};
}

std::string PlanRunner::checkVariant(const CompressionVariant& variant) {
    const RunId sourceRun = m_plan.sourceRun > 0 ? m_plan.sourceRun : 1;
    switch (variant.kind) {
    case VariantKind::Prune:
    case VariantKind::Distill: {
        auto spec = variantExperiment(variant, m_sourceSpec, sourceRun);
        if (!spec.ok())
            return spec.error();
        if (auto check = checkExperiment(spec.value()); !check.ok())
            return (variant.kind == VariantKind::Distill ? "student: " : "") + check.error();
        return {};
    }
    case VariantKind::Structured: {
        auto check = checkExperiment(m_sourceSpec);
        if (!check.ok())
            return check.error();
        std::vector<char> weights = m_sourceModel;
        if (weights.empty())
            weights = detail::freshStateDict(m_sourceSpec, check.value().data->sampleShape);
        // The structure only: Taylor scores need the trained weights, and come when the variant runs.
        detail::StructuredPruneOptions options;
        options.fraction = variant.fraction;
        options.importance = variant.importance == PruneImportance::L2 ? detail::NeuronImportance::L2
                                                                       : detail::NeuronImportance::L1;
        auto shrunk =
            detail::shrinkNetwork(m_sourceSpec.model, check.value().data->sampleShape, weights, options);
        return shrunk.ok() ? std::string() : shrunk.error();
    }
    case VariantKind::Int8:
        return detail::int8Problem(m_sourceSpec.model);
    case VariantKind::Qat: {
        if (std::string problem = detail::int8Problem(m_sourceSpec.model); !problem.empty())
            return problem;
        auto spec = variantExperiment(variant, m_sourceSpec, sourceRun);
        return spec.ok() ? std::string() : spec.error();
    }
    }
    return {};
}

std::string PlanRunner::checkVariants() {
    std::string problems;
    for (size_t i = 0; i < m_plan.variants.size(); ++i)
        if (std::string problem = checkVariant(m_plan.variants[i]); !problem.empty())
            problems += (problems.empty() ? "" : "\n") + std::string("variants[") + std::to_string(i) +
                        "] (" + m_plan.variants[i].name + "): " + problem;
    return problems;
}

VariantResult PlanRunner::trainAndMeasure(const ExperimentSpec& spec, const std::string& name,
                                          const std::string& kind, const RunOptions& extra) {
    VariantResult result;
    result.name = name;
    result.kind = kind;
    auto summary = train(spec, extra, result.runId);
    if (!summary.ok()) {
        result.status = RunStatus::Failed;
        result.message = summary.error();
        return result;
    }
    result.status = summary.value().status;
    result.message = summary.value().message;
    if (!result.ok())
        return result;
    auto measured =
        measureFloatModel(spec, m_store.model(result.runId), pathFor(name, ".pt"), m_plan.latencyRepeats);
    if (!measured.ok()) {
        result.status = RunStatus::Failed;
        result.message = measured.error();
        return result;
    }
    VariantResult measuredResult = measured.take();
    measuredResult.name = name;
    measuredResult.kind = kind;
    measuredResult.runId = result.runId;
    if (!result.message.empty())
        measuredResult.message =
            result.message + (measuredResult.message.empty() ? "" : "; " + measuredResult.message);
    return measuredResult;
}

Result<ExperimentSpec> PlanRunner::structuredExperiment(const CompressionVariant& variant,
                                                        const std::string& weightsPath,
                                                        std::vector<char>& shrunkWeights) {
    auto check = checkExperiment(m_sourceSpec);
    if (!check.ok())
        return Result<ExperimentSpec>(Errors{check.errors()});
    detail::StructuredPruneOptions options;
    options.fraction = variant.fraction;
    switch (variant.importance) {
    case PruneImportance::L1:
        options.importance = detail::NeuronImportance::L1;
        break;
    case PruneImportance::L2:
        options.importance = detail::NeuronImportance::L2;
        break;
    case PruneImportance::Taylor: {
        options.importance = detail::NeuronImportance::Taylor;
        auto scores = detail::taylorContributions(m_sourceSpec, m_sourceModel);
        if (!scores.ok())
            return Result<ExperimentSpec>(Errors{scores.errors()});
        options.taylor = scores.take();
        break;
    }
    }
    auto shrunk =
        detail::shrinkNetwork(m_sourceSpec.model, check.value().data->sampleShape, m_sourceModel, options);
    if (!shrunk.ok())
        return Result<ExperimentSpec>(Errors{shrunk.errors()});
    shrunkWeights = shrunk.value().stateDict;
    const std::string text(shrunkWeights.begin(), shrunkWeights.end());
    if (auto written = writeFileAtomically(weightsPath, text); !written.ok())
        return Result<ExperimentSpec>::failure("cannot write the pruned weights: " + written.error());
    auto spec = variantExperiment(variant, m_sourceSpec, m_plan.sourceRun);
    if (!spec.ok())
        return spec;
    ExperimentSpec structured = spec.take();
    structured.model = shrunk.value().model;
    structured.init.file = weightsPath;
    std::string note = "structured pruning of run " + std::to_string(m_result.source.runId) + ":";
    for (const auto& layer : shrunk.value().layers)
        note += " layer " + std::to_string(layer.layer) + " " + std::to_string(layer.before) + " -> " +
                std::to_string(layer.after) + ";";
    progress(note);
    return structured;
}

void PlanRunner::runVariant(const CompressionVariant& variant) {
    const RunId sourceRun = m_result.source.runId;
    switch (variant.kind) {
    case VariantKind::Prune:
    case VariantKind::Distill: {
        auto spec = variantExperiment(variant, m_sourceSpec, sourceRun);
        if (!spec.ok()) {
            VariantResult failed;
            failed.name = variant.name;
            failed.kind = toString(variant.kind);
            failed.status = RunStatus::Failed;
            failed.message = spec.error();
            m_result.variants.push_back(failed);
            return;
        }
        m_result.variants.push_back(trainAndMeasure(spec.value(), variant.name, toString(variant.kind)));
        if (variant.kind == VariantKind::Distill && variant.compareAlone && !stopped()) {
            auto alone = variantExperiment(variant, m_sourceSpec, sourceRun, true);
            if (alone.ok())
                m_result.variants.push_back(trainAndMeasure(alone.value(), variant.name + " alone", "alone"));
        }
        return;
    }
    case VariantKind::Structured: {
        std::vector<char> weights;
        auto spec = structuredExperiment(variant, pathFor(variant.name, ".start.pth"), weights);
        if (!spec.ok()) {
            VariantResult failed;
            failed.name = variant.name;
            failed.kind = "structured";
            failed.status = RunStatus::Failed;
            failed.message = spec.error();
            m_result.variants.push_back(failed);
            return;
        }
        m_result.variants.push_back(trainAndMeasure(spec.value(), variant.name, "structured"));
        return;
    }
    case VariantKind::Int8:
        progress("quantizing run " + std::to_string(sourceRun) + " to int8 (" + variant.name + ")");
        m_result.variants.push_back(detail::quantizedVariant(variant, m_sourceSpec, m_sourceModel, sourceRun,
                                                             pathFor(variant.name, ".int8.pt"),
                                                             m_plan.latencyRepeats, m_store));
        return;
    case VariantKind::Qat:
        runQat(variant);
        return;
    }
}

// Fine-tunes with int8-rounded weights, then quantizes the result like an int8 variant; the result is
// the fine-tuned run's, its int8 file recorded as that run's export.
void PlanRunner::runQat(const CompressionVariant& variant) {
    VariantResult result;
    result.name = variant.name;
    result.kind = "qat";
    auto spec = variantExperiment(variant, m_sourceSpec, m_result.source.runId);
    if (!spec.ok()) {
        result.status = RunStatus::Failed;
        result.message = spec.error();
        m_result.variants.push_back(result);
        return;
    }
    auto summary = train(spec.value(), {}, result.runId);
    if (!summary.ok() || summary.value().status != RunStatus::Completed) {
        result.status = summary.ok() ? summary.value().status : RunStatus::Failed;
        result.message = summary.ok() ? summary.value().message : summary.error();
        m_result.variants.push_back(result);
        return;
    }
    progress("quantizing run " + std::to_string(result.runId) + " to int8 (" + variant.name + ")");
    VariantResult quantized =
        detail::quantizedVariant(variant, spec.value(), m_store.model(result.runId), result.runId,
                                 pathFor(variant.name, ".int8.pt"), m_plan.latencyRepeats, m_store);
    quantized.kind = "qat";
    m_result.variants.push_back(quantized);
}

Result<CompressionResult> PlanRunner::run() {
    using Outcome = Result<CompressionResult>;
    m_result.plan = m_plan.name;
    m_result.threads = m_plan.latencyThreads;
    m_result.outputDirectory = m_options.outputDirectory;
    if (std::string problem = prepareSource(); !problem.empty())
        return Outcome::failure(problem);
    if (std::string problem = checkVariants(); !problem.empty())
        return Outcome::failure(problem);
    std::error_code error;
    std::filesystem::create_directories(m_options.outputDirectory, error);
    if (error)
        return Outcome::failure("cannot create the folder " + m_options.outputDirectory + ": " +
                                error.message());

    if (m_plan.sourceRun == 0) {
        auto summary = train(m_sourceSpec, {}, m_result.source.runId);
        if (!summary.ok())
            return Outcome::failure("source.experiment: " + summary.error());
        if (summary.value().status != RunStatus::Completed)
            return Outcome::failure("source.experiment: run " + std::to_string(m_result.source.runId) + " " +
                                    toString(summary.value().status) + ": " + summary.value().message);
        m_sourceModel = m_store.model(m_result.source.runId);
        m_sourceSpec = parseExperimentSpec(m_store.run(m_result.source.runId)->specJson).take();
    }
    // Every latency of the plan on the same thread count, set once for this thread.
    setComputeThreads(m_plan.latencyThreads);
    auto source =
        measureFloatModel(m_sourceSpec, m_sourceModel, pathFor("source", ".pt"), m_plan.latencyRepeats);
    if (!source.ok())
        return Outcome::failure("source: " + source.error());
    const RunId sourceRun = m_result.source.runId;
    m_result.source = source.take();
    m_result.source.name = "source";
    m_result.source.kind = "source";
    m_result.source.runId = sourceRun;
    for (const auto& variant : m_plan.variants) {
        if (stopped())
            break;
        runVariant(variant);
        setComputeThreads(m_plan.latencyThreads);
    }
    for (auto& variant : m_result.variants)
        if (variant.ok() && variant.latencyMs > 0.0)
            variant.speedup = m_result.source.latencyMs / variant.latencyMs;
    m_result.source.speedup = 1.0;
    markParetoFronts(m_result);
    return m_result;
}

} // namespace

Result<CompressionResult> runCompressionPlan(const CompressionPlan& plan, RunStore& store,
                                             const CompressionOptions& options) {
    PlanRunner runner(plan, store, options);
    return runner.run();
}

} // namespace tunelab
