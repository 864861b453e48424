#include "engine/trainer.h"

#include "engine/dataset.h"
#include "engine/dataset_cache.h"
#include "engine/devices.h"
#include "engine/gradient_health.h"
#include "engine/learning_rate_schedule.h"
#include "engine/shape_inference.h"
#include "engine/torch/losses.h"
#include "engine/torch/network.h"
#include "engine/torch/optimizers.h"
#include "engine/validation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

namespace tunelab {

namespace {

using Clock = std::chrono::steady_clock;

// Health samples are taken at one step after every this many metric flushes (docs/gradient-health.md).
constexpr int kHealthSampleEveryFlushes = 1;
constexpr int kHistogramBins = 32;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Thrown inside the loop to end a run early with a status other than failed.
struct RunEnded {
    RunStatus status;
    std::string message;
};

struct Tensors {
    torch::Tensor trainX, trainY, valX, valY;
};

torch::Tensor rowsOf(const torch::Tensor& all, const std::vector<int64_t>& rows) {
    auto index = torch::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())},
                                  torch::kLong);
    return all.index_select(0, index);
}

Tensors makeTensors(const Dataset& data, const DataSplit& split, LossType loss, const torch::Device& device) {
    std::vector<int64_t> featureShape{data.rows};
    featureShape.insert(featureShape.end(), data.sampleShape.begin(), data.sampleShape.end());
    auto features = torch::from_blob(const_cast<float*>(data.features.data()), featureShape, torch::kFloat);
    auto targets = torch::from_blob(const_cast<float*>(data.targets.data()), {data.rows}, torch::kFloat);
    if (loss == LossType::CrossEntropy)
        targets = targets.to(torch::kLong);
    else
        targets = targets.unsqueeze(1);
    Tensors tensors;
    tensors.trainX = rowsOf(features, split.train).to(device);
    tensors.trainY = rowsOf(targets, split.train).to(device);
    if (!split.validation.empty()) {
        tensors.valX = rowsOf(features, split.validation).to(device);
        tensors.valY = rowsOf(targets, split.validation).to(device);
    }
    return tensors;
}

bool lowerIsBetter(MetricKind metric) {
    return metric != MetricKind::ValAccuracy;
}

double metricValue(MetricKind metric, const EpochRecord& epoch) {
    switch (metric) {
    case MetricKind::TrainLoss:
        return epoch.trainLoss;
    case MetricKind::ValLoss:
        return epoch.valLoss;
    case MetricKind::ValAccuracy:
        return epoch.valAccuracy;
    case MetricKind::ValMae:
        return epoch.valMae;
    }
    return kNoValue;
}

class Trainer {
public:
    Trainer(RunId id, const ExperimentSpec& spec, const RunOptions& options, RunControl& control,
            RunEventSink& sink)
        : m_id(id)
        , m_spec(spec)
        , m_options(options)
        , m_control(control)
        , m_sink(sink) {}

    RunSummary run();

private:
    void prepare(const std::string& deviceId);
    void trainEpoch(int epoch);
    void step(const torch::Tensor& x, const torch::Tensor& y, int epoch);
    void flushSteps();
    void findLayerSlices();
    void sampleGradients();
    void sampleUpdates();
    std::vector<LayerHealthSample> takeHealthSamples(int64_t lastStep);
    void hashBatchOrder(const std::vector<int64_t>* order);
    std::vector<WeightHistogram> weightHistograms(int epoch) const;
    EpochRecord validate(int epoch, double seconds);
    void afterEpoch(const EpochRecord& record);
    void waitWhilePaused();
    void finish(RunStatus status, const std::string& message);

    RunId m_id;
    const ExperimentSpec& m_spec;
    RunOptions m_options;
    RunControl& m_control;
    RunEventSink& m_sink;
    RunSummary m_summary;

    torch::Device m_device{torch::kCPU};
    Dataset m_data;
    Tensors m_tensors;
    detail::Network m_network{nullptr};
    detail::FlatParameters m_flat;
    std::unique_ptr<detail::FlatOptimizer> m_optimizer;
    std::unique_ptr<LearningRateSchedule> m_schedule;
    std::mt19937_64 m_shuffleRandom;
    int64_t m_batchSize = 1;
    int64_t m_stepsPerEpoch = 1;
    std::vector<int64_t> m_trainRows; // dataset row of each training row, for the batch order hash

