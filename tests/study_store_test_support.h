#pragma once

// Helpers shared by the study store suites (tst_study_store, tst_study_store_processes).

#include "run_store_test_support.h"

#include <cstdint>
#include <vector>

Q_DECLARE_METATYPE(tunelab::TrialState)

namespace tunelab::test {

// The trial numbers of a study in number order.
inline std::vector<int64_t> numbers(const std::vector<TrialRecord>& trials) {
    std::vector<int64_t> result;
    for (const auto& trial : trials)
        result.push_back(trial.number);
    return result;
}

// 0, 1, ..., count - 1.
inline std::vector<int64_t> range(int64_t count) {
    std::vector<int64_t> result;
    for (int64_t number = 0; number < count; ++number)
        result.push_back(number);
    return result;
}

} // namespace tunelab::test
