#include "model/validation.h"

#include "data/dataset_cache.h"

#include <algorithm>

namespace tunelab {

std::string lossTaskError(LossType loss, TaskKind task, int classes) {
    const bool classifier = loss == LossType::CrossEntropy || loss == LossType::BceWithLogits;
    if (task == TaskKind::Classification && !classifier)
        return std::string("loss.type: ") + toString(loss) +
               " is a regression loss but the data is a classification task; use cross_entropy";
    if (task == TaskKind::Regression && classifier)
        return std::string("loss.type: ") + toString(loss) +
               " is a classification loss but the data is a regression task; use mse, l1 or huber";
    if (loss == LossType::BceWithLogits && classes > 2)
        return "loss.type: bce_with_logits is for two classes but the data has " + std::to_string(classes) +
               "; use cross_entropy";
    return {};
}

std::vector<std::string> augmentationErrors(const ExperimentSpec& spec, const Shape& sampleShape) {
    const AugmentSpec& augment = spec.augment;
    std::vector<std::string> errors;
    const bool image = sampleShape.size() == 3;
    const std::string samples = "this experiment's samples are " + formatShape(sampleShape) +
                                " (data.input_shape reads table columns as images, like [1, 8, 8])";
    auto needsImages = [&](bool asked, const char* key, const char* what) {
        if (asked && !image)
            errors.push_back(std::string("augment.") + key + ": " + what +
                             " needs image samples ([channels, height, width]); " + samples);
    };
    needsImages(augment.flipHorizontal, "flip_horizontal", "a horizontal flip");
    needsImages(augment.flipVertical, "flip_vertical", "a vertical flip");
    needsImages(augment.cropPadding > 0, "crop_padding", "a random crop");
    needsImages(augment.rotation > 0.0, "rotation", "rotation");
    needsImages(augment.scaleMin != 1.0 || augment.scaleMax != 1.0, "scale", "zoom");
    needsImages(augment.translate > 0.0, "translate", "a shift");
    needsImages(augment.cutout > 0, "cutout", "cutout");
    if (image) {
        const int64_t side = std::min(sampleShape[1], sampleShape[2]);
        const std::string size = std::to_string(sampleShape[2]) + "x" + std::to_string(sampleShape[1]);
        if (augment.cropPadding >= side)
            errors.push_back(
                "augment.crop_padding: " + std::to_string(augment.cropPadding) + " pixels of padding on " +
                size + " images could crop away all of an image; use less than " + std::to_string(side));
        if (augment.cutout > side)
            errors.push_back("augment.cutout: a " + std::to_string(augment.cutout) +
                             "-pixel square is larger than the " + size + " images");
    }
    if (augment.mixup > 0.0 && spec.loss.type != LossType::CrossEntropy)
        errors.push_back(
            std::string("augment.mixup: mixup mixes class labels and needs the cross_entropy loss, not ") +
            toString(spec.loss.type));
    return errors;
}

Result<ExperimentCheck> checkExperiment(const ExperimentSpec& spec) {
    auto loaded = loadDatasetCached(spec.data, spec.seed);
    if (!loaded.ok())
        return Result<ExperimentCheck>(Errors{loaded.errors()});
    ExperimentCheck check;
    check.data = loaded.take();
    const Dataset& data = *check.data;
    check.shapes =
        inferShapes(spec.model, data.sampleShape, OutputTarget{data.task, data.classes, spec.loss.type});
    std::vector<std::string> errors = check.shapes.errors;
    for (std::string& problem : augmentationErrors(spec, data.sampleShape))
        errors.push_back(std::move(problem));
    if (const std::string problem = lossTaskError(spec.loss.type, data.task, data.classes); !problem.empty())
        errors.insert(errors.begin(), problem);
    if (!errors.empty())
        return Result<ExperimentCheck>(Errors{errors});
    return check;
}

} // namespace tunelab
