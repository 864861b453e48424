#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <vector>

namespace tunelab {

// The one way background work reports in TuneLab: a worker thread owned by the engine (a run, a
// study, a race, a range test) pushes small value events; one consumer takes them at its own pace,
// the window from its GUI timer, the CLI from its main thread. The worker never calls into the
// consumer's thread, and nothing here blocks the consumer except waitForEvents.
template <typename Event> class EventQueue {
public:
    // Any thread.
    void push(Event event) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_events.push_back(std::move(event));
        }
        m_ready.notify_all();
    }

    // Takes everything queued so far, oldest first; never blocks.
    std::vector<Event> drain() {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<Event> events(std::make_move_iterator(m_events.begin()),
                                  std::make_move_iterator(m_events.end()));
        m_events.clear();
        return events;
    }

    // Waits until at least one event is queued or the timeout passes; true when events are queued.
    bool waitForEvents(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(m_mutex);
        return m_ready.wait_for(lock, timeout, [this] { return !m_events.empty(); });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<Event> m_events;
};

} // namespace tunelab
