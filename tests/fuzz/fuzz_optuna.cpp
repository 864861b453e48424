// Optuna's storage as `tunelab-cli study import` reads it: an input that starts with '{' is one
// distribution_json (parseOptunaDistribution); any other input is written as a storage file and read
// with readOptunaStudy. What is accepted is written back out as TuneLab exports it, and that file
// must read again to the same trials.

#include "fuzz_support.h"
#include "study/optuna_storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    const std::string_view input = fuzz::bytesOf(data, size);
    if (!input.empty() && input.front() == '{') {
        const auto distribution = parseOptunaDistribution(input);
        if (distribution.ok()) {
            const std::string json = optunaDistributionJson(distribution.value());
            const auto again = parseOptunaDistribution(json);
            fuzz::require(again.ok() && again.value() == distribution.value(),
                          "a distribution changes when written and read again: " + json);
        }
        return 0;
    }
    fuzz::clearScratchFolder();
    const std::string path = fuzz::scratchFolder() + "/optuna.sqlite3";
    fuzz::writeFile(path, input);
    const auto study = readOptunaStudy(path, "");
    if (!study.ok())
        return 0;
    const std::string exported = fuzz::scratchFolder() + "/exported.sqlite3";
    const auto written = writeOptunaStorage(exported, study.value().optunaName, study.value().spec,
                                            study.value().trials, false);
    fuzz::require(written.ok(), "an imported study does not export: " + written.error());
    const auto again = readOptunaStudy(exported, "");
    fuzz::require(again.ok(), "an exported study does not import: " + again.error());
    fuzz::require(again.value().trials.size() == study.value().trials.size(),
                  "an exported study imports with another number of trials");
    for (size_t i = 0; i < study.value().trials.size(); ++i) {
        const TrialRecord& a = study.value().trials[i];
        const TrialRecord& b = again.value().trials[i];
        fuzz::require(a.state == b.state && a.params == b.params && a.message == b.message &&
                          a.intermediate.size() == b.intermediate.size(),
                      "trial " + std::to_string(i) + " changes when exported and imported again");
    }
    return 0;
}
