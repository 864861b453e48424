#include "compress/compression_task.h"

#include "store/run_store.h"

#include <exception>
#include <utility>

namespace tunelab {

CompressionTask::CompressionTask(CompressionPlan plan, RunStore& store, CompressionOptions options)
    : m_plan(std::move(plan))
    , m_thread([this, &store, options = std::move(options)]() mutable { run(store, std::move(options)); }) {}

CompressionTask::~CompressionTask() {
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
}

// The worker thread. The runner calls its callbacks here, on this thread.
void CompressionTask::run(RunStore& store, CompressionOptions options) {
    store.flush(); // a source run that just ended has its model in the file before the plan reads it
    options.stop = &m_stop;
    options.onProgress = [this](const std::string& line) {
        CompressionTaskEvent event;
        event.line = line;
        m_events.push(std::move(event));
    };
    options.onRunEvent = [this](const RunEvent& run) {
        CompressionTaskEvent event;
        event.kind = CompressionTaskEvent::Kind::Run;
        event.run = run;
        m_events.push(std::move(event));
    };
    CompressionTaskEvent finished;
    finished.kind = CompressionTaskEvent::Kind::Finished;
    try {
        finished.result.emplace(runCompressionPlan(m_plan, store, options));
    } catch (const std::exception& error) { // exceptions never cross the thread's edge
        finished.result.emplace(Result<CompressionResult>::failure(error.what()));
    }
    m_events.push(std::move(finished));
}

} // namespace tunelab
