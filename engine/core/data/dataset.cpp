#include "data/dataset.h"

#include "common/checked_math.h"
#include <algorithm>
#include <cmath>
#include <exception>
#include <new>
#include <numeric>
#include <random>

namespace tunelab {

namespace {

// An unbiased draw from [0, bound], by rejecting the last partial block of 2^64.
// std::uniform_int_distribution is implementation-defined, so the same seed would split
// differently with another standard library.
uint64_t drawAtMost(std::mt19937_64& engine, uint64_t bound) {
    if (bound == UINT64_MAX)
        return engine();
    const uint64_t range = bound + 1;
    while (true) {
        const uint64_t value = engine();
        const uint64_t draw = value % range;
        if (value - draw <= UINT64_MAX - bound)
            return draw;
    }
}

Result<Dataset> dispatch(const DataSpec& spec, uint64_t seed, const LoadCancel* cancel) {
    switch (spec.kind) {
    case DataKind::Csv:
        return loadCsvDataset(spec, cancel);
    case DataKind::Mnist:
        return loadMnistDataset(spec);
    case DataKind::Cifar10:
        return loadCifar10Dataset(spec);
    case DataKind::ImageFolder:
        return loadImageFolderDataset(spec, cancel);
    case DataKind::Spirals:
    case DataKind::Moons:
    case DataKind::Circles:
    case DataKind::Xor:
    case DataKind::Blobs:
    case DataKind::Regression:
        break;
    }
    return generateDataset(spec, seed);
}

Result<Dataset> loadAndShape(const DataSpec& spec, uint64_t seed, const LoadCancel* cancel) {
    auto loaded = dispatch(spec, seed, cancel);
    if (!loaded.ok())
        return loaded;
    Dataset data = loaded.take();
    if (!spec.inputShape.empty()) {
        if (std::any_of(spec.inputShape.begin(), spec.inputShape.end(), [](int64_t dim) { return dim <= 0; }))
            return Result<Dataset>::failure("data.input_shape: " + formatShape(spec.inputShape) +
                                            " must hold positive sizes");
        const int64_t wanted = shapeElements(spec.inputShape);
        const int64_t have = shapeElements(data.sampleShape);
        if (wanted != have)
            return Result<Dataset>::failure("data.input_shape: " + formatShape(spec.inputShape) + " has " +
                                            std::to_string(wanted) + " elements but each sample has " +
                                            std::to_string(have) + " features");
        data.sampleShape = spec.inputShape;
    }
    if (!std::isfinite(spec.scale) || spec.scale <= 0.0)
        return Result<Dataset>::failure("data.scale: expected a positive number, got " +
                                        std::to_string(spec.scale));
    if (spec.scale != 1.0) {
        const auto factor = static_cast<float>(spec.scale);
        for (float& value : data.features)
            value *= factor;
    }
    return data;
}

} // namespace

int64_t shapeElements(const Shape& shape) {
    int64_t elements = 1;
    for (const int64_t dim : shape)
        elements = saturatingMultiply(elements, dim);
    return elements;
}

std::string formatShape(const Shape& shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0)
            text += ", ";
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

bool isCancelledLoad(const std::vector<std::string>& errors) {
    return errors.size() == 1 && errors[0] == kDataLoadCancelled;
}

Result<Dataset> loadDataset(const DataSpec& spec, uint64_t seed, const LoadCancel* cancel) {
    // Callers run this on worker threads; nothing may escape as an exception.
    try {
        if (loadCancelled(cancel))
            return Result<Dataset>::failure(kDataLoadCancelled);
        return loadAndShape(spec, seed, cancel);
    } catch (const std::bad_alloc&) {
        return Result<Dataset>::failure(std::string("data: not enough memory to load the ") +
                                        toString(spec.kind) + " data");
    } catch (const std::exception& error) {
        return Result<Dataset>::failure(std::string("data: ") + error.what());
    } catch (...) {
        return Result<Dataset>::failure("data: unexpected error while loading the data");
    }
}

DataSplit splitDataset(int64_t rows, double validationFraction, uint64_t seed) {
    DataSplit split;
    if (rows <= 0)
        return split;
    std::vector<int64_t> order(static_cast<size_t>(rows));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::mt19937_64 engine(seed);
    for (int64_t i = rows - 1; i > 0; --i) {
        const auto j = static_cast<int64_t>(drawAtMost(engine, static_cast<uint64_t>(i)));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    int64_t validationRows = 0;
    if (std::isfinite(validationFraction) && validationFraction > 0.0 && rows > 1) {
        validationRows = static_cast<int64_t>(std::llround(std::min(validationFraction, 1.0) * double(rows)));
        // At least one row on each side, so a tiny fraction still validates and training never starves.
        validationRows = std::clamp<int64_t>(validationRows, 1, rows - 1);
    }
    split.validation.assign(order.begin(), order.begin() + validationRows);
    split.train.assign(order.begin() + validationRows, order.end());
    // Ascending order keeps the contents of each part independent of the shuffle's visiting order.
    std::sort(split.validation.begin(), split.validation.end());
    std::sort(split.train.begin(), split.train.end());
    return split;
}

FeatureStandardization featureStandardization(const Dataset& data,
                                              const std::vector<int64_t>& statisticsRows) {
    FeatureStandardization z;
    if (data.rows <= 0 || data.features.empty())
        return z;
    const auto width = static_cast<size_t>(data.features.size() / static_cast<size_t>(data.rows));
    if (width == 0)
        return z;
    std::vector<int64_t> rows;
    rows.reserve(statisticsRows.size());
    for (const int64_t row : statisticsRows) {
        if (row >= 0 && row < data.rows)
            rows.push_back(row);
    }
    if (rows.empty())
        return z;

    // Two passes in double: one-pass sums lose the variance of large, nearly constant features.
    std::vector<double> mean(width, 0.0), variance(width, 0.0);
    for (const int64_t row : rows) {
        const float* values = data.features.data() + static_cast<size_t>(row) * width;
        for (size_t j = 0; j < width; ++j)
            mean[j] += values[j];
    }
    for (double& m : mean)
        m /= double(rows.size());
    for (const int64_t row : rows) {
        const float* values = data.features.data() + static_cast<size_t>(row) * width;
        for (size_t j = 0; j < width; ++j) {
            const double delta = values[j] - mean[j];
            variance[j] += delta * delta;
        }
    }
    z.shift.resize(width);
    z.factor.resize(width);
    for (size_t j = 0; j < width; ++j) {
        const double deviation = std::sqrt(variance[j] / double(rows.size()));
        z.shift[j] = static_cast<float>(mean[j]);
        // Rounding leaves a constant column with a deviation of a few ulps; dividing by it would blow noise
        // up.
        const bool spread = deviation > 1e-7 * std::max(1.0, std::fabs(mean[j]));
        z.factor[j] = spread ? static_cast<float>(1.0 / deviation) : 1.0f;
    }
    return z;
}

void standardizeFeatures(Dataset& data, const std::vector<int64_t>& statisticsRows) {
    const FeatureStandardization z = featureStandardization(data, statisticsRows);
    const size_t width = z.shift.size();
    if (width == 0)
        return;
    for (int64_t row = 0; row < data.rows; ++row) {
        float* values = data.features.data() + static_cast<size_t>(row) * width;
        for (size_t j = 0; j < width; ++j)
            values[j] = (values[j] - z.shift[j]) * z.factor[j];
    }
}

} // namespace tunelab
