// The race file reader: any bytes give a race or errors; a race it accepts is written back as JSON
// that reads again to the same race, and each set-up's experiment is built.

#include "fuzz_support.h"
#include "race/race.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    const auto race = fuzz::checkRoundTrip(
        fuzz::bytesOf(data, size),
        [](std::string_view text) { return parseRaceSpec(text, fuzz::scratchFolder()); },
        [](const RaceSpec& spec) { return raceSpecToJson(spec); }, "race");
    if (race.ok()) {
        for (const RaceSetup& setup : race.value().setups)
            (void)setupExperimentJson(race.value(), setup);
    }
    return 0;
}
