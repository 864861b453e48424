#include "training/augment_preview.h"

#include "model/validation.h"
#include "training/augmentation.h"

#include <algorithm>
#include <cstring>
#include <exception>

namespace tunelab {

namespace {

Result<AugmentPreview> drawPreview(const ExperimentSpec& spec, const Dataset& data, int count,
                                   uint64_t seed) {
    const DataSplit split = splitDataset(data.rows, spec.data.validationFraction, spec.seed);
    const auto rows = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(count), split.train.size()));
    if (rows == 0)
        return Result<AugmentPreview>::failure("data: no training rows to show");
    const int64_t width = shapeElements(data.sampleShape);
    AugmentPreview preview;
    preview.sampleShape = data.sampleShape;
    std::vector<float> batch(static_cast<size_t>(rows * width));
    std::vector<float> targets(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
        const int64_t row = split.train[static_cast<size_t>(i)];
        const float* pixels = data.features.data() + row * width;
        std::copy(pixels, pixels + width, batch.begin() + i * width);
        targets[static_cast<size_t>(i)] = data.targets[static_cast<size_t>(row)];
        PreviewSample sample;
        sample.pixels.assign(pixels, pixels + width);
        sample.row = row;
        sample.target = targets[static_cast<size_t>(i)];
        sample.partnerTarget = sample.target;
        preview.original.push_back(std::move(sample));
    }

    // Training augments standardized values; so does the preview, with the training rows' statistics.
    FeatureStandardization z;
    if (spec.data.standardize)
        z = featureStandardization(data, split.train);
    const bool standardized = static_cast<int64_t>(z.shift.size()) == width;
    if (standardized) {
        for (int64_t i = 0; i < rows; ++i) {
            for (int64_t j = 0; j < width; ++j) {
                float& value = batch[static_cast<size_t>(i * width + j)];
                value = (value - z.shift[static_cast<size_t>(j)]) * z.factor[static_cast<size_t>(j)];
            }
        }
    }

    std::vector<int64_t> shape{rows};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    detail::TrainingBatch input;
    input.x = torch::from_blob(batch.data(), shape, torch::kFloat).clone();
    input.y = torch::from_blob(targets.data(), {rows}, torch::kFloat).clone();
    detail::Augmenter augmenter(spec.augment, seed);
    const detail::TrainingBatch output = augmenter.apply(std::move(input), 0, rows);
    const torch::Tensor x = output.x.to(torch::kFloat).contiguous();
    const torch::Tensor partners =
        output.partnerY.defined() ? output.partnerY.to(torch::kFloat).contiguous() : output.y.contiguous();
    const float* augmented = x.data_ptr<float>();
    const float* partnerTargets = partners.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i) {
        PreviewSample sample = preview.original[static_cast<size_t>(i)];
        std::memcpy(sample.pixels.data(), augmented + i * width, static_cast<size_t>(width) * sizeof(float));
        if (standardized) {
            for (int64_t j = 0; j < width; ++j) {
                float& value = sample.pixels[static_cast<size_t>(j)];
                value = value / z.factor[static_cast<size_t>(j)] + z.shift[static_cast<size_t>(j)];
            }
        }
        sample.partnerTarget = partnerTargets[i];
        sample.mix = output.mix;
        preview.augmented.push_back(std::move(sample));
    }
    return preview;
}

} // namespace

Result<AugmentPreview> augmentPreview(const ExperimentSpec& spec, const Dataset& data, int count,
                                      uint64_t seed) {
    if (data.sampleShape.size() != 3)
        return Result<AugmentPreview>::failure(
            "the preview shows image samples ([channels, height, width]); this experiment's samples are " +
            formatShape(data.sampleShape) +
            " (data.input_shape reads table columns as images, like [1, 8, 8])");
    if (std::vector<std::string> errors = augmentationErrors(spec, data.sampleShape); !errors.empty())
        return Result<AugmentPreview>(Errors{std::move(errors)});
    if (count <= 0 || data.rows <= 0 ||
        static_cast<int64_t>(data.features.size()) != data.rows * shapeElements(data.sampleShape))
        return Result<AugmentPreview>::failure("data: no samples to show");
    try {
        return drawPreview(spec, data, count, seed);
    } catch (const std::exception& error) { // LibTorch's own errors, as the caller's message
        return Result<AugmentPreview>::failure(std::string("augment: ") + error.what());
    }
}

} // namespace tunelab
