#include "model/validation.h"

#include "data/dataset_cache.h"

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
    if (const std::string problem = lossTaskError(spec.loss.type, data.task, data.classes); !problem.empty())
        errors.insert(errors.begin(), problem);
    if (!errors.empty())
        return Result<ExperimentCheck>(Errors{errors});
    return check;
}

} // namespace tunelab
