#include "store/lost_writes.h"

#include <algorithm>

namespace tunelab {

std::string describeLostWrites(const std::string& storePath, const std::vector<LostWrite>& lost) {
    if (lost.empty())
        return std::string();
    std::string text = "could not save everything to the run store " + storePath + ": " + lost.front().error;
    // One line per run, in the order the losses happened; writes of no run each on their own.
    std::vector<RunId> runs;
    for (const LostWrite& write : lost) {
        if (write.runId == 0) {
            text += "\n  " + write.what;
            if (write.error != lost.front().error)
                text += " (" + write.error + ")";
            continue;
        }
        if (std::find(runs.begin(), runs.end(), write.runId) != runs.end())
            continue;
        runs.push_back(write.runId);
        text += "\n  run " + std::to_string(write.runId) + ": ";
        bool first = true;
        for (const LostWrite& same : lost) {
            if (same.runId != write.runId)
                continue;
            text += (first ? "" : ", ") + same.what;
            first = false;
        }
        if (lostFinalStatus(lost, write.runId))
            text += " (the store will show it as interrupted)";
    }
    return text;
}

bool lostFinalStatus(const std::vector<LostWrite>& lost, RunId runId) {
    return std::any_of(lost.begin(), lost.end(), [runId](const LostWrite& write) {
        return write.runId == runId && write.what == kLostFinish;
    });
}

void LostWriteRecord::add(RunId runId, const std::string& what, const std::string& error) {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_count;
    const bool known = std::any_of(m_lost.begin(), m_lost.end(), [&](const LostWrite& write) {
        return write.runId == runId && write.what == what;
    });
    if (!known)
        m_lost.push_back(LostWrite{runId, what, error});
}

void LostWriteRecord::announce() {
    std::lock_guard<std::mutex> lock(m_handlerMutex);
    if (m_handler)
        m_handler();
}

std::vector<LostWrite> LostWriteRecord::list() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_lost;
}

uint64_t LostWriteRecord::count() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_count;
}

void LostWriteRecord::setHandler(std::function<void()> handler) {
    std::lock_guard<std::mutex> lock(m_handlerMutex);
    m_handler = std::move(handler);
}

} // namespace tunelab
