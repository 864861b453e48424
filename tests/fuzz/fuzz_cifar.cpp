// The CIFAR-10 binary reader: the input is data_batch_1.bin.

#include "data/dataset.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    static const std::string folder = fuzz::scratchSubfolder("cifar");
    fuzz::writeFile(folder + "/data_batch_1.bin", fuzz::bytesOf(data, size));
    DataSpec spec;
    spec.kind = DataKind::Cifar10;
    spec.path = folder;
    const auto dataset = loadCifar10Dataset(spec);
    if (dataset.ok()) {
        const Dataset& loaded = dataset.value();
        fuzz::require(loaded.targets.size() == static_cast<size_t>(loaded.rows), "one target per row");
        fuzz::require(loaded.features.size() == static_cast<size_t>(loaded.rows) * 3 * 32 * 32,
                      "3x32x32 features per row");
        fuzz::require(static_cast<size_t>(loaded.rows) * 3073 == size, "one row per 3073-byte record");
    }
    return 0;
}
