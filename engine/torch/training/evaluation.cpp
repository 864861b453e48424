#include "training/evaluation.h"

#include "training/saved_model.h"

#include <cmath>
#include <numeric>
#include <string>

namespace tunelab {

int64_t ConfusionMatrix::total() const {
    return std::accumulate(counts.begin(), counts.end(), int64_t(0));
}

double ConfusionMatrix::accuracy() const {
    int64_t right = 0;
    for (int c = 0; c < classes; ++c)
        right += at(c, c);
    const int64_t all = total();
    return all > 0 ? double(right) / double(all) : std::nan("");
}

Result<ConfusionMatrix> validationConfusion(const ExperimentSpec& spec, const std::vector<char>& stateDict) {
    using Made = Result<ConfusionMatrix>;
    try {
        auto loaded = detail::loadSavedModel(spec, stateDict);
        if (!loaded.ok())
            return Made::failure(loaded.error());
        detail::SavedModel& model = loaded.value();
        const Dataset& data = model.data;
        if (data.task != TaskKind::Classification || data.classes < 2)
            return Made::failure("a confusion matrix is for classification; this run is a regression");
        const DataSplit& split = model.split;
        if (split.validation.empty())
            return Made::failure("the experiment has no validation split (data.validation_fraction is 0)");
        torch::NoGradGuard noGrad;
        const auto predicted =
            model.network->forward(model.features(split.validation)).argmax(1).contiguous();
        const int64_t* guess = predicted.data_ptr<int64_t>();
        ConfusionMatrix matrix;
        matrix.classes = data.classes;
        matrix.counts.assign(size_t(data.classes) * size_t(data.classes), 0);
        for (size_t i = 0; i < split.validation.size(); ++i) {
            const auto actual = static_cast<int64_t>(data.targets[size_t(split.validation[i])]);
            if (actual < 0 || actual >= data.classes || guess[i] < 0 || guess[i] >= data.classes)
                continue;
            ++matrix.counts[size_t(actual) * size_t(data.classes) + size_t(guess[i])];
        }
        return matrix;
    } catch (const c10::Error& error) {
        return Made::failure(std::string("the model could not be evaluated: ") +
                             error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Made::failure(std::string("the model could not be evaluated: ") + error.what());
    }
}

} // namespace tunelab
