// The compression plan reader: any bytes give a plan or errors, and every variant of a plan it
// accepts builds its experiment from the source (or fails with a message).

#include "compress/compression_plan.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    const auto plan = parseCompressionPlan(fuzz::bytesOf(data, size), fuzz::scratchFolder());
    if (!plan.ok() || plan.value().sourceExperimentJson.empty())
        return 0;
    const auto source = parseExperimentSpec(plan.value().sourceExperimentJson);
    if (!source.ok())
        __builtin_trap(); // an accepted plan's source reads again
    for (const CompressionVariant& variant : plan.value().variants) {
        (void)variantExperiment(variant, source.value(), 1);
        (void)variantExperiment(variant, source.value(), 1, true);
    }
    return 0;
}
