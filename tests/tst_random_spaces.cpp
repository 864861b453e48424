// Search spaces drawn at random, with the kinds, scales and conditions a user can write (tiny and
// huge ranges, negative bounds, log scales over many decades, steps, listed values, choices of any
// JSON, fixed values, conditions on choices), searched by every sampler (those of several objectives
// with two, and broken constraints now and then) against histories as hostile as real studies get (NaN,
// infinite and enormous values, ties, pruned, failed and running trials). Every suggestion must hold exactly
// the parameters that apply, each a value the space allows.

#include "search/samplers.h"
#include "search/search_space.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace tunelab;

namespace {

class SpaceDraw {
public:
    explicit SpaceDraw(uint64_t seed)
        : m_rng(seed) {}

    // The space as its file says it.
    std::string json() {
        std::string text = R"({"parameters": [)";
        const int count = between(1, 7);
        std::vector<std::pair<std::string, std::vector<std::string>>> categoricals; // path, choices
        for (int i = 0; i < count; ++i) {
            const std::string path = "p" + std::to_string(i);
            std::string parameter = R"({"path": ")" + path + R"(", )";
            const double kind = uniform(0.0, 1.0);
            if (kind < 0.4) {
                parameter += floatParameter();
            } else if (kind < 0.65) {
                parameter += intParameter();
            } else if (kind < 0.9) {
                std::vector<std::string> choices;
                const int n = between(1, 5);
                for (int c = 0; c < n; ++c) {
                    std::string choice = anyValue();
                    if (std::find(choices.begin(), choices.end(), choice) == choices.end())
                        choices.push_back(choice);
                }
                parameter += R"("kind": "categorical", "choices": [)" + joined(choices) + "]";
                categoricals.push_back({path, choices});
            } else {
                parameter += R"("kind": "fixed", "value": )" + anyValue();
            }
            if (!categoricals.empty() && categoricals.back().first != path && coin(0.35)) {
                const auto& [parent, choices] =
                    categoricals[static_cast<size_t>(between(0, static_cast<int>(categoricals.size()) - 1))];
                std::vector<std::string> some;
                for (const std::string& choice : choices)
                    if (some.empty() || coin(0.4))
                        some.push_back(choice);
                parameter += R"(, "when": {")" + parent + R"(": [)" + joined(some) + "]}";
            }
            text += (i ? ", " : "") + parameter + "}";
        }
        return text + "]}";
    }

private:
    int between(int low, int high) { return std::uniform_int_distribution<int>(low, high)(m_rng); }
    double uniform(double low, double high) {
        return std::uniform_real_distribution<double>(low, high)(m_rng);
    }
    bool coin(double p) { return uniform(0.0, 1.0) < p; }

    static std::string number(double value) {
        char text[40];
        std::snprintf(text, sizeof text, "%.17g", value);
        return text;
    }

    static std::string joined(const std::vector<std::string>& items) {
        std::string text;
        for (size_t i = 0; i < items.size(); ++i)
            text += (i ? ", " : "") + items[i];
        return text;
    }

    std::string floatParameter() {
        if (coin(0.1)) {
            std::vector<std::string> values;
            for (int n = between(1, 5); n > 0; --n)
                values.push_back(number(uniform(-100.0, 100.0)));
            return R"("kind": "float", "values": [)" + joined(values) + "]";
        }
        if (coin(0.3)) { // log over up to twelve decades
            const double low = std::pow(10.0, uniform(-12.0, 3.0));
            const double high = low * std::pow(10.0, uniform(0.01, 12.0));
            return R"("kind": "float", "log": true, "low": )" + number(low) + R"(, "high": )" + number(high);
        }
        const double low = uniform(-1e3, 1e3) * std::pow(10.0, between(-6, 6));
        // Down to a few units in the last place of the bounds: narrower ranges are empty ones.
        const double width = std::max(std::pow(10.0, uniform(-9.0, 9.0)), 1e-12 * std::fabs(low));
        std::string text =
            R"("kind": "float", "low": )" + number(low) + R"(, "high": )" + number(low + width);
        if (coin(0.2))
            text += R"(, "step": )" + number(width / between(1, 10));
        return text;
    }