    // A layer's parameters are one contiguous slice of the flat buffers (flattenParameters keeps
    // the registration order), so its norms need no copies.
    struct LayerSlice {
        int32_t layer = 0;
        int64_t offset = 0, length = 0;              // weights and bias
        int64_t weightOffset = -1, weightLength = 0; // the weights alone, for histograms
    };
    std::vector<LayerSlice> m_layerSlices;
    bool m_cpuFloat = false;      // raw loops instead of tensor operations
    bool m_sampleNextStep = true; // the first step and the first one after a flush
    int m_flushesSinceSample = 0;
    std::vector<float> m_valuesBeforeCpu; // the weights before a sampled step (CPU)
    torch::Tensor m_valuesBefore;         // ... elsewhere
    std::vector<LayerHealthSample> m_pendingHealth;
    // Elsewhere than the CPU the norms stay on the device until the flush: per sample, the layers'
    // gradient norms followed by their update ratios.
    std::vector<torch::Tensor> m_pendingHealthTensors;
    std::vector<int64_t> m_pendingHealthSteps;
    std::vector<torch::Tensor> m_pendingGradNorms; // of the sampled step, until its update is known

    // Steps since the last flush; their losses stay on the device until then.
    std::vector<torch::Tensor> m_pendingLosses;
    std::vector<torch::Tensor> m_pendingNorms;
    std::vector<StepRecord> m_pendingSteps;
    Clock::time_point m_lastFlush;
    int64_t m_step = 0;
    double m_epochLossSum = 0.0;
    int64_t m_epochLossCount = 0;
    float m_lastStepLoss = std::numeric_limits<float>::quiet_NaN();

    double m_pausedSeconds = 0.0;
    double m_bestMetric = kNoValue;
    int m_epochsWithoutImprovement = 0;
    bool m_hasModel = false;
};

void Trainer::prepare(const std::string& deviceId) {
    m_device = torch::Device(deviceId);
    auto loaded = loadDatasetCached(m_spec.data, m_spec.seed);
    if (!loaded.ok())
        throw RunEnded{RunStatus::Failed, loaded.error()};
    m_data = *loaded.value(); // a copy: standardization below changes it
    const DataSplit split = splitDataset(m_data.rows, m_spec.data.validationFraction, m_spec.seed);
    if (split.train.empty())
        throw RunEnded{RunStatus::Failed, "data: no rows are left for training after the validation split"};
    if (m_spec.data.standardize)
        standardizeFeatures(m_data, split.train);
    if (const std::string problem = lossTaskError(m_spec.loss.type, m_data.task, m_data.classes);
        !problem.empty())
        throw RunEnded{RunStatus::Failed, problem};
    const ShapeReport shapes = inferShapes(m_spec.model, m_data.sampleShape,
                                           OutputTarget{m_data.task, m_data.classes, m_spec.loss.type});
    if (!shapes.ok())
        throw RunEnded{RunStatus::Failed, Errors{shapes.errors}.joined("; ")};

    m_tensors = makeTensors(m_data, split, m_spec.loss.type, m_device);
    // Initialise on the CPU from the run's own generator, so a seed gives the same network on every device.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(m_spec.seed);
    m_network = detail::Network(m_spec.model, m_data.sampleShape, generator);
    m_network->to(m_device);
    if (!m_device.is_cpu())
        m_network->setDropoutGenerator(c10::nullopt);
    m_network->train();
    m_flat = detail::flattenParameters(*m_network);
    {
        // Fairness evidence: equal seeds and data give equal hashes, whatever the optimizer.
        auto initial = m_flat.values.to(torch::kCPU).contiguous();
        m_summary.initialParametersHash =
            initial.numel() > 0 ? fnv1a64(initial.data_ptr(), initial.numel() * initial.element_size())
                                : kFnvOffsetBasis;
        m_summary.batchOrderHash = kFnvOffsetBasis;
    }
    m_trainRows = split.train;
    findLayerSlices();
    m_optimizer = detail::makeOptimizer(m_spec.optimizer, m_flat.values);

    const int64_t trainRows = m_tensors.trainX.size(0);
    m_batchSize = m_spec.training.fullBatch ? trainRows : std::min(m_spec.training.batchSize, trainRows);
    m_stepsPerEpoch = (trainRows + m_batchSize - 1) / m_batchSize;
    m_schedule = std::make_unique<LearningRateSchedule>(m_spec.schedule, m_spec.optimizer.lr,
                                                        m_spec.training.epochs, m_stepsPerEpoch);
    m_shuffleRandom.seed(m_spec.seed * 0x9E3779B97F4A7C15ULL + 17);
}

