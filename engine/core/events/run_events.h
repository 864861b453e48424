#pragma once

#include "events/event_queue.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace tunelab {

using RunId = int64_t;

// Pruned: a study stopped the run early because it was not promising (its epochs stay).
enum class RunStatus { Queued, Running, Completed, Stopped, Pruned, Diverged, Failed, Interrupted };

const char* toString(RunStatus status);
// A fairness hash as 16 lower-case hex digits, as stored and printed; hashFromText reads it back
// (0 for anything else).
std::string hashText(uint64_t hash);
uint64_t hashFromText(const std::string& text);
bool parseRunStatus(const std::string& text, RunStatus& status);
bool isFinal(RunStatus status);

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct StepRecord {
    int64_t step = 0;  // 1-based optimizer step
    int32_t epoch = 0; // 1-based epoch the step belongs to
    float trainLoss = 0.0f;
    float learningRate = 0.0f;
    float gradNorm = 0.0f; // L2 norm of all gradients before clipping
};

struct EpochRecord {
    int32_t epoch = 0;
    int64_t step = 0;            // last step of the epoch
    double trainLoss = kNoValue; // mean over the epoch's steps
    double valLoss = kNoValue;
    double valAccuracy = kNoValue; // classification
    double valMae = kNoValue;      // regression
    double learningRate = kNoValue;
    double seconds = 0.0; // wall time of the epoch, validation included
};

// Per-layer gradient health (docs/gradient-health.md), sampled at the metric flushes; "layer" is
// the index in model.layers of a layer that has parameters.
struct LayerHealthSample {
    int64_t step = 0;
    int32_t layer = 0;
    float gradNorm = 0.0f;    // L2 norm of the layer's gradient (weights and bias), before clipping
    float updateRatio = 0.0f; // ||update|| / ||weights before the step|| of the layer
};

// The distribution of one layer's weights (not its bias) at the end of an epoch.
struct WeightHistogram {
    int32_t epoch = 0;
    int32_t layer = 0;
    float low = 0.0f, high = 0.0f; // lower edge of the first bin, upper edge of the last one
    std::vector<int32_t> counts;   // equal-width bins
};

struct RunSummary {
    RunStatus status = RunStatus::Queued;
    int32_t epochs = 0; // completed epochs
    int64_t steps = 0;
    double trainSeconds = 0.0; // the training loop only (epochs and their validation)
    double stepsPerSecond = 0.0;
    double trainLoss = kNoValue;
    double valLoss = kNoValue;
    double valAccuracy = kNoValue;
    double valMae = kNoValue;
    int32_t bestEpoch = 0;
    int64_t parameters = 0; // trainable parameters of the network
    std::string device;
    std::string message; // why it failed, diverged or stopped
    // Fairness evidence (optimizer races): a hash of the initial parameters and of the order in
    // which training rows were batched, so runs can be shown to have started alike.
    uint64_t initialParametersHash = 0;
    uint64_t batchOrderHash = 0;
};

// Where training stands after an epoch: enough to continue it elsewhere with the same or edited
// settings (a fork, or population-based training copying a better member). `state` is opaque here:
// the trainer writes and reads it (the flat parameters, the optimizer's buffers and step count,
// the shuffling generator) in LibTorch's archive format.
struct TrainingCheckpoint {
    int32_t epoch = 0; // the last epoch trained
    int64_t step = 0;  // the last optimizer step
    int64_t parameters = 0;
    std::string optimizer; // the optimizer whose state it holds ("adam", ...)
    std::vector<char> state;
};

enum class RunEventKind { Started, Steps, Epoch, Finished };

// A small value type a worker pushes; consumers copy what they need. Finished carries the
// summary (its status says completed, stopped, diverged or failed) and the saved model.
struct RunEvent {
    RunEventKind kind = RunEventKind::Started;
    RunId runId = 0;
    std::string device;                             // Started
    std::vector<StepRecord> steps;                  // Steps
    std::vector<LayerHealthSample> layerHealth;     // Steps: samples of steps in `steps`, if any
    std::vector<WeightHistogram> histograms;        // Epoch: one per layer with weights
    EpochRecord epoch;                              // Epoch
    RunSummary summary;                             // Finished
    std::shared_ptr<const std::vector<char>> model; // Finished: state dict in torch.save format
    // Epoch, when one was asked for (RunControl::checkpointRequested); Finished, for a run that
    // ended with its weights intact (completed, stopped or pruned).
    std::shared_ptr<const TrainingCheckpoint> checkpoint;
};

// Receives events; called from a worker thread, so implementations must be thread-safe and quick.
class RunEventSink {
public:
    virtual ~RunEventSink() = default;
    virtual void onRunEvent(const RunEvent& event) = 0;
};

// The run manager's queue: workers push into it, one consumer drains it at its own pace.
class RunEventQueue : public EventQueue<RunEvent>, public RunEventSink {
public:
    void onRunEvent(const RunEvent& event) override { push(event); }
};

} // namespace tunelab
