// The experiment spec reader: any bytes give a spec or errors, and a spec it accepts is written
// back as JSON that reads again to the same spec (keys in any order).

#include "fuzz_support.h"
#include "spec/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    fuzz::checkRoundTrip(
        fuzz::bytesOf(data, size),
        [](std::string_view text) { return parseExperimentSpec(text, fuzz::scratchFolder()); },
        [](const ExperimentSpec& spec) { return experimentSpecToJson(spec); }, "spec");
    return 0;
}
