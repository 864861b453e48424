// Built-in toy datasets, so that a first experiment needs no files. Every draw comes from one
// seeded std::mt19937_64 through our own uniform and normal transforms: the standard library's
// distributions are implementation-defined, and a seed should give the same data everywhere.

#include "data/dataset.h"

#include <cmath>
#include <cstdio>
#include <random>

namespace tunelab {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMaxSamples = 10'000'000;
constexpr int kMaxFeatures = 10'000;
constexpr int64_t kMaxGeneratedValues = 200'000'000; // samples x features, 800 MB of floats
constexpr int kMaxSpiralArms = 16;
constexpr int kMaxBlobs = 1000;

class Random {
public:
    // Mixed with a constant so that generating and splitting with the same run seed draw
    // unrelated streams (a shared stream would tie a point's position to its side of the split).
    explicit Random(uint64_t seed)
        : m_engine(seed ^ 0x9e3779b97f4a7c15ULL) {}

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(m_engine() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    // Standard normal by Box-Muller, keeping the second value for the next call.
    double normal() {
        if (m_hasSpare) {
            m_hasSpare = false;
            return m_spare;
        }
        const double u1 = 1.0 - uniform(); // (0, 1]: log stays finite
        const double u2 = uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        m_spare = radius * std::sin(2.0 * kPi * u2);
        m_hasSpare = true;
        return radius * std::cos(2.0 * kPi * u2);
    }

private:
    std::mt19937_64 m_engine;
    double m_spare = 0.0;
    bool m_hasSpare = false;
};

std::string formatSetting(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value);
    return text;
}

std::string checkParameters(const DataSpec& spec, int classes, int features) {
    if (spec.samples < 2)
        return "data.samples: expected at least 2 samples, got " + std::to_string(spec.samples);
    if (spec.samples > kMaxSamples)
        return "data.samples: at most " + std::to_string(kMaxSamples) + " samples can be generated, got " +
               std::to_string(spec.samples);
    if (!std::isfinite(spec.noise) || spec.noise < 0.0)
        return "data.noise: expected a non-negative number, got " + formatSetting(spec.noise);
    if (spec.kind == DataKind::Spirals && (classes < 2 || classes > kMaxSpiralArms))
        return "data.classes: expected 2 to " + std::to_string(kMaxSpiralArms) + " spiral arms, got " +
               std::to_string(classes);
    if (spec.kind == DataKind::Blobs && (classes < 2 || classes > kMaxBlobs))
        return "data.classes: expected 2 to " + std::to_string(kMaxBlobs) + " blobs, got " +
               std::to_string(classes);
    if (classes > spec.samples)
        return "data.classes: " + std::to_string(classes) + " classes need at least as many samples, got " +
               std::to_string(spec.samples);
    if (features < 1 || features > kMaxFeatures)
        return "data.features: expected 1 to " + std::to_string(kMaxFeatures) + " features, got " +
               std::to_string(features);
    if (spec.samples * features > kMaxGeneratedValues)
        return "data.samples: " + std::to_string(spec.samples) + " samples of " + std::to_string(features) +
               " features are more than the " + std::to_string(kMaxGeneratedValues) +
               " values that can be generated";
    return {};
}

std::string describe(const DataSpec& spec, int classes, int features) {
    std::string what;
    switch (spec.kind) {
    case DataKind::Spirals:
        what = classes == 2 ? "two spirals" : std::to_string(classes) + " spirals";
        break;
    case DataKind::Moons:
        what = "two moons";
        break;
    case DataKind::Circles:
        what = "two circles";
        break;
    case DataKind::Xor:
        what = "xor";
        break;
    case DataKind::Blobs:
        what = std::to_string(classes) + " blobs in " + std::to_string(features) +
               (features == 1 ? " dimension" : " dimensions");
        break;
    case DataKind::Regression:
        what = "regression on " + std::to_string(features) + (features == 1 ? " feature" : " features");
        break;
    default:
        what = toString(spec.kind);
        break;
    }
    return what + " (" + std::to_string(spec.samples) + " samples, noise " + formatSetting(spec.noise) + ")";
}

// Row i belongs to class i % classes: the classes interleave and their sizes differ by at most one.
void fillPlanar(Dataset& data, const DataSpec& spec, int classes, Random& random) {
    const double noise = spec.noise;
    for (int64_t i = 0; i < data.rows; ++i) {
        const int label = static_cast<int>(i % classes);
        double x = 0.0, y = 0.0;
        switch (spec.kind) {
        case DataKind::Spirals: {
            // sqrt spreads points evenly along the arm instead of crowding its centre.
            const double t = std::sqrt(random.uniform()) * 3.0 * kPi;
            const double angle = t + 2.0 * kPi * label / classes;
            x = t * std::cos(angle) / (3.0 * kPi);
            y = t * std::sin(angle) / (3.0 * kPi);
            break;
        }
        case DataKind::Moons: {
            const double t = random.uniform() * kPi;
            x = label == 0 ? std::cos(t) : 1.0 - std::cos(t);
            y = label == 0 ? std::sin(t) : 0.5 - std::sin(t);
            break;
        }
        case DataKind::Circles: {
            const double t = random.uniform() * 2.0 * kPi;
            const double radius = label == 0 ? 1.0 : 0.5;
            x = radius * std::cos(t);
            y = radius * std::sin(t);
            break;
        }
        case DataKind::Xor: {
            // Draw inside the label's quadrants, so the classes stay balanced; the jitter added
            // afterwards lets points near the axes cross over, as real noise would.
            do {
                x = random.uniform(-1.0, 1.0);
                y = random.uniform(-1.0, 1.0);
            } while (x == 0.0 || y == 0.0);
            if ((x * y > 0.0) != (label == 1))
                y = -y;
            break;
        }
        default:
            break;
        }
        data.features[static_cast<size_t>(2 * i)] = static_cast<float>(x + noise * random.normal());
        data.features[static_cast<size_t>(2 * i + 1)] = static_cast<float>(y + noise * random.normal());
        data.targets[static_cast<size_t>(i)] = static_cast<float>(label);
    }
}

void fillBlobs(Dataset& data, const DataSpec& spec, int classes, int features, Random& random) {
    std::vector<double> centers(static_cast<size_t>(classes) * static_cast<size_t>(features));
    for (double& center : centers)
        center = random.uniform(-5.0, 5.0);
    // noise 0.1 (the default) gives unit-variance blobs, noise 0.3 three times wider.
    const double deviation = spec.noise / 0.1;
    for (int64_t i = 0; i < data.rows; ++i) {
        const int label = static_cast<int>(i % classes);
        const double* center = centers.data() + static_cast<size_t>(label) * static_cast<size_t>(features);
        float* row = data.features.data() + static_cast<size_t>(i) * static_cast<size_t>(features);
        for (int j = 0; j < features; ++j)
            row[j] = static_cast<float>(center[j] + deviation * random.normal());
        data.targets[static_cast<size_t>(i)] = static_cast<float>(label);
    }
}

void fillRegression(Dataset& data, const DataSpec& spec, int features, Random& random) {
    std::vector<double> weights(static_cast<size_t>(features));
    for (double& weight : weights)
        weight = random.uniform(-1.0, 1.0);
    for (int64_t i = 0; i < data.rows; ++i) {
        float* row = data.features.data() + static_cast<size_t>(i) * static_cast<size_t>(features);
        double y = 0.0;
        for (int j = 0; j < features; ++j) {
            const double x = random.uniform(-1.0, 1.0);
            row[j] = static_cast<float>(x);
            y += weights[static_cast<size_t>(j)] * x;
        }
        // The sine term keeps a linear model from fitting it perfectly.
        y += std::sin(3.0 * row[0]) + spec.noise * random.normal();
        data.targets[static_cast<size_t>(i)] = static_cast<float>(y);
    }
}

} // namespace

