#pragma once

// Helpers shared by the training suites: a sink that keeps every run event, a layer builder and a
// small experiment.

#include "events/run_events.h"
#include "spec/spec.h"
#include "training/trainer.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace tunelab::test {

// Keeps every event it is sent; safe to read while a run on another thread is still sending.
class CollectingSink : public RunEventSink {
public:
    void onRunEvent(const RunEvent& event) override {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_events.push_back(event);
    }
    std::vector<RunEvent> events() const {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_events;
    }
    std::vector<StepRecord> steps() const {
        std::vector<StepRecord> all;
        for (const auto& event : events())
            all.insert(all.end(), event.steps.begin(), event.steps.end());
        return all;
    }
    std::vector<EpochRecord> epochs() const {
        std::vector<EpochRecord> all;
        for (const auto& event : events())
            if (event.kind == RunEventKind::Epoch)
                all.push_back(event.epoch);
        return all;
    }
    std::vector<LayerHealthSample> samples() const {
        std::vector<LayerHealthSample> all;
        for (const auto& event : events())
            all.insert(all.end(), event.layerHealth.begin(), event.layerHealth.end());
        return all;
    }
    std::vector<WeightHistogram> histograms() const {
        std::vector<WeightHistogram> all;
        for (const auto& event : events())
            all.insert(all.end(), event.histograms.begin(), event.histograms.end());
        return all;
    }
    int stepsEvents() const {
        int count = 0;
        for (const auto& event : events())
            count += event.kind == RunEventKind::Steps ? 1 : 0;
        return count;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<RunEvent> m_events;
};

inline LayerSpec layer(LayerType type, int64_t outFeatures = 0) {
    LayerSpec spec;
    spec.type = type;
    spec.outFeatures = outFeatures;
    return spec;
}

// Three Gaussian blobs in four dimensions and a small tanh network: trains in well under a second.
inline ExperimentSpec blobsExperiment(uint64_t seed) {
    ExperimentSpec spec;
    spec.name = "blobs";
    spec.seed = seed;
    spec.device = "cpu";
    spec.data.kind = DataKind::Blobs;
    spec.data.samples = 300;
    spec.data.classes = 3;
    spec.data.features = 4;
    spec.data.noise = 0.2;
    spec.model.layers = {layer(LayerType::Linear, 16), layer(LayerType::Tanh), layer(LayerType::Linear, 3)};
    spec.optimizer.lr = 0.01;
    spec.training.epochs = 8;
    spec.training.batchSize = 32;
    return spec;
}

// A one-hidden-layer ReLU regression trained by SGD at `lr`: a learning rate far too large makes
// it diverge.
inline ExperimentSpec sgdRegressionExperiment(double lr, int epochs) {
    ExperimentSpec spec;
    spec.device = "cpu";
    spec.data.kind = DataKind::Regression;
    spec.data.task = TaskKind::Regression;
    spec.data.samples = 200;
    spec.model.layers = {layer(LayerType::Linear, 16), layer(LayerType::ReLU), layer(LayerType::Linear, 1)};
    spec.loss.type = LossType::Mse;
    spec.optimizer.type = OptimizerType::Sgd;
    spec.optimizer.lr = lr;
    spec.training.epochs = epochs;
    spec.training.batchSize = 16;
    return spec;
}

// The saved model of `spec` trained on this thread; empty when the run saved none.
inline std::vector<char> trainedModel(const ExperimentSpec& spec) {
    RunOptions options;
    options.threads = 1;
    RunControl control;
    CollectingSink sink;
    trainExperiment(1, spec, options, control, sink);
    for (const RunEvent& event : sink.events())
        if (event.kind == RunEventKind::Finished && event.model)
            return *event.model;
    return {};
}

} // namespace tunelab::test
