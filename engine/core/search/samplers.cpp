#include "search/samplers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace tunelab {

namespace {

constexpr int64_t kMaxGridSize = 1000000;

ParamValue numberValue(const SearchParameter& parameter, double value) {
    if (parameter.kind == ParamKind::Int)
        return ParamValue{nlohmann::json(static_cast<int64_t>(std::llround(value))).dump()};
    return ParamValue{nlohmann::json(value).dump()};
}

uint64_t hashText(const std::string& text) {
    uint64_t hash = 1469598103934665603ull; // FNV-1a
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

// Number of steps above low that still lie within [low, high].
int64_t stepCount(const SearchParameter& parameter) {
    return static_cast<int64_t>(std::floor((parameter.high - parameter.low) / parameter.step + 1e-9));
}

} // namespace

const char* toString(TrialState state) {
    switch (state) {
    case TrialState::Waiting:
        return "waiting";
    case TrialState::Running:
        return "running";
    case TrialState::Complete:
        return "complete";
    case TrialState::Pruned:
        return "pruned";
    case TrialState::Failed:
        return "failed";
    }
    return "unknown";
}

bool parseTrialState(const std::string& text, TrialState& state) {
    for (TrialState candidate : {TrialState::Waiting, TrialState::Running, TrialState::Complete,
                                 TrialState::Pruned, TrialState::Failed}) {
        if (text == toString(candidate)) {
            state = candidate;
            return true;
        }
    }
    return false;
}

std::vector<double> objectivesOf(const FinishedTrial& trial) {
    return trial.values.empty() ? std::vector<double>{trial.value} : trial.values;
}

bool isFinal(TrialState state) {
    return state == TrialState::Complete || state == TrialState::Pruned || state == TrialState::Failed;
}

const std::vector<std::string>& samplerNames() {
    static const std::vector<std::string> names = {"auto",   "tpe",  "tpe-independent", "gp",   "rf", "sobol",
                                                   "random", "grid", "nsga2",           "motpe"};
    return names;
}

Result<std::unique_ptr<Sampler>> makeSampler(const SamplerSettings& settings, const SearchSpace& space) {
    using Made = Result<std::unique_ptr<Sampler>>;
    if (settings.type == "random")
        return Made(std::make_unique<RandomSampler>(settings.seed));
    if (settings.type == "sobol")
        return Made(std::make_unique<SobolSampler>(settings.seed));
    if (settings.type == "grid") {
        auto grid = GridSampler::create(space);
        if (!grid.ok())
            return Made(Errors{grid.errors()});
        return Made(std::make_unique<GridSampler>(grid.take()));
    }
    if (settings.type == "tpe" || settings.type == "tpe-independent") {
        TpeSettings tpe;
        tpe.seed = settings.seed;
        tpe.multivariate = settings.type == "tpe";
        tpe.startupTrials = settings.startupTrials;
        return Made(std::make_unique<TpeSampler>(tpe));
    }
    if (settings.type == "auto")
        return Made(std::make_unique<AutoSampler>(AutoSettings{settings.seed, settings.startupTrials}));
    if (settings.type == "gp") {
        GpSettings gp;
        gp.seed = settings.seed;
        gp.startupTrials = settings.startupTrials;
        return Made(std::make_unique<GpSampler>(gp));
    }
    if (settings.type == "rf") {
        RfSettings rf;
        rf.seed = settings.seed;
        rf.startupTrials = settings.startupTrials;
        return Made(std::make_unique<RfSampler>(rf));
    }
    // For several objectives. NSGA-II's generations replace startup trials: generation 0 is random.
    if (settings.type == "nsga2") {
        NsgaIISettings nsga2;
        nsga2.seed = settings.seed;
        return Made(std::make_unique<NsgaIISampler>(nsga2));
    }
    // Multivariate, as TpeSettings has it: the independent kind did worse on the development
    // problems of bench/bench_multi_objective.cpp.
    if (settings.type == "motpe") {
        TpeSettings motpe;
        motpe.seed = settings.seed;
        motpe.startupTrials = settings.startupTrials;
        return Made(std::make_unique<MotpeSampler>(motpe));
    }
    std::string known;
    for (const auto& name : samplerNames())
        known += (known.empty() ? "" : ", ") + name;
    return Made::failure("unknown sampler \"" + settings.type + "\" (known: " + known + ")");
}

uint64_t mixBits(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t trialStreamKey(uint64_t seed, int64_t trialNumber) {
    return mixBits(seed ^ mixBits(static_cast<uint64_t>(trialNumber) + 0x5851F42D4C957F2Dull));
}

ParamValue valueAtUnit(const SearchParameter& parameter, double u) {
    u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
    if (!parameter.values.empty()) {
        const size_t count = parameter.values.size();
        return parameter.values[std::min(count - 1, static_cast<size_t>(u * static_cast<double>(count)))];
    }
    const double low = parameter.low, high = parameter.high;
    if (parameter.kind == ParamKind::Int) {
        if (parameter.log) {
            // Log-uniform over [low - 0.5, high + 0.5], rounded: each integer gets the log-width of its cell.
            const double lo = std::log(low - 0.5), hi = std::log(high + 0.5);
            const double value = std::round(std::exp(lo + u * (hi - lo)));
            return numberValue(parameter, std::clamp(value, low, high));
        }
        const int64_t steps = stepCount(parameter);
        const int64_t k = std::min(steps, static_cast<int64_t>(u * static_cast<double>(steps + 1)));
        return numberValue(parameter, low + static_cast<double>(k) * parameter.step);
    }
    if (parameter.log) {
        const double lo = std::log(low), hi = std::log(high);
        return numberValue(parameter, std::clamp(std::exp(lo + u * (hi - lo)), low, high));
    }
    if (parameter.step > 0.0) {
        const int64_t steps = stepCount(parameter);
        const int64_t k = std::min(steps, static_cast<int64_t>(u * static_cast<double>(steps + 1)));
        // Through 15 significant digits, so 0.05 + 2 * 0.05 is written 0.15, not 0.15000000000000002.
        const double value = std::min(high, low + static_cast<double>(k) * parameter.step);
        char text[32];
        std::snprintf(text, sizeof text, "%.15g", value);
        return numberValue(parameter, std::clamp(std::strtod(text, nullptr), low, high));
    }
    return numberValue(parameter, std::clamp(low + u * (high - low), low, high));
}

std::optional<Assignment> RandomSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                                 const std::vector<FinishedTrial>& history) {
    (void)history;
    // One stream per (seed, trial, parameter path): independent of call order and of other parameters.
    const uint64_t trialKey = trialStreamKey(m_seed, trialNumber);
    Assignment assignment;
    for (const auto& parameter : space.parameters()) {
        if (!space.isActive(parameter, assignment))
            continue;
        const uint64_t bits = mixBits(trialKey ^ hashText(parameter.path));
        const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
        assignment[parameter.path] = valueAtUnit(parameter, u);
    }
    return assignment;
}

Result<GridSampler> GridSampler::create(const SearchSpace& space) {
    std::vector<std::string> errors;
    std::vector<std::vector<ParamValue>> options;
    for (const auto& parameter : space.parameters()) {
        std::vector<ParamValue> values = parameter.values;
        if (values.empty() && parameter.kind == ParamKind::Float) {
            errors.push_back(parameter.place() + ": grid search needs explicit values for float parameter " +
                             parameter.path);
        } else if (values.empty()) {
            // An int range: every integer (or every step) in it.
            const double count =
                parameter.log ? parameter.high - parameter.low + 1 : stepCount(parameter) + 1;
            if (count > kMaxGridSize) {
                errors.push_back(parameter.place() + ": grid search over " + std::to_string(int64_t(count)) +
                                 " integers is too large; give explicit values");
            } else {
                const double step = parameter.log ? 1.0 : parameter.step;
                for (int64_t k = 0; k < static_cast<int64_t>(count); ++k)
                    values.push_back(numberValue(parameter, parameter.low + static_cast<double>(k) * step));
            }
        }
        options.push_back(std::move(values));
    }
    if (!errors.empty())
        return Result<GridSampler>(Errors{errors});
    // Every combination of the unconditional parameters' values is at least one point of the grid:
    // refuse a grid past the limit before building any of it (a million points of 40 parameters
    // each would take gigabytes and minutes).
    double atLeast = 1.0;
    for (size_t i = 0; i < options.size(); ++i) {
        if (space.parameters()[i].when.empty())
            atLeast *= static_cast<double>(options[i].size());
    }
    if (atLeast > static_cast<double>(kMaxGridSize)) {
        char count[32];
        std::snprintf(count, sizeof count, "%.4g", atLeast);
        return Result<GridSampler>::failure("search space: the grid has at least " + std::string(count) +
                                            " points, more than " + std::to_string(kMaxGridSize) +
                                            "; give fewer values");
    }

    GridSampler sampler;
    const auto& parameters = space.parameters();
    Assignment current;
    bool tooLarge = false;
    // Depth-first over parameters in space order: the first parameter varies slowest.
    std::function<void(size_t)> expand = [&](size_t i) {
        if (tooLarge)
            return;
        if (i == parameters.size()) {
            if (static_cast<int64_t>(sampler.m_grid.size()) >= kMaxGridSize)
                tooLarge = true;
            else
                sampler.m_grid.push_back(current);
            return;
        }
        const SearchParameter& parameter = parameters[i];
        if (!space.isActive(parameter, current)) {
            expand(i + 1);
            return;
        }
        for (const auto& value : options[i]) {
            current[parameter.path] = value;
            expand(i + 1);
        }
        current.erase(parameter.path);
    };
    expand(0);
    if (tooLarge)
        return Result<GridSampler>::failure("search space: the grid has more than " +
                                            std::to_string(kMaxGridSize) + " points; give fewer values");
    return sampler;
}

std::optional<Assignment> GridSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                               const std::vector<FinishedTrial>& history) {
    (void)space;
    (void)history;
    if (trialNumber < 0 || trialNumber >= gridSize())
        return std::nullopt;
    return m_grid[static_cast<size_t>(trialNumber)];
}

} // namespace tunelab
