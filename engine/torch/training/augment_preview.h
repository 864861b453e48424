#pragma once

// A look at what the "augment" section does to training images, for the window's preview grid. Plain C++:
// the pixels come back as floats, and LibTorch stays inside augment_preview.cpp.

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"

#include <cstdint>
#include <vector>

namespace tunelab {

// One sample of the preview: [channels, height, width] floats, row-major, in the data's own units
// (0..1 for image files; a CSV's values times data.scale).
struct PreviewSample {
    std::vector<float> pixels;
    int64_t row = 0; // the dataset row it shows
    float target = 0.0f;
    // Mixup blends the sample with a partner: mix * this one + (1 - mix) * the partner, labels too.
    float partnerTarget = 0.0f;
    double mix = 1.0;
};

struct AugmentPreview {
    Shape sampleShape;                    // [channels, height, width]
    std::vector<PreviewSample> original;  // the rows as the data holds them
    std::vector<PreviewSample> augmented; // the same rows after one draw of spec.augment
};

// The first `count` training rows of the experiment's seeded split, before and after its augment
// section, drawn as the trainer's Augmenter draws a batch of those rows in the first epoch of a run
// seeded with `seed` (the same seed gives the same images). With data.standardize the draw works on
// standardized values, as in training, and the result is mapped back to the data's units for display.
// Fails with a message when the samples are not images or the section does not suit the data
// (augmentationErrors: each message names its key).
Result<AugmentPreview> augmentPreview(const ExperimentSpec& spec, const Dataset& data, int count,
                                      uint64_t seed);

} // namespace tunelab
