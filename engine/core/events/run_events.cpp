#include "events/run_events.h"

#include <cstdio>

namespace tunelab {

namespace {
struct StatusName {
    RunStatus status;
    const char* name;
};
constexpr StatusName kStatusNames[] = {
    {RunStatus::Queued, "queued"},       {RunStatus::Running, "running"},
    {RunStatus::Completed, "completed"}, {RunStatus::Stopped, "stopped"},
    {RunStatus::Diverged, "diverged"},   {RunStatus::Failed, "failed"},
    {RunStatus::Pruned, "pruned"},       {RunStatus::Interrupted, "interrupted"},
};
} // namespace

std::string hashText(uint64_t hash) {
    char text[24];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

uint64_t hashFromText(const std::string& text) {
    if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
        return 0;
    return static_cast<uint64_t>(std::stoull(text, nullptr, 16));
}

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