void Trainer::waitWhilePaused() {
    if (!m_control.paused.load(std::memory_order_relaxed))
        return;
    flushSteps();
    const auto start = Clock::now();
    while (m_control.paused.load() && !m_control.stopRequested.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    m_pausedSeconds += secondsSince(start);
}

void Trainer::step(const torch::Tensor& x, const torch::Tensor& y, int epoch) {
    const double lr = m_schedule->learningRate(m_step, epoch - 1);
    const bool fused = m_optimizer->fusedCpu();
    if (!fused)
        m_flat.grads.zero_(); // the fused CPU step leaves the gradient zeroed itself
    auto loss = detail::computeLoss(m_spec.loss, m_network->forward(x), y);
    loss.backward();
    const bool sample = m_sampleNextStep && !m_layerSlices.empty();
    if (sample) {
        m_sampleNextStep = false;
        sampleGradients();
    }
    const double clip = m_spec.training.gradClipNorm;
    StepRecord record{m_step + 1, epoch, 0.0f, static_cast<float>(lr), 0.0f};
    if (fused) {
        const double norm = detail::flatNormCpu(m_flat.grads);
        record.gradNorm = static_cast<float>(norm);
        m_optimizer->step(m_flat.values, m_flat.grads, lr,
                          clip > 0.0 ? std::min(1.0, clip / (norm + 1e-6)) : 1.0);
    } else {
        // No host synchronisation: the norm and the clipping factor stay on the device.
        auto norm = m_flat.grads.norm();
        if (clip > 0.0) {
            torch::NoGradGuard noGrad;
            m_flat.grads.mul_(torch::clamp_max(clip / (norm + 1e-6), 1.0));
        }
        m_optimizer->step(m_flat.values, m_flat.grads, lr);
        m_pendingNorms.push_back(norm);
    }
    ++m_step;
    if (sample)
        sampleUpdates();
    m_pendingLosses.push_back(loss.detach());
    m_pendingSteps.push_back(record);
    if (static_cast<int>(m_pendingSteps.size()) >= m_options.stepFlushSteps ||
        secondsSince(m_lastFlush) >= m_options.stepFlushSeconds)
        flushSteps();
}

// Reads the pending losses in one transfer (no host synchronisation per step) and reports them.
// A non-finite loss ends the run as diverged at the first step that had one.
void Trainer::flushSteps() {
    m_lastFlush = Clock::now();
    if (m_pendingSteps.empty())
        return;
    const bool deviceNorms = !m_pendingNorms.empty();
    auto values = (deviceNorms ? torch::cat({torch::stack(m_pendingLosses), torch::stack(m_pendingNorms)})
                               : torch::stack(m_pendingLosses))
                      .to(torch::kCPU, torch::kFloat)
                      .contiguous();
    const float* losses = values.data_ptr<float>();
    const float* norms = deviceNorms ? losses + m_pendingSteps.size() : nullptr;
    size_t kept = m_pendingSteps.size();
    for (size_t i = 0; i < m_pendingSteps.size(); ++i) {
        m_pendingSteps[i].trainLoss = losses[i];
        if (norms)
            m_pendingSteps[i].gradNorm = norms[i];
        if (!std::isfinite(losses[i])) {
            kept = i + 1;
            break;
        }
        m_epochLossSum += losses[i];
        ++m_epochLossCount;
        m_lastStepLoss = losses[i];
    }
    m_pendingSteps.resize(kept);
    if (++m_flushesSinceSample >= kHealthSampleEveryFlushes) {
        m_flushesSinceSample = 0;
        m_sampleNextStep = true;
    }
    RunEvent event;
    event.kind = RunEventKind::Steps;
    event.runId = m_id;
    event.steps = std::move(m_pendingSteps);
    const StepRecord last = event.steps.back();
    event.layerHealth = takeHealthSamples(last.step);
    m_sink.onRunEvent(event);
    m_pendingSteps.clear();
    m_pendingLosses.clear();
    m_pendingNorms.clear();
    if (!std::isfinite(last.trainLoss)) {
        m_summary.steps = last.step;
        throw RunEnded{RunStatus::Diverged, "the loss became " +
                                                std::string(std::isnan(last.trainLoss) ? "NaN" : "infinite") +
                                                " at step " + std::to_string(last.step) + " (epoch " +
                                                std::to_string(last.epoch) + "); try a lower learning rate"};
    }
}

void Trainer::findLayerSlices() {
    m_layerSlices.clear();
    m_cpuFloat = m_flat.values.device().is_cpu() && m_flat.values.scalar_type() == torch::kFloat;
    int64_t offset = 0;
    for (const auto& item : m_network->named_parameters()) {
        // Names are "<layer index>.<parameter>", as in PyTorch's nn.Sequential.
        const std::string& name = item.key();
        const int32_t layer = static_cast<int32_t>(std::stoi(name.substr(0, name.find('.'))));
        const int64_t count = item.value().numel();
        if (m_layerSlices.empty() || m_layerSlices.back().layer != layer)
            m_layerSlices.push_back(LayerSlice{layer, offset, 0, -1, 0});
        LayerSlice& slice = m_layerSlices.back();
        slice.length += count;
        if (name.compare(name.find('.') + 1, std::string::npos, "weight") == 0) {
            slice.weightOffset = offset;
            slice.weightLength = count;
        }
        offset += count;
    }
}

// Called before the optimizer step (and before clipping): the gradient norms, and a copy of the
// weights so that the update can be measured after the step.
void Trainer::sampleGradients() {
    torch::NoGradGuard noGrad;
    if (m_cpuFloat) {
        const float* grads = m_flat.grads.data_ptr<float>();
        const float* values = m_flat.values.data_ptr<float>();
        for (const LayerSlice& slice : m_layerSlices) {
            double sum = 0.0;
            for (int64_t i = slice.offset; i < slice.offset + slice.length; ++i)
                sum += static_cast<double>(grads[i]) * grads[i];
            m_pendingHealth.push_back(
                LayerHealthSample{m_step + 1, slice.layer, static_cast<float>(std::sqrt(sum)), 0.0f});
        }
        m_valuesBeforeCpu.resize(static_cast<size_t>(m_flat.values.numel()));
        std::memcpy(m_valuesBeforeCpu.data(), values, m_valuesBeforeCpu.size() * sizeof(float));
        return;
    }
    m_pendingGradNorms.clear();
    for (const LayerSlice& slice : m_layerSlices)
        m_pendingGradNorms.push_back(m_flat.grads.narrow(0, slice.offset, slice.length).norm());
    if (!m_valuesBefore.defined())
        m_valuesBefore = torch::empty_like(m_flat.values);
    m_valuesBefore.copy_(m_flat.values);
}

// Called after the optimizer step of a sampled step: ||update|| / ||weights before||.
void Trainer::sampleUpdates() {
    torch::NoGradGuard noGrad;
    if (m_cpuFloat) {
        const float* values = m_flat.values.data_ptr<float>();
        const float* before = m_valuesBeforeCpu.data();
        LayerHealthSample* samples = m_pendingHealth.data() + m_pendingHealth.size() - m_layerSlices.size();
        for (size_t layer = 0; layer < m_layerSlices.size(); ++layer) {
            const LayerSlice& slice = m_layerSlices[layer];
            double update = 0.0, weights = 0.0;
            for (int64_t i = slice.offset; i < slice.offset + slice.length; ++i) {
                const double change = static_cast<double>(values[i]) - before[i];
                update += change * change;
                weights += static_cast<double>(before[i]) * before[i];
            }
            samples[layer].updateRatio = static_cast<float>(std::sqrt(update) / (std::sqrt(weights) + 1e-12));
        }
        return;
    }
    std::vector<torch::Tensor> values = m_pendingGradNorms;
    for (const LayerSlice& slice : m_layerSlices) {
        auto before = m_valuesBefore.narrow(0, slice.offset, slice.length);
        auto after = m_flat.values.narrow(0, slice.offset, slice.length);
        values.push_back((after - before).norm() / (before.norm() + 1e-12));
    }
    m_pendingHealthTensors.push_back(torch::stack(values));
    m_pendingHealthSteps.push_back(m_step);
    m_pendingGradNorms.clear();
}

// The samples of steps up to `lastStep`, read from the device in one transfer where needed.
std::vector<LayerHealthSample> Trainer::takeHealthSamples(int64_t lastStep) {
    std::vector<LayerHealthSample> samples = std::move(m_pendingHealth);
    m_pendingHealth.clear();
    if (!m_pendingHealthTensors.empty()) {
        auto values = torch::stack(m_pendingHealthTensors).to(torch::kCPU, torch::kFloat).contiguous();
        const float* data = values.data_ptr<float>();
        const size_t layers = m_layerSlices.size();
        for (size_t i = 0; i < m_pendingHealthSteps.size(); ++i) {
            for (size_t layer = 0; layer < layers; ++layer)
                samples.push_back(LayerHealthSample{m_pendingHealthSteps[i], m_layerSlices[layer].layer,
                                                    data[i * 2 * layers + layer],
                                                    data[i * 2 * layers + layers + layer]});
        }
        m_pendingHealthTensors.clear();
        m_pendingHealthSteps.clear();
    }
    samples.erase(
        std::remove_if(samples.begin(), samples.end(),
                       [lastStep](const LayerHealthSample& sample) { return sample.step > lastStep; }),
        samples.end());
    return samples;
}

// One histogram per layer with weights, over the range of its weights.
std::vector<WeightHistogram> Trainer::weightHistograms(int epoch) const {
    torch::NoGradGuard noGrad;
    std::vector<WeightHistogram> histograms;
    for (const LayerSlice& slice : m_layerSlices) {
        if (slice.weightLength <= 0)
            continue;
        auto weights = m_flat.values.narrow(0, slice.weightOffset, slice.weightLength)
                           .to(torch::kCPU, torch::kFloat)
                           .contiguous();
        WeightHistogram histogram;
        histogram.epoch = epoch;
        histogram.layer = slice.layer;
        histogram.counts.assign(kHistogramBins, 0);
        const float* data = weights.data_ptr<float>();
        float low = std::numeric_limits<float>::infinity();
        float high = -low;
        for (int64_t i = 0; i < slice.weightLength; ++i) {
            if (std::isfinite(data[i])) {
                low = std::min(low, data[i]);
                high = std::max(high, data[i]);
            }
        }
        if (!(low <= high)) { // no finite weight: an empty histogram
            histograms.push_back(std::move(histogram));
            continue;
        }
        if (high == low)
            high = low + 1e-6f;
        histogram.low = low;
        histogram.high = high;
        const double scale = kHistogramBins / (static_cast<double>(high) - low);
        for (int64_t i = 0; i < slice.weightLength; ++i) {
            if (!std::isfinite(data[i]))
                continue;
            const int bin = std::min(kHistogramBins - 1, static_cast<int>((data[i] - low) * scale));
            ++histogram.counts[static_cast<size_t>(bin)];
        }
        histograms.push_back(std::move(histogram));
    }
    return histograms;
}

// The dataset rows in the order this epoch batches them (`order` indexes the training rows;
// null means unshuffled), folded into the run's batch order hash.
void Trainer::hashBatchOrder(const std::vector<int64_t>* order) {
    std::vector<int64_t> rows(m_trainRows.size());
    for (size_t i = 0; i < rows.size(); ++i)
        rows[i] = m_trainRows[order ? static_cast<size_t>((*order)[i]) : i];
    m_summary.batchOrderHash = fnv1a64(rows.data(), rows.size() * sizeof(int64_t), m_summary.batchOrderHash);
}

void Trainer::trainEpoch(int epoch) {
    const int64_t rows = m_tensors.trainX.size(0);
    torch::Tensor x = m_tensors.trainX;
    torch::Tensor y = m_tensors.trainY;
    if (m_spec.training.shuffle && m_stepsPerEpoch > 1) {
        // One gather per epoch into contiguous shuffled copies; each step then takes a slice.
        std::vector<int64_t> order(static_cast<size_t>(rows));
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), m_shuffleRandom);
        hashBatchOrder(&order);
        auto index = torch::from_blob(order.data(), {rows}, torch::kLong).to(m_device);
        x = x.index_select(0, index);
        y = y.index_select(0, index);
    } else {
        hashBatchOrder(nullptr);
    }
    for (int64_t batch = 0; batch < m_stepsPerEpoch; ++batch) {
        if (m_control.stopRequested.load(std::memory_order_relaxed))
            throw RunEnded{RunStatus::Stopped, "stopped by request after step " + std::to_string(m_step)};
        waitWhilePaused();
        const int64_t start = batch * m_batchSize;
        const int64_t length = std::min(m_batchSize, rows - start);
        step(x.narrow(0, start, length), y.narrow(0, start, length), epoch);
    }
    flushSteps();
}

