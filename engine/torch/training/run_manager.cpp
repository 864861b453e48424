#include "training/run_manager.h"

#include "common/machine_limits.h"
#include "store/run_store.h"
#include "training/devices.h"
#include "training/trainer.h"

#include <map>
#include <mutex>
#include <thread>

namespace tunelab {

namespace {

// Hands each event to the store (which only queues it) and to the consumer's queue.
class FanOutSink : public RunEventSink {
public:
    FanOutSink(RunStore* store, RunEventQueue& queue)
        : m_store(store)
        , m_queue(queue) {}

    void onRunEvent(const RunEvent& event) override {
        if (m_store)
            m_store->onRunEvent(event);
        m_queue.push(event);
    }

private:
    RunStore* m_store;
    RunEventQueue& m_queue;
};

struct ActiveRun {
    RunControl control;
    std::thread thread;
    std::atomic<bool> finished{false};  // no longer running: its Finished event is on its way
    std::atomic<bool> delivered{false}; // its Finished event is in the queue
};

// Marks its run as ended before passing the Finished event on, so that a consumer that has
// seen the event never finds the run still "running"; and as delivered after, so that a consumer
// that finds every run delivered knows no event is still on its way (the store may take a while
// to take the event).
class RunSink : public RunEventSink {
public:
    RunSink(ActiveRun& run, RunEventSink& next)
        : m_run(run)
        , m_next(next) {}

    void onRunEvent(const RunEvent& event) override {
        const bool last = event.kind == RunEventKind::Finished;
        if (last)
            m_run.finished.store(true);
        m_next.onRunEvent(event);
        if (last)
            m_run.delivered.store(true);
    }

private:
    ActiveRun& m_run;
    RunEventSink& m_next;
};

} // namespace

struct RunManager::Impl {
    explicit Impl(RunStore* runStore)
        : store(runStore) {}

    RunStore* store;
    RunEventQueue queue;
    FanOutSink sink{store, queue};
    mutable std::mutex mutex;
    std::map<RunId, std::unique_ptr<ActiveRun>> runs;
    RunId nextLocalId = 1;

    ActiveRun* find(RunId id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = runs.find(id);
        return it == runs.end() ? nullptr : it->second.get();
    }

