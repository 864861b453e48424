#pragma once

#include "events/run_events.h"
#include "search/samplers.h"
#include "search/search_space.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tunelab {

using StudyId = int64_t;

// A stored study and its trials, as the run store keeps them (schema 2).
struct StudyRecord {
    StudyId id = 0;
    std::string name;
    std::string specJson; // studySpecToJson
    double createdAt = 0.0;
};

struct TrialRecord {
    int64_t id = 0; // row id, unique across studies
    StudyId studyId = 0;
    int64_t number = 0; // 0-based within the study
    TrialState state = TrialState::Waiting;
    Assignment params;              // only the parameters that applied
    double value = kNoValue;        // the first objective's value
    std::vector<double> moreValues; // the second and later objectives' values, as reported
    RunId runId = 0;                // the training run, 0 for trials evaluated elsewhere
    std::string message;
    int prunedEpoch = 0; // the epoch it stopped at when pruned
    int requeues = 0;    // times it was re-queued after its process died
    double startedAt = 0.0;
    double finishedAt = 0.0;
    std::map<int, double> intermediate; // epoch -> objective value; filled on request
    // Population-based training (schema 7): the population slot the trial trains for (-1 outside
    // PBT), the trial whose final weights and optimizer state it continues from (-1: none, it starts
    // from scratch) and the epoch it starts after (its first epoch is startEpoch + 1). A trial whose
    // parent has another member copied that member's weights ("exploit").
    int member = -1;
    int64_t parentNumber = -1;
    int startEpoch = 0;
    // Heartbeats (schema 8): when the process evaluating it last said it is alive (0: never), and
    // the failed attempt this trial retries (its number; -1: none) after that attempt's worker went
    // silent.
    double heartbeatAt = 0.0;
    int64_t retryOf = -1;
    // Whether a process that evaluates it owns it (false for a trial handed out by `ask`, and for one
    // that is not running).
    bool ownedByProcess = false;
};

// A new trial's place in population-based training (TrialRecord's member, parentNumber, startEpoch).
struct TrialLineage {
    int member = -1;
    int64_t parentNumber = -1;
    int startEpoch = 0;
};

} // namespace tunelab
