#pragma once

// Name tables shared by the spec reader and writer (private to the engine).

#include "engine/spec.h"

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

// Edit distance, for "did you mean" suggestions.
size_t editDistance(const std::string& a, const std::string& b);
// The candidate closest to `word` when it is close enough to be a likely typo; empty otherwise.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

} // namespace tunelab