EpochRecord Trainer::validate(int epoch, double seconds) {
    EpochRecord record;
    record.epoch = epoch;
    record.step = m_step;
    record.trainLoss =
        m_epochLossCount > 0 ? m_epochLossSum / static_cast<double>(m_epochLossCount) : kNoValue;
    record.learningRate = m_schedule->learningRate(std::max<int64_t>(m_step - 1, 0), epoch - 1);
    if (m_tensors.valX.defined()) {
        torch::NoGradGuard noGrad;
        m_network->eval();
        const int64_t rows = m_tensors.valX.size(0);
        constexpr int64_t kChunk = 8192;
        auto lossSum = torch::zeros({}, torch::TensorOptions().device(m_device));
        auto scoreSum = torch::zeros({}, torch::TensorOptions().device(m_device));
        for (int64_t start = 0; start < rows; start += kChunk) {
            const int64_t length = std::min(kChunk, rows - start);
            auto x = m_tensors.valX.narrow(0, start, length);
            auto y = m_tensors.valY.narrow(0, start, length);
            auto output = m_network->forward(x);
            lossSum += detail::computeLoss(m_spec.loss, output, y, torch::Reduction::Sum);
            if (m_spec.loss.type == LossType::CrossEntropy)
                scoreSum += output.argmax(1).eq(y).sum();
            else if (m_spec.loss.type == LossType::BceWithLogits)
                scoreSum += output.gt(0).eq(y.gt(0.5)).sum();
            else
                scoreSum += (output - y).abs().sum();
        }
        m_network->train();
        const double count = static_cast<double>(rows);
        record.valLoss = lossSum.item<double>() / count;
        if (m_data.task == TaskKind::Classification)
            record.valAccuracy = scoreSum.item<double>() / count;
        else
            record.valMae = scoreSum.item<double>() / count;
    }
    record.seconds = seconds;
    return record;
}