    // Joins threads of runs that have ended; called with the mutex held.
    void reapFinished() {
        for (auto it = runs.begin(); it != runs.end();) {
            if (it->second->delivered.load()) {
                it->second->thread.join();
                it = runs.erase(it);
            } else {
                ++it;
            }
        }
    }
};

RunManager::RunManager(RunStore* store)
    : m_impl(std::make_unique<Impl>(store)) {}

RunManager::~RunManager() {
    requestStopAll();
    waitForAll();
}

Result<std::shared_ptr<const std::vector<char>>> initialWeightsOf(const RunStore* store, RunId run) {
    using Weights = Result<std::shared_ptr<const std::vector<char>>>;
    if (!store)
        return Weights::failure("init.run: run " + std::to_string(run) +
                                " is in a run store, and this run has none");
    std::vector<char> model = store->model(run);
    if (model.empty())
        return Weights::failure("init.run: " +
                                std::string(store->run(run)
                                                ? "run " + std::to_string(run) + " has no saved model"
                                                : "there is no run " + std::to_string(run)) +
                                " in " + store->path());
    return Weights(std::make_shared<const std::vector<char>>(std::move(model)));
}

Result<std::shared_ptr<const TeacherModel>> teacherOf(const RunStore* store, RunId run) {
    using Teacher = Result<std::shared_ptr<const TeacherModel>>;
    const std::string where = "distill.teacher_run: ";
    if (!store)
        return Teacher::failure(where + "run " + std::to_string(run) +
                                " is in a run store, and this run has none");
    const auto record = store->run(run);
    if (!record)
        return Teacher::failure(where + "there is no run " + std::to_string(run) + " in " + store->path());
    auto teacher = std::make_shared<TeacherModel>();
    teacher->run = run;
    teacher->model = store->model(run);
    if (teacher->model.empty())
        return Teacher::failure(where + "run " + std::to_string(run) + " has no saved model to teach with");
    auto spec = parseExperimentSpec(record->specJson);
    if (!spec.ok())
        return Teacher::failure(where + "the spec of run " + std::to_string(run) +
                                " no longer reads: " + Errors{spec.errors()}.joined("; "));
    teacher->spec = spec.take();
    return Teacher(std::shared_ptr<const TeacherModel>(std::move(teacher)));
}

std::string readStoredInputs(const RunStore* store, const ExperimentSpec& spec, RunOptions& options) {
    if (spec.init.run > 0 && !options.initialWeights && !options.resumeFrom) {
        auto weights = initialWeightsOf(store, spec.init.run);
        if (!weights.ok())
            return weights.error();
        options.initialWeights = weights.take();
    }
    if (spec.distill.enabled() && !options.teacher) {
        auto teacher = teacherOf(store, spec.distill.teacherRun);
        if (!teacher.ok())
            return teacher.error();
        options.teacher = teacher.take();
    }
    return {};
}

Result<RunId> RunManager::start(const ExperimentSpec& spec, const RunOptions& options, RunId parentRun) {
    if (const std::string problem = threadsProblem(options.threads); !problem.empty())
        return Result<RunId>::failure(problem);
    const std::string requested = options.device.empty() ? spec.device : options.device;
    auto device = resolveDevice(requested);
    if (!device.ok())
        return Result<RunId>::failure(device.error());
    ExperimentSpec resolved = spec;
    if (!options.device.empty())
        resolved.device = options.device;

    RunOptions runOptions = options;
    if (std::string problem = readStoredInputs(m_impl->store, spec, runOptions); !problem.empty())
        return Result<RunId>::failure(problem);

    RunId id = 0;
    if (m_impl->store) {
        const RunOrigin origin =
            options.resumeFrom ? RunOrigin{parentRun, options.resumeFrom->epoch} : RunOrigin{};
        auto created = m_impl->store->createRun(resolved.name, experimentSpecToJson(resolved), origin);
        if (!created.ok())
            return Result<RunId>::failure(created.error());
        id = created.value();
    } else {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        id = m_impl->nextLocalId++;
    }

    auto run = std::make_unique<ActiveRun>();
    ActiveRun* raw = run.get();
    {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        m_impl->reapFinished();
        m_impl->runs.emplace(id, std::move(run));
    }
    raw->thread = std::thread([this, raw, id, resolved, runOptions] {
        RunSink sink(*raw, m_impl->sink);
        trainExperiment(id, resolved, runOptions, raw->control, sink);
        raw->finished.store(true);
        raw->delivered.store(true);
    });
    return id;
}

void RunManager::requestStop(RunId id) {
    if (ActiveRun* run = m_impl->find(id))
        run->control.stopRequested.store(true);
}

void RunManager::setPaused(RunId id, bool paused) {
    if (ActiveRun* run = m_impl->find(id))
        run->control.paused.store(paused);
}

bool RunManager::requestCheckpoint(RunId id) {
    ActiveRun* run = m_impl->find(id);
    if (!run || run->finished.load())
        return false;
    run->control.checkpointRequested.store(true);
    return true;
}

void RunManager::requestStopAll() {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    for (auto& entry : m_impl->runs)
        entry.second->control.stopRequested.store(true);
}

bool RunManager::isRunning(RunId id) const {
    const ActiveRun* run = m_impl->find(id);
    return run && !run->finished.load();
}

int RunManager::activeRuns() const {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    int count = 0;
    for (const auto& entry : m_impl->runs)
        count += entry.second->finished.load() ? 0 : 1;
    return count;
}

bool RunManager::allEventsQueued() const {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    for (const auto& entry : m_impl->runs)
        if (!entry.second->delivered.load())
            return false;
    return true;
}

void RunManager::waitForAll() {
    std::map<RunId, std::unique_ptr<ActiveRun>> runs;
    {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        runs.swap(m_impl->runs);
    }
    for (auto& entry : runs) {
        if (entry.second->thread.joinable())
            entry.second->thread.join();
    }
}

RunEventQueue& RunManager::events() {
    return m_impl->queue;
}

} // namespace tunelab
