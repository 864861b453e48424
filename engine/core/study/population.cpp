#include "study/population.h"

#include "search/sampler_support.h"
#include "search/samplers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace tunelab {

namespace {

using json = nlohmann::json;
using sampler_support::Rng;

// A stretch's failures in a row after which its member is given up.
constexpr int kFailuresBeforeGivingUp = 3;
// The factors a numeric hyperparameter is moved by when explored (Jaderberg et al. 2017).
constexpr double kPerturbDown = 0.8;
constexpr double kPerturbUp = 1.2;

// The keys of a layer that leave its parameters as they are; any other model key may change them.
const std::set<std::string> kLayerKeysKeepingWeights = {"p", "negative_slope", "alpha", "eps", "momentum"};
// Layers without parameters: a whole layer chosen among these ("model.layers[1]": relu or gelu)
// leaves the network's weights as they are.
const std::set<std::string> kLayersWithoutWeights = {"relu", "leaky_relu", "elu",     "gelu",
                                                     "silu", "tanh",       "sigmoid", "dropout"};

// Whether every value a parameter of a whole layer may take is a layer without parameters.
bool choosesOnlyLayersWithoutWeights(const SearchParameter& parameter) {
    if (parameter.values.empty())
        return false;
    for (const ParamValue& value : parameter.values) {
        const json layer = json::parse(value.json, nullptr, false);
        if (!layer.is_object() || !layer.contains("type") || !layer["type"].is_string() ||
            !kLayersWithoutWeights.count(layer["type"].get<std::string>()))
            return false;
    }
    return true;
}

bool readNumberKey(const json& object, const char* key, double low, double high, bool integer,
                   const std::string& expected, double& out, std::vector<std::string>& errors) {
    const auto it = object.find(key);
    if (it == object.end())
        return false;
    const bool number = it->is_number() && (!integer || it->is_number_integer());
    const double value = number ? it->get<double>() : 0.0;
    if (!number || !(value >= low && value <= high)) {
        errors.push_back(std::string("population.") + key + ": expected " + expected + ", got " + it->dump());
        return false;
    }
    out = value;
    return true;
}

// Where a member stands, from its stretches so far.
struct MemberState {
    std::vector<const TrialRecord*> stretches; // by trial number
    bool busy = false;                         // its last stretch is running or waiting
    bool finished = false;                     // trained every epoch (or stopped early), or given up
    bool failed = false;                       // its last stretch failed or was pruned
    int reached = 0;                           // the epoch its weights are at
};

int lastReportedEpoch(const TrialRecord& trial) {
    return trial.intermediate.empty() ? trial.startEpoch : trial.intermediate.rbegin()->first;
}

} // namespace

void readPopulationSettings(std::string_view jsonText, PopulationSettings& settings,
                            std::vector<std::string>& errors) {
    const json value = json::parse(jsonText, nullptr, false);
    if (!value.is_object()) {
        errors.push_back("population: expected an object such as {\"size\": 8, \"interval\": 2}, got " +
                         std::string(jsonText));
        return;
    }
    for (const auto& item : value.items()) {
        static const std::set<std::string> known = {"size", "interval", "quantile", "resample_probability"};
        if (!known.count(item.key()))
            errors.push_back("population." + item.key() +
                             ": unknown key; expected size, interval, quantile or resample_probability");
    }
    if (!value.contains("size"))
        errors.push_back(
            "population.size: missing; give the number of members that train at once (2 to 256)");
    double number = 0.0;
    if (readNumberKey(value, "size", 2, 256, true, "a whole number of members from 2 to 256", number, errors))
        settings.size = static_cast<int>(number);
    if (readNumberKey(value, "interval", 1, 100000, true, "a whole number of epochs of at least 1", number,
                      errors))
        settings.interval = static_cast<int>(number);
    if (readNumberKey(value, "quantile", 0.01, 0.5, false, "a fraction from 0.01 to 0.5", number, errors))
        settings.quantile = number;
    if (readNumberKey(value, "resample_probability", 0.0, 1.0, false, "a probability from 0 to 1", number,
                      errors))
        settings.resampleProbability = number;
}

std::string populationSettingsJson(const PopulationSettings& settings) {
    return json{{"size", settings.size},
                {"interval", settings.interval},
                {"quantile", settings.quantile},
                {"resample_probability", settings.resampleProbability}}
        .dump();
}

