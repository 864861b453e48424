#pragma once

// The names the experiment JSON uses for the spec's enums, shared by the spec reader and writer and
// by the forms that offer them.

#include "common/did_you_mean.h"
#include "spec/spec.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tunelab {

template <typename Enum> using NameTable = std::vector<std::pair<Enum, const char*>>;

const NameTable<DataKind>& dataKindNames();
const NameTable<LayerType>& layerTypeNames();
const NameTable<LossType>& lossTypeNames();
const NameTable<OptimizerType>& optimizerTypeNames();
const NameTable<ScheduleType>& scheduleTypeNames();
const NameTable<MetricKind>& metricNames();
const NameTable<TaskKind>& taskNames();
const NameTable<PruneScope>& pruneScopeNames();
const NameTable<PruneSchedule>& pruneScheduleNames();
const NameTable<Precision>& precisionNames();

template <typename Enum>
std::optional<Enum> enumFromName(const NameTable<Enum>& table, const std::string& name) {
    for (const auto& [value, text] : table) {
        if (name == text)
            return value;
    }
    return std::nullopt;
}

template <typename Enum> const char* enumName(const NameTable<Enum>& table, Enum value) {
    for (const auto& [entry, text] : table) {
        if (entry == value)
            return text;
    }
    return "?";
}

template <typename Enum> std::vector<std::string> enumNameList(const NameTable<Enum>& table) {
    std::vector<std::string> names;
    for (const auto& entry : table)
        names.emplace_back(entry.second);
    return names;
}

} // namespace tunelab
