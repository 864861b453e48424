#include "race/lr_range_test.h"

#include "data/dataset.h"
#include "data/dataset_cache.h"
#include "model/shape_inference.h"
#include "model/validation.h"
#include "training/devices.h"
#include "training/losses.h"
#include "training/network.h"
#include "training/optimizers.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

namespace tunelab {

namespace {

constexpr double kSmoothing = 0.98;
constexpr double kBlowUpFactor = 4.0;

struct TrainingRows {
    torch::Tensor x, y;
};

Result<TrainingRows> trainingRows(const ExperimentSpec& spec, Dataset& data, const torch::Device& device) {
    const DataSplit split = splitDataset(data.rows, spec.data.validationFraction, spec.seed);
    if (split.train.empty())
        return Result<TrainingRows>::failure(
            "data: no rows are left for training after the validation split");
    if (spec.data.standardize)
        standardizeFeatures(data, split.train);
    std::vector<int64_t> featureShape{data.rows};
    featureShape.insert(featureShape.end(), data.sampleShape.begin(), data.sampleShape.end());
    auto features = torch::from_blob(data.features.data(), featureShape, torch::kFloat);
    auto targets = torch::from_blob(data.targets.data(), {data.rows}, torch::kFloat);
    targets = spec.loss.type == LossType::CrossEntropy ? targets.to(torch::kLong) : targets.unsqueeze(1);
    auto index = torch::tensor(split.train, torch::kLong);
    return TrainingRows{features.index_select(0, index).to(device),
                        targets.index_select(0, index).to(device)};
}

} // namespace

Result<LrRangeResult> runLrRangeTest(const ExperimentSpec& spec, const LrRangeSettings& settings,
                                     const std::atomic<bool>* stopRequested) {
    if (!(settings.minLr > 0.0) || !(settings.maxLr > settings.minLr) || settings.steps < 2)
        return Result<LrRangeResult>::failure("range_test: needs 0 < min_lr < max_lr and at least 2 steps");
    try {
        auto deviceId = resolveDevice(spec.device);
        if (!deviceId.ok())
            return Result<LrRangeResult>(Errors{deviceId.errors()});
        const torch::Device device(deviceId.value());
        auto loaded = loadDatasetCached(spec.data, spec.seed);
        if (!loaded.ok())
            return Result<LrRangeResult>(Errors{loaded.errors()});
        Dataset data = *loaded.value();
        if (const std::string problem = lossTaskError(spec.loss.type, data.task, data.classes);
            !problem.empty())
            return Result<LrRangeResult>::failure(problem);
        const ShapeReport shapes =
            inferShapes(spec.model, data.sampleShape, OutputTarget{data.task, data.classes, spec.loss.type});
        if (!shapes.ok())
            return Result<LrRangeResult>(Errors{shapes.errors});
        auto rows = trainingRows(spec, data, device);
        if (!rows.ok())
            return Result<LrRangeResult>(Errors{rows.errors()});
        const torch::Tensor& trainX = rows.value().x;
        const torch::Tensor& trainY = rows.value().y;

        // Fresh weights from the experiment's seed: the same network the race's runs start from.
        auto generator = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
        detail::Network network(spec.model, data.sampleShape, generator);
        network->to(device);
        if (!device.is_cpu())
            network->setDropoutGenerator(c10::nullopt);
        network->train();
        detail::FlatParameters flat = detail::flattenParameters(*network);
        auto optimizer = detail::makeOptimizer(spec.optimizer, flat.values);

        const int64_t trainCount = trainX.size(0);
        const int64_t batchSize =
            spec.training.fullBatch ? trainCount : std::min<int64_t>(spec.training.batchSize, trainCount);
        const int64_t batchesPerEpoch = (trainCount + batchSize - 1) / batchSize;
        std::mt19937_64 shuffleRandom(spec.seed * 0x9E3779B97F4A7C15ULL + 17);
        std::vector<int64_t> order(static_cast<size_t>(trainCount));
        torch::Tensor epochX = trainX, epochY = trainY;
        int64_t batch = batchesPerEpoch; // start a new epoch on the first step

        LrRangeResult result;
        const double growth = std::log(settings.maxLr / settings.minLr) / (settings.steps - 1);
        double average = 0.0;
        double lowest = std::numeric_limits<double>::infinity();
        for (int step = 0; step < settings.steps; ++step) {
            if (stopRequested && stopRequested->load(std::memory_order_relaxed)) {
                result.message = "stopped by request after " + std::to_string(step) + " steps";
                break;
            }
            if (batch == batchesPerEpoch) {
                batch = 0;
                if (spec.training.shuffle && batchesPerEpoch > 1) {
                    std::iota(order.begin(), order.end(), 0);
                    std::shuffle(order.begin(), order.end(), shuffleRandom);
                    auto index = torch::tensor(order, torch::kLong).to(device);
                    epochX = trainX.index_select(0, index);
                    epochY = trainY.index_select(0, index);
                }
            }
            const int64_t start = batch * batchSize;
            const int64_t length = std::min(batchSize, trainCount - start);
            ++batch;

            const double lr = settings.minLr * std::exp(growth * step);
            if (!optimizer->fusedCpu())
                flat.grads.zero_();
            auto loss = detail::computeLoss(spec.loss, network->forward(epochX.narrow(0, start, length)),
                                            epochY.narrow(0, start, length));
            loss.backward();
            const double value = loss.item<double>();
            if (!std::isfinite(value)) {
                result.blewUp = true;
                result.message = "the loss became non-finite at learning rate " + std::to_string(lr);
                break;
            }
            optimizer->step(flat.values, flat.grads, lr);

            average = kSmoothing * average + (1.0 - kSmoothing) * value;
            const double smoothed = average / (1.0 - std::pow(kSmoothing, step + 1));
            result.points.push_back(LrRangePoint{lr, value, smoothed});
            lowest = std::min(lowest, smoothed);
            if (step > 0 && smoothed > kBlowUpFactor * lowest) {
                result.blewUp = true;
                result.message =
                    "the smoothed loss passed four times its minimum at learning rate " + std::to_string(lr);
                break;
            }
        }
        result.suggestedLearningRate = suggestLearningRate(result.points);
        if (std::isnan(result.suggestedLearningRate) && result.message.empty())
            result.message = "the loss never fell; no learning rate to suggest";
        return result;
    } catch (const c10::Error& error) {
        return Result<LrRangeResult>::failure(std::string("range test: ") + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Result<LrRangeResult>::failure(std::string("range test: ") + error.what());
    }
}

struct LrRangeTest::Impl {
    std::thread thread;
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> running{false};
    std::atomic<bool> finished{false};
    EventQueue<LrRangeEvent> events;

    void join() {
        if (thread.joinable())
            thread.join();
    }
};

LrRangeTest::LrRangeTest()
    : m_impl(std::make_unique<Impl>()) {}

LrRangeTest::~LrRangeTest() {
    requestStop();
    m_impl->join();
}

bool LrRangeTest::start(const ExperimentSpec& spec, const LrRangeSettings& settings,
                        const LrRangeTestOptions& options) {
    if (m_impl->running.load())
        return false;
    m_impl->join();
    m_impl->stopRequested.store(false);
    m_impl->finished.store(false);
    m_impl->running.store(true);
    Impl* impl = m_impl.get();
    m_impl->thread = std::thread([impl, spec, settings, options] {
        // The thread count and priority are the worker's own, set as a run's are.
        if (options.threads > 0)
            setComputeThreads(options.threads);
        lowerThreadPriority(options.niceness);
        auto tested = runLrRangeTest(spec, settings, &impl->stopRequested);
        LrRangeEvent event;
        event.ok = tested.ok();
        if (event.ok)
            event.result = tested.take();
        else
            event.error = tested.error();
        impl->events.push(std::move(event));
        impl->finished.store(true);
        impl->running.store(false);
    });
    return true;
}

void LrRangeTest::requestStop() {
    m_impl->stopRequested.store(true);
}

bool LrRangeTest::running() const {
    return m_impl->running.load();
}

bool LrRangeTest::finished() const {
    return m_impl->finished.load();
}

void LrRangeTest::wait() {
    m_impl->join();
}

EventQueue<LrRangeEvent>& LrRangeTest::events() {
    return m_impl->events;
}

} // namespace tunelab