Result<Dataset> generateDataset(const DataSpec& spec, uint64_t seed) {
    const bool planar = spec.kind == DataKind::Spirals || spec.kind == DataKind::Moons ||
                        spec.kind == DataKind::Circles || spec.kind == DataKind::Xor;
    if (!planar && spec.kind != DataKind::Blobs && spec.kind != DataKind::Regression)
        return Result<Dataset>::failure(std::string("data.kind: ") + toString(spec.kind) +
                                        " data is loaded from files, not generated");
    const int classes = spec.kind == DataKind::Spirals || spec.kind == DataKind::Blobs ? spec.classes
                        : spec.kind == DataKind::Regression                            ? 0
                                                                                       : 2;
    const int features =
        spec.kind == DataKind::Blobs || spec.kind == DataKind::Regression ? spec.features : 2;
    if (const std::string problem = checkParameters(spec, classes, features); !problem.empty())
        return Result<Dataset>::failure(problem);

    try {
        Dataset data;
        data.source = describe(spec, classes, features);
        data.task = spec.kind == DataKind::Regression ? TaskKind::Regression : TaskKind::Classification;
        data.classes = classes;
        data.rows = spec.samples;
        data.sampleShape = {features};
        data.features.resize(static_cast<size_t>(spec.samples) * static_cast<size_t>(features));
        data.targets.resize(static_cast<size_t>(spec.samples));
        data.featureNames.reserve(static_cast<size_t>(features));
        for (int j = 0; j < features; ++j)
            data.featureNames.push_back("x" + std::to_string(j));

        Random random(seed);
        if (planar)
            fillPlanar(data, spec, classes, random);
        else if (spec.kind == DataKind::Blobs)
            fillBlobs(data, spec, classes, features, random);
        else
            fillRegression(data, spec, features, random);
        return data;
    } catch (const std::exception& error) {
        return Result<Dataset>::failure(std::string("data: cannot generate ") + toString(spec.kind) +
                                        " data: " + error.what());
    }
}

} // namespace tunelab
