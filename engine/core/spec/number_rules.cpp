#include "spec/number_rules.h"

#include "common/machine_limits.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// The largest count a spec's int fields hold (the reader's limit for epochs, widths and the like).
constexpr double kIntFieldMaximum = 1e9;
// 2^63: an int64 field takes every integer below it.
constexpr double kInt64Limit = 9223372036854775808.0;

NumberRule real(NumberRange range, const char* expected) {
    return NumberRule{range, false, expected};
}

NumberRule count(double minimum, const char* expected, double maximum = kIntFieldMaximum) {
    return NumberRule{NumberRange{minimum, maximum, true, maximum != kInt64Limit}, true, expected};
}

const NumberRange kPositive{0.0, kInfinity, false, false};
const NumberRange kNonNegative{0.0, kInfinity, true, false};
const NumberRange kUnitOpen{0.0, 1.0, true, false};
const NumberRange kFactor{0.0, 1.0, false, true};

SpecNumberRules makeRules() {
    SpecNumberRules r;
    r.validationFraction = real(kUnitOpen, "a number from 0 to below 1");
    r.scale = real(kPositive, "a positive number");
    r.samples = count(2, "an integer of at least 2");
    r.noise = real(kNonNegative, "a number >= 0");
    r.classes = count(2, "an integer of at least 2");
    r.features = count(1, "a positive integer");
    r.limit = count(0, "an integer >= 0 (0 = all samples)", kInt64Limit);
    r.huberDelta = real(kPositive, "a positive number");
    r.outFeatures = count(1, "a positive integer");
    r.outChannels = count(1, "a positive integer");
    r.kernelSize = count(1, "a positive integer");
    r.stride = count(1, "a positive integer");
    r.padding = count(0, "an integer >= 0");
    r.eps = real(kPositive, "a positive number");
    r.batchNormMomentum = real(kFactor, "a number above 0 and at most 1");
    r.dropout = real(kUnitOpen, "a probability from 0 to below 1");
    r.negativeSlope = real(kNonNegative, "a number >= 0");
    r.eluAlpha = real(kPositive, "a positive number");
    r.lrMultiplier = real(NumberRange{0.0, 100.0, true, true}, "a multiplier from 0 to 100");
    r.warmupEpochs = real(kNonNegative, "a number of epochs >= 0");
    r.stepSize = count(1, "a positive number of epochs");
    r.gamma = real(kFactor, "a number above 0 and at most 1");
    r.plateauFactor = real(NumberRange{0.0, 1.0, false, false}, "a number between 0 and 1");
    r.plateauPatience = count(0, "an integer >= 0");
    r.threshold = real(kNonNegative, "a number >= 0");
    r.minLr = real(kNonNegative, "a number >= 0");
    r.epochs = count(1, "a positive integer");
    r.batchSize = count(1, "a positive integer", kInt64Limit);
    r.gradClipNorm = real(kNonNegative, "a number >= 0 (0 = no clipping)");
    r.earlyPatience = count(1, "a positive number of epochs");
    r.minDelta = real(kNonNegative, "a number >= 0");
    r.seed = count(0, "an integer >= 0", kInt64Limit);
    r.imageSide = count(1, "a positive number of pixels", 4096);
    r.cropPadding = count(0, "a number of pixels >= 0", 1024);
    r.rotation = real(NumberRange{0.0, 180.0}, "a number of degrees from 0 to 180");
    r.augmentScale = real(NumberRange{0.0, 10.0, false, true}, "a zoom factor above 0 and at most 10");
    r.translate = real(NumberRange{0.0, 1.0}, "a fraction of the image from 0 to 1");
    r.brightness = real(NumberRange{0.0, 10.0}, "a number from 0 to 10");
    r.contrast = real(NumberRange{0.0, 1.0}, "a number from 0 to 1");
    r.augmentNoise = real(NumberRange{0.0, 10.0}, "a standard deviation from 0 to 10");
    r.cutout = count(0, "a number of pixels >= 0", 4096);
    r.mixup = real(NumberRange{0.0, 100.0}, "a Beta distribution's alpha from 0 to 100 (0 = off)");
    return r;
}

StudyNumberRules makeStudyRules() {
    StudyNumberRules r;
    r.samplerSeed = count(0, "an integer >= 0", kInt64Limit);
    r.samplerStartupTrials = count(0, "a number of trials >= 0");
    r.prunerMinEpochs = count(1, "a positive number of epochs");
    r.prunerReductionFactor = count(2, "an integer of at least 2", 100);
    r.prunerStartupTrials = count(0, "a number of trials >= 0");
    r.prunerWarmupEpochs = count(0, "a number of epochs >= 0");
    r.budgetTrials = count(0, "a number of trials >= 0 (0 = no limit)");
    r.budgetSeconds = real(kNonNegative, "a number of seconds >= 0 (0 = no limit)");
    r.budgetMinutes = real(kNonNegative, "a number of minutes >= 0 (0 = no limit)");
    r.parallel = count(1, "a positive number of trials", kMaxParallel);
    // A worker beats every few seconds (at most every grace/4), so a grace under a second would fail
    // trials that are alive.
    r.heartbeatGraceSeconds = real(NumberRange{1.0, 86400.0 * 7}, "a number of seconds from 1 to 604800");
    r.heartbeatMaxRetries = count(0, "a number of retries >= 0", 100);
    r.askGraceSeconds = real(kNonNegative, "a number of seconds >= 0 (0 = they never go stale)");
    return r;
}