    std::string intParameter() {
        if (coin(0.1)) {
            std::vector<std::string> values;
            for (int n = between(1, 5); n > 0; --n)
                values.push_back(std::to_string(between(-1000, 1000)));
            return R"("kind": "int", "values": [)" + joined(values) + "]";
        }
        const bool log = coin(0.25);
        const int64_t low = log ? between(1, 100) : between(-100000, 100000);
        const int64_t high = low + static_cast<int64_t>(std::pow(10.0, uniform(0.0, 7.0))) + 1;
        std::string text =
            R"("kind": "int", "low": )" + std::to_string(low) + R"(, "high": )" + std::to_string(high);
        if (log)
            text += R"(, "log": true)";
        else if (coin(0.2))
            text += R"(, "step": )" + std::to_string(between(1, 7));
        return text;
    }

    std::string anyValue() {
        switch (between(0, 6)) {
        case 0:
            return std::to_string(between(-50, 50));
        case 1:
            return number(uniform(-1.0, 1.0));
        case 2:
            return "\"s" + std::to_string(between(0, 9)) + "\"";
        case 3:
            return coin(0.5) ? "true" : "false";
        case 4:
            return R"({"type": "relu"})";
        case 5:
            return "[1, 2]";
        default:
            return "\"\"";
        }
    }

    std::mt19937_64 m_rng;
};

// The objective values of a hostile history, in turn.
double hostileValue(std::mt19937_64& rng, int trial) {
    const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    switch (kind) {
    case 0:
        return std::numeric_limits<double>::quiet_NaN();
    case 1:
        return std::numeric_limits<double>::infinity();
    case 2:
        return -1e300;
    case 3:
        return 1e300;
    case 4:
        return 1.0; // ties
    default:
        return std::normal_distribution<double>(trial * 0.01, 1.0)(rng);
    }
}

// Empty when `assignment` is a valid point of `space`, else what is wrong with it.
QString problemWith(const SearchSpace& space, const Assignment& assignment) {
    size_t applying = 0;
    for (const SearchParameter& parameter : space.parameters()) {
        const bool active = space.isActive(parameter, assignment);
        const auto found = assignment.find(parameter.path);
        if (!active) {
            if (found != assignment.end())
                return QString::fromStdString(parameter.path + " does not apply but has " +
                                              found->second.json);
            continue;
        }
        ++applying;
        if (found == assignment.end())
            return QString::fromStdString(parameter.path + " applies but has no value");
        const ParamValue& value = found->second;
        const auto listed = [&](const std::vector<ParamValue>& values) {
            return std::find(values.begin(), values.end(), value) != values.end();
        };
        const QString what = QString::fromStdString(parameter.path + " = " + value.json);
        switch (parameter.kind) {
        case ParamKind::Fixed:
        case ParamKind::Categorical:
            if (!listed(parameter.values))
                return what + " is not one of its values";
            break;
        case ParamKind::Float:
        case ParamKind::Int: {
            if (!value.isNumber() || !std::isfinite(value.toDouble()))
                return what + " is not a finite number";
            const double x = value.toDouble();
            if (parameter.kind == ParamKind::Int && value.json.find_first_of(".eE") != std::string::npos)
                return what + " is not written as an integer";
            if (parameter.hasExplicitValues()) {
                bool near = false;
                for (const ParamValue& listedValue : parameter.values)
                    near =
                        near || std::fabs(listedValue.toDouble() - x) <= 1e-12 * std::max(1.0, std::fabs(x));
                if (!near)
                    return what + " is not one of its values";
                break;
            }
            const double slack = 1e-9 * std::max({1.0, std::fabs(parameter.low), std::fabs(parameter.high)});
            if (x < parameter.low - slack || x > parameter.high + slack)
                return what + QString(" is outside [%1, %2]")
                                  .arg(parameter.low, 0, 'g', 17)
                                  .arg(parameter.high, 0, 'g', 17);
            if (parameter.step > 0.0) {
                // Values are written with 15 significant digits: a step finer than that is rounded.
                const double steps = (x - parameter.low) / parameter.step;
                const double off = std::fabs(steps - std::round(steps)) * parameter.step;
                if (off > std::max(1e-6 * parameter.step, 1e-14 * std::fabs(x)))
                    return what + " is off its step";
            }
            break;
        }
        }
    }
    if (applying != assignment.size())
        return "the assignment holds parameters the space does not have";
    return {};
}

} // namespace

