#pragma once

// The limits of the numbers an experiment spec holds, in one place: the spec reader refuses what a
// rule refuses, and the window's fields check what the user types against the same rule and show
// its words. Optimizer keys carry their ranges in the optimizer catalog, built from the same types.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tunelab {

// Which values a number accepts: from minimum to maximum, each end included or not.
struct NumberRange {
    double minimum = 0.0;
    double maximum = 0.0; // infinity for no upper bound
    bool minimumIncluded = true;
    bool maximumIncluded = true;

    bool contains(double value) const;
};

// A number a spec key accepts, and how an error names a valid one ("a positive integer").
struct NumberRule {
    NumberRange range;
    bool integer = false;
    const char* expected = "";

    // Finite, inside the range and whole where the rule wants an integer.
    bool accepts(double value) const;
    // The same for an integer read exactly: every int64 is below a maximum of 2^63, even those a
    // double rounds up to it.
    bool acceptsInteger(int64_t value) const;
    // How a refusal of `value` names a valid one: `expected`, with the limit when a whole number is
    // past it ("a positive integer of at most 1000000000").
    std::string expectedFor(double value) const;
};

// The rules of the spec's number keys outside the optimizer, by section.
struct SpecNumberRules {
    NumberRule validationFraction, scale, samples, noise, classes, features, limit;
    NumberRule huberDelta;
    NumberRule outFeatures, outChannels, kernelSize, stride, padding, eps, batchNormMomentum, dropout,
        negativeSlope, eluAlpha, lrMultiplier;
    NumberRule warmupEpochs, stepSize, gamma, plateauFactor, plateauPatience, threshold, minLr;
    NumberRule epochs, batchSize, gradClipNorm, earlyPatience, minDelta, seed;
    NumberRule imageSide;
    NumberRule cropPadding, rotation, augmentScale, translate, brightness, contrast, augmentNoise, cutout,
        mixup;
};
const SpecNumberRules& specNumberRules();

// The rules of a study file's number keys (docs/search-space.md): its sampler, pruner, budget and
// parallel trials. The window's Search tab checks its fields against the same rules.
struct StudyNumberRules {
    NumberRule samplerSeed, samplerStartupTrials;
    NumberRule prunerMinEpochs, prunerReductionFactor, prunerStartupTrials, prunerWarmupEpochs;
    NumberRule budgetTrials, budgetSeconds, budgetMinutes, parallel;
    NumberRule heartbeatGraceSeconds, heartbeatMaxRetries, askGraceSeconds;
};
const StudyNumberRules& studyNumberRules();

// The rules of a race file's numbers (docs/race.md) and of the learning-rate range test, which the
// race window and the range-test dialog check their fields against.
struct RaceNumberRules {
    NumberRule targetLoss, rangeMinLr, rangeMaxLr, rangeSteps;
};
const RaceNumberRules& raceNumberRules();

// The playground's numbers: the ill-conditioned quadratic's condition number, the steps each path
// takes and the steps shown per animation frame.
struct PlaygroundNumberRules {
    NumberRule conditionNumber, steps, stepsPerFrame;
};
const PlaygroundNumberRules& playgroundNumberRules();

// A number as a person types it into a field: "1e-4", "3E-4", ".001", "-2", "1_000" (an underscore
// between digits groups them), with spaces around it. Refused with the reason: anything else, a value
// beyond a double's range, and for `integer` a fraction ("2.5"); "1e3" is the integer 1000.
struct TypedNumber {
    double value = 0.0;
    int64_t integer = 0; // exact for integers up to 2^63 - 1
};
std::optional<TypedNumber> parseTypedNumber(std::string_view text, bool integer,
                                            std::string* problem = nullptr);

// Why `text` is not a value `rule` accepts ("expected a positive integer, got 0"), or empty when it is;
// `value` receives it when it is.
std::string typedNumberProblem(std::string_view text, const NumberRule& rule, TypedNumber* value = nullptr);

} // namespace tunelab
