#pragma once

// The rows of one study in an Optuna storage, read as they are before any check against TuneLab's
// rules; private to engine/core/study/optuna_storage_*.cpp.

#include "common/result.h"
#include "study/optuna_storage.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tunelab::optuna_raw {

// As many objectives as a TuneLab study may have.
constexpr size_t kMaxImportedObjectives = 4;

struct RawParam {
    std::string name;
    double value = 0.0;
    OptunaDistribution distribution;
};

struct RawTrial {
    int64_t id = 0;
    int64_t number = 0;
    TrialState state = TrialState::Waiting;
    std::vector<RawParam> params;
    double value = kNoValue;        // the first objective's
    std::vector<double> moreValues; // the others', NaN until read
    std::map<int, double> intermediate;
    std::string message;
    std::optional<nlohmann::json> fixedParams; // enqueued parameters of a waiting trial
    bool hasUserAttributes = false;
};

struct RawStudy {
    std::string name;
    std::vector<ObjectiveDirection> directions; // one per objective
    std::string tunelabSpec;                    // the study file TuneLab exported with it, if any
    bool hasUserAttributes = false;
    std::vector<RawTrial> trials;
};

// The study named `wanted` (the only one when empty) with its trials, in one read transaction the
// caller holds.
Result<RawStudy> readRawStudy(sqlite3* db, const std::string& wanted);

} // namespace tunelab::optuna_raw
