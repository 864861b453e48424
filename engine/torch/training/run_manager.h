#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "spec/spec.h"
#include "training/trainer.h"

#include <memory>
#include <string>
#include <vector>

namespace tunelab {

class RunStore;

// Starts runs, each on its own thread, and hands their events to one queue that the caller
// drains at its own pace. Stop and pause are atomic flags the worker reads every step.
// With a store, every run and its metrics are recorded there too.
class RunManager {
public:
    explicit RunManager(RunStore* store = nullptr);
    ~RunManager(); // stops every run and waits for it

    RunManager(const RunManager&) = delete;
    RunManager& operator=(const RunManager&) = delete;

    // Validates the spec's device, records the run and starts its thread. Data loading and the
    // model's shape check happen on the worker; their errors arrive as a failed Finished event.
    // A run that continues another one (options.resumeFrom) is recorded with that run as its origin
    // (RunRecord::parentRun, parentEpoch).
    Result<RunId> start(const ExperimentSpec& spec, const RunOptions& options = {}, RunId parentRun = 0);

    void requestStop(RunId id); // takes effect within one step
    void setPaused(RunId id, bool paused);
    // The run's next epoch event carries a checkpoint (and the store keeps it): what forking a
    // running run continues from. False when the run is not running here.
    bool requestCheckpoint(RunId id);
    void requestStopAll();
    bool isRunning(RunId id) const;
    int activeRuns() const;
    // True when every run has put its last event (Finished) in the queue: a consumer that asks
    // this before draining the queue has drained everything once it sees true.
    bool allEventsQueued() const;
    void waitForAll();

    RunEventQueue& events();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The saved model of `run`, for a spec that fine-tunes it (init.run); fails naming why not.
Result<std::shared_ptr<const std::vector<char>>> initialWeightsOf(const RunStore* store, RunId run);

// The teacher of a spec that distills (distill.teacher_run): its resolved spec and saved model.
Result<std::shared_ptr<const TeacherModel>> teacherOf(const RunStore* store, RunId run);

// Reads from the store what `spec` starts from and `options` does not hold yet: the weights it
// fine-tunes (unless it continues a checkpoint) and its teacher. "" when done, else why not.
std::string readStoredInputs(const RunStore* store, const ExperimentSpec& spec, RunOptions& options);

} // namespace tunelab
