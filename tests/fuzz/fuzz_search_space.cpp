// The search-space reader: any bytes give a space or errors. A space it accepts is written back
// in the format it reads, checked against the default experiment, and one random trial is drawn
// from it and applied to that experiment.

#include "fuzz_support.h"
#include "search/samplers.h"
#include "search/search_space.h"
#include "spec/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    static const std::string base = experimentSpecToJson(defaultExperiment());
    const auto space = fuzz::checkRoundTrip(
        fuzz::bytesOf(data, size), [](std::string_view text) { return parseSearchSpace(text); },
        [](const SearchSpace& read) { return searchSpaceToJson(editableParameters(read)); }, "space");
    if (!space.ok())
        return 0;
    (void)checkAgainstBase(space.value(), base);
    RandomSampler sampler(1);
    if (const auto params = sampler.suggest(space.value(), 0, {}))
        (void)trialExperimentJson(base, *params);
    return 0;
}