void Trainer::afterEpoch(const EpochRecord& record) {
    m_summary.epochs = record.epoch;
    m_summary.trainLoss = record.trainLoss;
    m_summary.valLoss = record.valLoss;
    m_summary.valAccuracy = record.valAccuracy;
    m_summary.valMae = record.valMae;
    m_schedule->epochEnded(std::isfinite(record.valLoss) ? record.valLoss : record.trainLoss);

    const auto& early = m_spec.training.earlyStopping;
    const MetricKind monitored =
        early.enabled ? early.metric
                      : (m_tensors.valX.defined() ? MetricKind::ValLoss : MetricKind::TrainLoss);
    const double value = metricValue(monitored, record);
    const double delta = early.enabled ? early.minDelta : 0.0;
    const bool improved =
        std::isfinite(value) &&
        (!std::isfinite(m_bestMetric) ||
         (lowerIsBetter(monitored) ? value < m_bestMetric - delta : value > m_bestMetric + delta));
    if (improved) {
        m_bestMetric = value;
        m_summary.bestEpoch = record.epoch;
        m_epochsWithoutImprovement = 0;
    } else {
        ++m_epochsWithoutImprovement;
    }
    if (early.enabled && m_epochsWithoutImprovement >= early.patience &&
        record.epoch < m_spec.training.epochs)
        throw RunEnded{RunStatus::Completed, "early stopping after epoch " + std::to_string(record.epoch) +
                                                 ": " + toString(monitored) + " did not improve for " +
                                                 std::to_string(early.patience) + " epochs (best epoch " +
                                                 std::to_string(m_summary.bestEpoch) + ")"};
}

