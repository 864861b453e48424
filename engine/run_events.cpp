#include "engine/run_events.h"

namespace tunelab {

namespace {
struct StatusName {
    RunStatus status;
    const char* name;
};
constexpr StatusName kStatusNames[] = {
    {RunStatus::Queued, "queued"},           {RunStatus::Running, "running"},
    {RunStatus::Completed, "completed"},     {RunStatus::Stopped, "stopped"},
    {RunStatus::Diverged, "diverged"},       {RunStatus::Failed, "failed"},
    {RunStatus::Interrupted, "interrupted"},
};
} // namespace

const char* toString(RunStatus status) {
    for (const auto& entry : kStatusNames) {
        if (entry.status == status)
            return entry.name;
    }
    return "unknown";
}

bool parseRunStatus(const std::string& text, RunStatus& status) {
    for (const auto& entry : kStatusNames) {
        if (text == entry.name) {
            status = entry.status;
            return true;
        }
    }
    return false;
}

bool isFinal(RunStatus status) {
    return status != RunStatus::Queued && status != RunStatus::Running;
}

} // namespace tunelab
