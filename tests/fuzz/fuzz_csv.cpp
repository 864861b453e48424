// The CSV dataset reader. The first byte picks the reader's settings (delimiter, task, target
// column); the rest is the file.

#include "data/dataset.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    if (size == 0)
        return 0;
    static const std::string path = fuzz::scratchFolder() + "/input.csv";
    fuzz::writeFile(path, fuzz::bytesOf(data + 1, size - 1));
    const uint8_t settings = data[0];
    DataSpec spec;
    spec.kind = DataKind::Csv;
    spec.path = path;
    static const char delimiters[] = {',', ';', '\t', ' '};
    spec.delimiter = delimiters[settings & 3];
    spec.task = (settings & 4) ? TaskKind::Regression : TaskKind::Classification;
    if (settings & 8)
        spec.targetIndex = (settings >> 4) & 7;
    else if (settings & 128)
        spec.target = "label";
    const auto dataset = loadCsvDataset(spec);
    if (dataset.ok()) {
        const Dataset& loaded = dataset.value();
        fuzz::require(loaded.rows > 0, "a dataset without rows");
        fuzz::require(loaded.targets.size() == static_cast<size_t>(loaded.rows), "one target per row");
        fuzz::require(loaded.features.size() == static_cast<size_t>(loaded.rows) *
                                                    static_cast<size_t>(shapeElements(loaded.sampleShape)),
                      "rows times the sample shape features");
    }
    return 0;
}
