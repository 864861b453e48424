// The study file reader: any bytes give a study or errors, and a study it accepts is written back
// as JSON that reads again to the same study.

#include "fuzz_support.h"
#include "study/study.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    fuzz::checkRoundTrip(
        fuzz::bytesOf(data, size),
        [](std::string_view text) { return parseStudySpec(text, fuzz::scratchFolder()); },
        [](const StudySpec& spec) { return studySpecToJson(spec); }, "study");
    return 0;
}
