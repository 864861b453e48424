#pragma once

#include "common/result.h"
#include "spec/spec.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace tunelab {

using Shape = std::vector<int64_t>; // one sample's shape, without the batch dimension

// The number of elements; kSaturated (common/checked_math.h) when it does not fit in an int64.
int64_t shapeElements(const Shape& shape);
std::string formatShape(const Shape& shape); // "[1, 28, 28]"

// A dataset in plain memory: rows of features (row-major, each row shapeElements(sampleShape)
// floats) and one target per row (a class index stored as float, or a regression value).
struct Dataset {
    std::string source; // "digits.csv", "two spirals", ...
    TaskKind task = TaskKind::Classification;
    Shape sampleShape;
    int64_t rows = 0;
    int classes = 0; // 0 for regression
    std::vector<float> features;
    std::vector<float> targets;
    std::vector<std::string> featureNames; // csv header or generated names
    std::vector<std::string> classNames;   // image folders: the class folders' names, by class index
    // What loaded but may not be what was meant, one sentence each (a saved row index read as a
    // feature); the window, `validate` and the run's message show them.
    std::vector<std::string> warnings;
};

// Set from another thread to stop a load under way (the window closing, newer settings): the
// readers of large inputs (CSV files, image folders) look at it as they go, and the load then fails
// with kDataLoadCancelled.
using LoadCancel = std::atomic<bool>;
inline constexpr const char* kDataLoadCancelled = "data: loading was cancelled";
bool isCancelledLoad(const std::vector<std::string>& errors); // a Result's errors()
inline bool loadCancelled(const LoadCancel* cancel) {
    return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// Loads or generates the data a spec describes and applies inputShape and scale
// (not standardization: that needs the split). Errors name the file, line and reason.
Result<Dataset> loadDataset(const DataSpec& spec, uint64_t seed, const LoadCancel* cancel = nullptr);

Result<Dataset> loadCsvDataset(const DataSpec& spec, const LoadCancel* cancel = nullptr);
Result<Dataset> generateDataset(const DataSpec& spec, uint64_t seed);
Result<Dataset> loadMnistDataset(const DataSpec& spec);   // train-images-idx3-ubyte[.gz] + labels
Result<Dataset> loadCifar10Dataset(const DataSpec& spec); // data_batch_1..5.bin (the training batches)
// One sub-folder of images per class.
Result<Dataset> loadImageFolderDataset(const DataSpec& spec, const LoadCancel* cancel = nullptr);

struct DataSplit {
    std::vector<int64_t> train;
    std::vector<int64_t> validation;
};

// Seeded shuffle, then the first round(fraction * rows) rows validate. Same seed, same split.
DataSplit splitDataset(int64_t rows, double validationFraction, uint64_t seed);

// What standardization does to each feature: value' = (value - shift[j]) * factor[j], from the mean
// and population deviation of the given rows (factor 1 where a feature has no spread). Empty when
// there are no rows or features.
struct FeatureStandardization {
    std::vector<float> shift;
    std::vector<float> factor;
};
FeatureStandardization featureStandardization(const Dataset& data,
                                              const std::vector<int64_t>& statisticsRows);

// Z-scores every feature with the mean and standard deviation of the given rows
// (features with zero spread are only centred).
void standardizeFeatures(Dataset& data, const std::vector<int64_t>& statisticsRows);

} // namespace tunelab