RaceNumberRules makeRaceRules() {
    RaceNumberRules r;
    r.targetLoss = real(NumberRange{-kInfinity, kInfinity, false, false}, "a number (a validation loss)");
    r.rangeMinLr = real(kPositive, "a positive learning rate");
    r.rangeMaxLr = real(kPositive, "a positive learning rate");
    r.rangeSteps = NumberRule{NumberRange{10, 100000}, true, "an integer from 10 to 100000"};
    return r;
}

PlaygroundNumberRules makePlaygroundRules() {
    PlaygroundNumberRules r;
    r.conditionNumber = real(NumberRange{1.0, 1e6}, "a number from 1 to 1000000");
    r.steps = NumberRule{NumberRange{10, 5000}, true, "an integer from 10 to 5000"};
    r.stepsPerFrame = NumberRule{NumberRange{1, 50}, true, "an integer from 1 to 50"};
    return r;
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

void setProblem(std::string* problem, std::string text) {
    if (problem)
        *problem = std::move(text);
}

} // namespace

bool NumberRange::contains(double value) const {
    if (!std::isfinite(value))
        return false;
    const bool aboveMinimum = minimumIncluded ? value >= minimum : value > minimum;
    const bool belowMaximum = maximumIncluded ? value <= maximum : value < maximum;
    return aboveMinimum && belowMaximum;
}

bool NumberRule::accepts(double value) const {
    return range.contains(value) && (!integer || std::floor(value) == value);
}

bool NumberRule::acceptsInteger(int64_t value) const {
    if (range.maximum >= kInt64Limit && value > 0)
        return NumberRange{range.minimum, kInfinity, range.minimumIncluded, false}.contains(double(value));
    return accepts(static_cast<double>(value));
}

std::string NumberRule::expectedFor(double value) const {
    const bool pastLimit = integer && std::isfinite(range.maximum) && range.maximum < kInt64Limit &&
                           std::floor(value) == value && value > range.maximum;
    return pastLimit
               ? std::string(expected) + " of at most " + std::to_string(static_cast<int64_t>(range.maximum))
               : std::string(expected);
}

const SpecNumberRules& specNumberRules() {
    static const SpecNumberRules rules = makeRules();
    return rules;
}

const StudyNumberRules& studyNumberRules() {
    static const StudyNumberRules rules = makeStudyRules();
    return rules;
}

const RaceNumberRules& raceNumberRules() {
    static const RaceNumberRules rules = makeRaceRules();
    return rules;
}

const PlaygroundNumberRules& playgroundNumberRules() {
    static const PlaygroundNumberRules rules = makePlaygroundRules();
    return rules;
}

std::optional<TypedNumber> parseTypedNumber(std::string_view text, bool integer, std::string* problem) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    if (text.empty()) {
        setProblem(problem, "empty");
        return std::nullopt;
    }
    // from_chars takes neither a leading '+' nor digit groups.
    std::string plain;
    plain.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '_') {
            if (i == 0 || i + 1 == text.size() || !isDigit(text[i - 1]) || !isDigit(text[i + 1])) {
                setProblem(problem, "an underscore may only group digits, as in 1_000");
                return std::nullopt;
            }
            continue;
        }
        if (c == '+' && i == 0)
            continue;
        plain += c;
    }
    const char* begin = plain.data();
    const char* end = plain.data() + plain.size();
    TypedNumber number;
    bool plainInteger = !plain.empty();
    for (size_t i = 0; i < plain.size(); ++i)
        plainInteger = plainInteger && (isDigit(plain[i]) || (i == 0 && plain[i] == '-' && plain.size() > 1));
    if (integer && plainInteger) {
        const auto [rest, error] = std::from_chars(begin, end, number.integer);
        if (error == std::errc::result_out_of_range) {
            setProblem(problem, "beyond the largest integer TuneLab stores (2^63 - 1)");
            return std::nullopt;
        }
        if (error != std::errc() || rest != end) {
            setProblem(problem, "not a number");
            return std::nullopt;
        }
        number.value = static_cast<double>(number.integer);
        return number;
    }
    const auto [rest, error] = std::from_chars(begin, end, number.value);
    if (error == std::errc::result_out_of_range) {
        setProblem(problem, "beyond the range of a number");
        return std::nullopt;
    }
    if (error != std::errc() || rest != end || !std::isfinite(number.value)) {
        setProblem(problem, "not a number");
        return std::nullopt;
    }
    if (integer) {
        if (std::floor(number.value) != number.value) {
            setProblem(problem, "not a whole number");
            return std::nullopt;
        }
        if (std::abs(number.value) >= kInt64Limit) {
            setProblem(problem, "beyond the largest integer TuneLab stores (2^63 - 1)");
            return std::nullopt;
        }
        number.integer = static_cast<int64_t>(number.value);
    }
    return number;
}

std::string typedNumberProblem(std::string_view text, const NumberRule& rule, TypedNumber* value) {
    std::string problem;
    const auto parsed = parseTypedNumber(text, rule.integer, &problem);
    std::string shown(text);
    if (shown.size() > 40)
        shown = shown.substr(0, 40) + "…";
    if (!parsed)
        return "expected " + std::string(rule.expected) + ", got " + (shown.empty() ? "nothing" : shown) +
               (problem == "not a number" || problem == "empty" ? "" : " (" + problem + ")");
    if (!rule.accepts(parsed->value))
        return "expected " + rule.expectedFor(parsed->value) + ", got " + shown;
    if (value)
        *value = *parsed;
    return {};
}

} // namespace tunelab