std::vector<std::string> populationStudyProblems(const StudySpec& spec, const SearchSpace& space) {
    std::vector<std::string> problems;
    if (spec.experimentJson.empty())
        problems.push_back("population: population-based training trains an experiment; give \"experiment\"");
    if (isMultiObjective(spec))
        problems.push_back("population: a population is ranked by one objective; give one \"objective\"");
    if (spec.pruner.type != "none")
        problems.push_back("pruner: a population study stops no member early (its worst members copy the "
                           "best instead); set \"pruner\": \"none\"");
    const int epochs = studyEpochs(spec);
    if (!spec.experimentJson.empty() && spec.population.interval >= epochs)
        problems.push_back("population.interval: " + std::to_string(spec.population.interval) +
                           " epochs is not shorter than the training (" + std::to_string(epochs) +
                           " epochs), so no member would ever copy another; use fewer");
    for (const SearchParameter& parameter : space.parameters()) {
        const std::string& path = parameter.path;
        const std::string key = path.substr(path.find_last_of('.') + 1);
        const bool wholeLayer = key.rfind("layers[", 0) == 0;
        const bool changesNetwork = path.rfind("model.", 0) == 0 && !kLayerKeysKeepingWeights.count(key) &&
                                    !(wholeLayer && choosesOnlyLayersWithoutWeights(parameter));
        if (changesNetwork || path.rfind("data.", 0) == 0 || path == "training.epochs" || path == "seed")
            problems.push_back("space: " + parameter.place() +
                               ": members of a population copy each other's weights, so they share one "
                               "network, dataset, seed and length of training; search hyperparameters "
                               "such as the learning rate, momentum, weight decay, dropout or batch size");
    }
    return problems;
}

int populationStretches(const StudySpec& spec) {
    const int epochs = std::max(1, studyEpochs(spec));
    const int interval = std::max(1, spec.population.interval);
    return (epochs + interval - 1) / interval;
}

PopulationPlanner::PopulationPlanner(PopulationSettings settings, const SearchSpace& space,
                                     ObjectiveSpec objective, int epochs, uint64_t seed)
    : m_settings(settings)
    , m_space(space)
    , m_objective(std::move(objective))
    , m_epochs(std::max(1, epochs))
    , m_seed(seed) {}

int PopulationPlanner::lastEpochOf(const TrialRecord& trial) const {
    return std::min(trial.startEpoch + std::max(1, m_settings.interval), m_epochs);
}

Assignment PopulationPlanner::explore(const Assignment& params, uint64_t key) const {
    Rng random(key);
    Assignment explored;
    for (const SearchParameter& parameter : m_space.parameters()) {
        if (!m_space.isActive(parameter, explored))
            continue;
        const auto current = params.find(parameter.path);
        if (current == params.end() || random.uniform() < m_settings.resampleProbability) {
            // Drawn afresh: a parameter the copied member did not have (a choice switched it on) too.
            explored[parameter.path] = valueAtUnit(parameter, random.uniform());
            continue;
        }
        if (sampler_support::isChoice(parameter)) {
            // To a neighbouring choice, or kept at an end that has no neighbour on that side.
            const int index = sampler_support::choiceOf(parameter, current->second);
            const int count = static_cast<int>(parameter.values.size());
            const int moved =
                index < 0 ? 0 : std::clamp(index + (random.uniform() < 0.5 ? -1 : 1), 0, count - 1);
            explored[parameter.path] =
                count > 0 ? parameter.values[static_cast<size_t>(moved)] : current->second;
            continue;
        }
        double value = 0.0;
        if (!sampler_support::readNumber(current->second, value)) {
            explored[parameter.path] = current->second;
            continue;
        }
        const bool up = random.uniform() < 0.5;
        double moved = std::clamp(value * (up ? kPerturbUp : kPerturbDown), parameter.low, parameter.high);
        if (parameter.kind == ParamKind::Int && std::round(moved) == std::round(value))
            moved =
                std::clamp(value + (up ? 1.0 : -1.0), parameter.low, parameter.high); // 0.8 x 3 is still 3
        explored[parameter.path] = valueAtUnit(parameter, sampler_support::unitOf(parameter, moved));
    }
    return explored;
}

