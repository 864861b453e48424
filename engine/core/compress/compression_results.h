#pragma once

#include "events/run_events.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tunelab {

// What a compression plan measured (docs/compression.md): plain values that the command line
// prints and the window shows.

// What one layer of a measured model looks like after compression: its pruned share, and for an int8
// model whether the layer runs int8 and how far its outputs are from float (a histogram of the
// absolute differences on calibration rows, `errorBins` bins from 0 to `errorMax`).
struct CompressedLayer {
    int layer = 0;
    std::string kind; // "linear", "conv2d"
    int64_t weights = 0;
    double sparsity = 0.0;
    bool int8 = false;
    std::string note; // why a layer stayed float
    double maxAbsError = kNoValue;
    double errorMax = 0.0;
    std::vector<int64_t> errorBins;
};

// One measured model: the source or a variant. Every number is measured in this process: accuracy
// on the validation rows, latency as the median batch-1 CPU forward on `CompressionResult::threads`
// threads, size as the bytes of the exported file (TorchScript; the int8 model's own file), which
// was read back and checked like any export.
struct VariantResult {
    std::string name;
    std::string kind; // "source", "prune", "structured", "int8", "distill", "alone"
    RunId runId = 0;  // the stored run (int8: the source run it quantizes)
    RunStatus status = RunStatus::Completed;
    std::string message;
    double valAccuracy = kNoValue;
    double valMae = kNoValue;
    int64_t parameters = 0;
    int64_t nonzeroParameters = 0;
    int64_t sizeBytes = 0;
    std::string file;
    bool verified = false;
    double latencyMs = kNoValue;
    double batch64Ms = kNoValue;
    double speedup = kNoValue;  // the source's latency / this latency
    bool paretoSize = false;    // no other model is at least as accurate and smaller
    bool paretoLatency = false; // ... at least as accurate and faster
    std::vector<CompressedLayer> layers;
    bool ok() const { return status == RunStatus::Completed; }
};

struct CompressionResult {
    std::string plan;
    int threads = 1;
    std::string outputDirectory;
    VariantResult source;
    std::vector<VariantResult> variants;
};

// Marks the Pareto fronts of accuracy (or MAE) against size and against latency over the source and
// the variants that completed.
void markParetoFronts(CompressionResult& result);

} // namespace tunelab
