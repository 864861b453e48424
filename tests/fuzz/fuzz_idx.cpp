// The MNIST (idx) reader, plain or gzipped. The input is a 2-byte big-endian length, that many
// bytes of the labels file, then the images file.

#include "data/dataset.h"
#include "fuzz_support.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    if (size < 2)
        return 0;
    static const std::string folder = fuzz::scratchSubfolder("mnist");
    const std::string_view rest = fuzz::bytesOf(data + 2, size - 2);
    const size_t labelBytes = std::min<size_t>((size_t(data[0]) << 8) | data[1], rest.size());
    fuzz::writeFile(folder + "/train-labels-idx1-ubyte", rest.substr(0, labelBytes));
    fuzz::writeFile(folder + "/train-images-idx3-ubyte", rest.substr(labelBytes));
    DataSpec spec;
    spec.kind = DataKind::Mnist;
    spec.path = folder;
    const auto dataset = loadMnistDataset(spec);
    if (dataset.ok()) {
        const Dataset& loaded = dataset.value();
        fuzz::require(loaded.targets.size() == static_cast<size_t>(loaded.rows), "one target per row");
        fuzz::require(loaded.features.size() == static_cast<size_t>(loaded.rows) *
                                                    static_cast<size_t>(shapeElements(loaded.sampleShape)),
                      "rows times the sample shape features");
        fuzz::require(static_cast<size_t>(loaded.rows) <= size, "more images than bytes");
    }
    return 0;
}
