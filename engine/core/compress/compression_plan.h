#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "spec/spec.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// A compression plan (docs/compression.md): one trained model, the source, made smaller and faster
// in several ways, the variants, each measured the same way (accuracy, parameters, file size,
// batch-1 CPU latency) so that they can be compared and the best shipped.

enum class VariantKind {
    Prune,      // magnitude pruning, fine-tuned with the masks held (spec.prune)
    Structured, // whole neurons and channels removed, the smaller network fine-tuned
    Int8,       // post-training int8 quantization, calibrated on training rows
    Distill,    // a smaller student trained against the source as teacher (spec.distill)
    Qat,        // fine-tuned with int8-rounded weights (spec.fake_quantize), then quantized like int8
};

const char* toString(VariantKind kind); // "prune", "structured", "int8", "distill", "qat"

// How structured pruning ranks neurons: by the L1 or L2 norm of their incoming weights, or by the
// first-order Taylor estimate of what removing each one costs the loss on training batches.
enum class PruneImportance { L1, L2, Taylor };

const char* toString(PruneImportance importance); // "l1", "l2", "taylor"

struct CompressionVariant {
    std::string name; // unique within the plan; names the variant's run and files
    VariantKind kind = VariantKind::Prune;
    int epochs = 0;        // fine-tuning or student epochs; 0: the source experiment's
    double lr = kNoValue;  // fine-tuning or student learning rate; unset: the source's
    std::string pruneJson; // prune: the spec's "prune" object
    double fraction = 0.5; // structured: share of each hidden layer's neurons or channels removed
    PruneImportance importance = PruneImportance::L1; // structured
    bool perChannel = true;                           // int8, qat: one weight scale per output channel
    bool qatActivations =
        true; // qat: the fine-tuning rounds the layers' inputs too (fake_quantize.activations)
    int64_t calibrationRows = 512; // int8, qat: training rows whose activations set the ranges
    bool allInt8 = false;          // int8, qat: every layer int8, even where float measured faster
    int decisionBatch = 1;         // int8, qat: the batch (1 or 64) whose latency decides layers and engine
    std::string studentJson;       // distill: the student's "model" object
    double temperature = 4.0;      // distill
    double alpha = 0.5;            // distill
    double mixup = kNoValue;       // distill: the students' augment.mixup; unset: the source's augment
    bool compareAlone = true;      // distill: also train the student alone, same epochs and seed
};

struct CompressionPlan {
    std::string name = "compression";
    RunId sourceRun = 0;              // the source: a stored run...
    std::string sourceExperimentJson; // ... or an experiment the plan trains first (data paths absolute)
    int latencyThreads = 1;           // CPU threads for every latency measurement
    int latencyRepeats = 300;         // batch-1 forwards per measurement (the median is reported)
    std::vector<CompressionVariant> variants;
};

// Reads a plan: "name", "source" ({"run": ID} or {"experiment": object or path}), "latency"
// ({"threads", "repeats"}), "variants" [{"name", "kind", ...}]. Every error names its place
// (variants[2].sparsity: ...); a relative path is relative to `baseDirectory`.
Result<CompressionPlan> parseCompressionPlan(std::string_view jsonText,
                                             const std::string& baseDirectory = ".");
Result<CompressionPlan> loadCompressionPlan(const std::string& path);

// The experiment a pruning, distilling or fine-tuning variant trains, from the source's resolved
// spec and run: the source with the variant's keys (init.run and prune; or the student's model and
// distill), its epochs and learning rate, named "<source> / <variant>". `alone`: the student
// without its teacher. Fails naming the variant and the key.
Result<ExperimentSpec> variantExperiment(const CompressionVariant& variant, const ExperimentSpec& source,
                                         RunId sourceRun, bool alone = false);

} // namespace tunelab
