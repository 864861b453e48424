// The run store's open path: the input is written as a store file, opened for reading, and its
// runs, studies and trials are read; then the file is checked as `tunelab-cli store check` does.

#include "fuzz_support.h"
#include "store/run_store.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    const std::string path = fuzz::scratchFolder() + "/runs.sqlite";
    fuzz::clearScratchFolder();
    fuzz::writeFile(path, fuzz::bytesOf(data, size));
    if (auto store = RunStore::openForReading(path); store.ok()) {
        const RunStore& runs = *store.value();
        (void)runs.schemaVersion();
        (void)runs.bestValidationLosses();
        const auto records = runs.listRuns();
        for (size_t i = 0; i < std::min<size_t>(records.size(), 4); ++i) {
            const RunId id = records[i].id;
            (void)runs.run(id);
            (void)runs.steps(id);
            (void)runs.stepCount(id);
            (void)runs.epochs(id);
            (void)runs.model(id);
            (void)runs.layerHealth(id);
            (void)runs.weightHistograms(id);
        }
        const auto studies = runs.listStudies();
        for (size_t i = 0; i < std::min<size_t>(studies.size(), 4); ++i) {
            (void)runs.study(studies[i].id);
            (void)runs.trials(studies[i].id, true);
        }
    }
    (void)RunStore::checkFile(path);
    return 0;
}
