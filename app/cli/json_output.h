#pragma once

#include "events/run_events.h"
#include "store/run_store.h"

#include <nlohmann/json.hpp>

namespace tunelab::cli {

// A number, or null when it is NaN (JSON has no NaN).
nlohmann::ordered_json numberOrNull(double value);

nlohmann::ordered_json summaryToJson(RunId id, const std::string& name, const RunSummary& summary);
nlohmann::ordered_json runToJson(const RunRecord& run);
nlohmann::ordered_json epochToJson(const EpochRecord& epoch);
// Adds "store_error" (RunStore::lostWritesReport) to a command's result when the store could not
// save everything; call after the store's flush.
void addStoreError(nlohmann::ordered_json& json, const RunStore& store);

} // namespace tunelab::cli
