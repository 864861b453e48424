#include "search/samplers.h"

namespace tunelab {

namespace {

GpSettings gpSettings(const AutoSettings& settings) {
    GpSettings gp;
    gp.seed = settings.seed;
    gp.startupTrials = settings.startupTrials;
    return gp;
}

TpeSettings tpeSettings(const AutoSettings& settings) {
    TpeSettings tpe;
    tpe.seed = settings.seed;
    tpe.startupTrials = settings.startupTrials;
    return tpe;
}

} // namespace

AutoSampler::AutoSampler(AutoSettings settings)
    : m_gp(gpSettings(settings))
    , m_tpe(tpeSettings(settings)) {}

const char* AutoSampler::choiceFor(const std::vector<FinishedTrial>& history) {
    size_t modelled = 0; // what the GP's matrices grow with: failed trials are left out
    for (const FinishedTrial& trial : history)
        modelled += trial.state == TrialState::Failed ? 0 : 1;
    return modelled < kGpTrials ? "gp" : "tpe";
}

std::optional<Assignment> AutoSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                               const std::vector<FinishedTrial>& history) {
    if (std::string(choiceFor(history)) == "gp")
        return m_gp.suggest(space, trialNumber, history);
    return m_tpe.suggest(space, trialNumber, history);
}

} // namespace tunelab
