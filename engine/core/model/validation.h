#pragma once

#include "common/result.h"
#include "data/dataset.h"
#include "model/shape_inference.h"
#include "spec/spec.h"

#include <memory>

namespace tunelab {

// Everything a check before training finds: the data as loaded and the network's layer table.
struct ExperimentCheck {
    std::shared_ptr<const Dataset> data; // shared with the dataset cache: training reuses it
    ShapeReport shapes;
};

// Loads the data (no training) and infers the network's shapes against it. Fails with the data
// error, or with every shape error; on success `shapes.ok()` holds.
Result<ExperimentCheck> checkExperiment(const ExperimentSpec& spec);

// The "augment" section against the samples it changes: flips, crops, rotation, zoom, shifts and
// cutout need images ([channels, height, width]) large enough for them, mixup the cross_entropy loss
// and no teacher. Each message names its key; empty when everything fits.
std::vector<std::string> augmentationErrors(const ExperimentSpec& spec, const Shape& sampleShape);

// The loss must suit the task: cross_entropy/bce_with_logits for classification, mse/l1/huber for
// regression (bce_with_logits only for two classes). Empty when it does.
std::string lossTaskError(LossType loss, TaskKind task, int classes);

} // namespace tunelab