void Trainer::finish(RunStatus status, const std::string& message) {
    m_summary.status = status;
    m_summary.message = message;
    RunEvent event;
    event.kind = RunEventKind::Finished;
    event.runId = m_id;
    if (m_network && status != RunStatus::Failed && status != RunStatus::Diverged) {
        try {
            event.model = std::make_shared<const std::vector<char>>(detail::saveStateDict(*m_network));
        } catch (const std::exception& error) {
            m_summary.message += (m_summary.message.empty() ? "" : "; ") +
                                 std::string("the model could not be saved: ") + error.what();
        }
    }
    event.summary = m_summary;
    m_sink.onRunEvent(event);
}

RunSummary Trainer::run() {
    m_summary.status = RunStatus::Running;
    Clock::time_point trainStart;
    bool training = false;
    auto stopClock = [&] {
        if (!training)
            return;
        training = false;
        m_summary.trainSeconds = std::max(0.0, secondsSince(trainStart) - m_pausedSeconds);
        m_summary.stepsPerSecond =
            m_summary.trainSeconds > 0.0 ? m_summary.steps / m_summary.trainSeconds : 0.0;
    };
    try {
        auto device = resolveDevice(m_options.device.empty() ? m_spec.device : m_options.device);
        if (!device.ok())
            throw RunEnded{RunStatus::Failed, device.error()};
        setComputeThreads(m_options.threads);
        lowerThreadPriority(m_options.niceness);
        m_summary.device = device.value();
        RunEvent started;
        started.kind = RunEventKind::Started;
        started.runId = m_id;
        started.device = device.value();
        m_sink.onRunEvent(started);
        prepare(device.value());

        trainStart = Clock::now();
        m_lastFlush = trainStart;
        training = true;
        for (int epoch = 1; epoch <= m_spec.training.epochs; ++epoch) {
            const auto epochStart = Clock::now();
            const double pausedBefore = m_pausedSeconds;
            m_epochLossSum = 0.0;
            m_epochLossCount = 0;
            trainEpoch(epoch);
            m_summary.steps = m_step;
            EpochRecord record = validate(epoch, 0.0);
            record.seconds = secondsSince(epochStart) - (m_pausedSeconds - pausedBefore);
            RunEvent event;
            event.kind = RunEventKind::Epoch;
            event.runId = m_id;
            event.epoch = record;
            event.histograms = weightHistograms(epoch);
            m_sink.onRunEvent(event);
            afterEpoch(record);
        }
        stopClock();
        finish(RunStatus::Completed, {});
    } catch (const RunEnded& ended) {
        if (ended.status != RunStatus::Diverged)
            m_summary.steps = m_step;
        stopClock();
        if (ended.status == RunStatus::Stopped && !m_pendingSteps.empty()) {
            try {
                flushSteps();
            } catch (const RunEnded&) {
            }
        }
        if (!std::isfinite(m_summary.trainLoss) && ended.status != RunStatus::Failed)
            m_summary.trainLoss = m_lastStepLoss;
        finish(ended.status, ended.message);
    } catch (const c10::Error& error) {
        stopClock();
        finish(RunStatus::Failed,
               "training failed at step " + std::to_string(m_step) + ": " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        stopClock();
        finish(RunStatus::Failed, "training failed at step " + std::to_string(m_step) + ": " + error.what());
    }
    return m_summary;
}

} // namespace

RunSummary trainExperiment(RunId id, const ExperimentSpec& spec, const RunOptions& options,
                           RunControl& control, RunEventSink& sink) {
    Trainer trainer(id, spec, options, control, sink);
    return trainer.run();
}

} // namespace tunelab