PopulationStep PopulationPlanner::next(const std::map<int64_t, TrialRecord>& trials, int64_t nextNumber,
                                       const Suggest& suggest) const {
    const int size = m_settings.size;
    std::vector<MemberState> members(static_cast<size_t>(size));
    for (const auto& [number, trial] : trials)
        if (trial.member >= 0 && trial.member < size)
            members[static_cast<size_t>(trial.member)].stretches.push_back(&trial);
    for (MemberState& member : members) {
        if (member.stretches.empty())
            continue;
        const TrialRecord& last = *member.stretches.back();
        if (!isFinal(last.state)) {
            member.busy = true;
            member.reached = last.startEpoch;
            continue;
        }
        if (last.state != TrialState::Complete) {
            int failures = 0;
            for (auto it = member.stretches.rbegin();
                 it != member.stretches.rend() && (*it)->state != TrialState::Complete; ++it)
                ++failures;
            member.failed = true;
            member.finished = failures >= kFailuresBeforeGivingUp;
            member.reached = last.startEpoch;
            continue;
        }
        member.reached = lastReportedEpoch(last);
        // A stretch that ended before its last epoch stopped early (early stopping): so does its member.
        member.finished = member.reached >= m_epochs || member.reached < lastEpochOf(last);
    }

    Rng random(trialStreamKey(m_seed ^ 0x5042545f504f5055ULL, nextNumber));
    PopulationStep step;
    step.kind = PopulationStep::Kind::Train;

    // The members' values at `epoch` (lower is better), from the stretches that reported it.
    auto scoresAt = [&](int epoch) {
        std::vector<std::pair<double, const TrialRecord*>> scores;
        for (const MemberState& member : members) {
            for (const TrialRecord* stretch : member.stretches) {
                const auto value = stretch->intermediate.find(epoch);
                if (stretch->state == TrialState::Complete && value != stretch->intermediate.end() &&
                    std::isfinite(value->second) && lastReportedEpoch(*stretch) == epoch) {
                    scores.emplace_back(towardsMinimum(m_objective, value->second), stretch);
                    break;
                }
            }
        }
        std::sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : a.second->number < b.second->number;
        });
        return scores;
    };
    auto copyOf = [&](int member, const TrialRecord& donor) {
        step.params = explore(donor.params, random.next());
        step.lineage = TrialLineage{member, donor.number, lastReportedEpoch(donor)};
        return step;
    };

    for (int m = 0; m < size; ++m) {
        if (!members[static_cast<size_t>(m)].stretches.empty())
            continue;
        const auto params = suggest(nextNumber);
        if (!params) {
            step.kind = PopulationStep::Kind::Done;
            step.reason = "the sampler has no points left for a new member";
            return step;
        }
        step.params = *params;
        step.lineage = TrialLineage{m, -1, 0};
        return step;
    }
    for (int m = 0; m < size; ++m) {
        const MemberState& member = members[static_cast<size_t>(m)];
        if (!member.failed || member.finished)
            continue;
        // Restart from the member that leads at the furthest epoch every living member has reached.
        const TrialRecord* best = nullptr;
        int bestEpoch = -1;
        for (const MemberState& other : members)
            if (!other.busy && !other.failed && other.reached > bestEpoch && other.reached > 0 &&
                other.reached < m_epochs) {
                const auto scores = scoresAt(other.reached);
                if (!scores.empty()) {
                    best = scores.front().second;
                    bestEpoch = other.reached;
                }
            }
        if (best)
            return copyOf(m, *best);
        const auto params = suggest(nextNumber);
        if (!params)
            continue;
        step.params = *params;
        step.lineage = TrialLineage{m, -1, 0};
        return step;
    }

    // The ready members, the one furthest behind first; each waits until no living member is behind it.
    std::vector<int> ready;
    for (int m = 0; m < size; ++m) {
        const MemberState& member = members[static_cast<size_t>(m)];
        if (!member.busy && !member.failed && !member.finished)
            ready.push_back(m);
    }
    std::stable_sort(ready.begin(), ready.end(), [&](int a, int b) {
        return members[static_cast<size_t>(a)].reached < members[static_cast<size_t>(b)].reached;
    });
    for (const int m : ready) {
        const MemberState& member = members[static_cast<size_t>(m)];
        const int epoch = member.reached;
        const bool behind = std::any_of(members.begin(), members.end(), [&](const MemberState& other) {
            return !other.finished && other.reached < epoch;
        });
        if (behind)
            continue;
        const TrialRecord& last = *member.stretches.back();
        const auto scores = scoresAt(epoch);
        const int count = static_cast<int>(scores.size());
        const int quantile = std::min(count / 2, static_cast<int>(std::ceil(count * m_settings.quantile)));
        bool worst = false;
        for (int i = count - quantile; i < count; ++i)
            worst = worst || scores[static_cast<size_t>(i)].second->number == last.number;
        if (worst && quantile > 0)
            return copyOf(m, *scores[random.index(static_cast<size_t>(quantile))].second);
        step.params = last.params;
        step.lineage = TrialLineage{m, last.number, epoch};
        return step;
    }

    const bool anyBusy =
        std::any_of(members.begin(), members.end(), [](const MemberState& member) { return member.busy; });
    if (anyBusy || !ready.empty()) {
        step.kind = PopulationStep::Kind::Wait;
        return step;
    }
    step.kind = PopulationStep::Kind::Done;
    step.reason = "every member of the population has trained its " + std::to_string(m_epochs) + " epochs";
    return step;
}

} // namespace tunelab