class TestRandomSpaces : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everySamplerSuggestsOnlyValidPoints() {
        constexpr int kSpaces = 40;
        constexpr int kTrials = 20;
        int parsed = 0;
        for (uint64_t seed = 0; seed < kSpaces; ++seed) {
            SpaceDraw draw(seed);
            const std::string json = draw.json();
            auto space = parseSearchSpace(json);
            if (!space.ok()) {
                QVERIFY2(!space.error().empty(), qPrintable(QString::fromStdString(json)));
                continue; // a range so narrow that its bounds are equal as doubles, say
            }
            ++parsed;
            for (const char* type : {"auto", "tpe", "tpe-independent", "gp", "rf", "sobol", "random", "grid",
                                     "nsga2", "motpe"}) {
                // The samplers of several objectives get two, and now and then a broken constraint.
                const bool objectives = std::string(type) == "nsga2" || std::string(type) == "motpe";
                SamplerSettings settings;
                settings.type = type;
                settings.seed = seed;
                auto sampler = makeSampler(settings, space.value());
                if (!sampler.ok()) {
                    // Only the grid may refuse a space (a float range without listed values), saying why.
                    QVERIFY2(std::string(type) == "grid" && !sampler.error().empty(),
                             qPrintable(QString::fromStdString(std::string(type) + ": " + sampler.error())));
                    continue;
                }
                std::mt19937_64 rng(seed * 31 + 7);
                std::vector<FinishedTrial> history;
                for (int trial = 0; trial < kTrials; ++trial) {
                    const QString where = QString("space %1 (%2), %3, trial %4")
                                              .arg(seed)
                                              .arg(QString::fromStdString(json))
                                              .arg(type)
                                              .arg(trial);
                    std::optional<Assignment> suggested;
                    try {
                        suggested = sampler.value()->suggest(space.value(), trial, history);
                    } catch (const std::exception& error) {
                        QFAIL(qPrintable(where + ": " + error.what()));
                    }
                    if (!suggested) {
                        QVERIFY2(std::string(type) == "grid", qPrintable(where + ": no suggestion"));
                        break; // the grid is done
                    }
                    const QString problem = problemWith(space.value(), *suggested);
                    QVERIFY2(problem.isEmpty(), qPrintable(where + ": " + problem));
                    // Most trials finish; some are pruned, fail or are still running.
                    const int fate = std::uniform_int_distribution<int>(0, 9)(rng);
                    const TrialState state = fate == 0                          ? TrialState::Pruned
                                             : fate == 1                        ? TrialState::Failed
                                             : fate == 2 && trial > kTrials - 6 ? TrialState::Running
                                                                                : TrialState::Complete;
                    FinishedTrial finished{trial, *suggested, hostileValue(rng, trial), state};
                    if (objectives) {
                        finished.values = {finished.value, hostileValue(rng, trial)};
                        finished.violation = std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? 0.5 : 0.0;
                    }
                    history.push_back(finished);
                }
            }
        }
        QVERIFY2(parsed >= kSpaces * 9 / 10, qPrintable(QString::number(parsed)));
    }
};

QTEST_GUILESS_MAIN(TestRandomSpaces)
#include "tst_random_spaces.moc"
