#include "train_command.h"

#include "exit_codes.h"
#include "store/run_store.h"
#include "store_access.h"
#include "training/model_export.h"

#include <nlohmann/json.hpp>

#include <cstdio>

// export: a run's saved model to TorchScript, a readable state dict or ONNX, verified by reading it
// back.

namespace tunelab::cli {

int runExport(const ExportOptions& options) {
    ExportFormat format = ExportFormat::TorchScript;
    parseExportFormat(options.format, format);
    const std::string dbPath = runStorePath(options.dbPath);
    auto store = openRunStore(dbPath);
    if (!store)
        return kExitBadInput;
    const auto run = store->run(options.runId);
    if (!run) {
        std::fprintf(stderr, "error: there is no run %lld in %s\n", static_cast<long long>(options.runId),
                     dbPath.c_str());
        return kExitBadInput;
    }
    if (!run->hasModel) {
        std::fprintf(stderr,
                     "error: run %lld (%s) has no saved model: a run saves one when it ends with its "
                     "weights intact (completed, stopped or pruned)\n",
                     static_cast<long long>(options.runId), toString(run->status));
        return kExitBadInput;
    }
    auto spec = parseExperimentSpec(run->specJson);
    if (!spec.ok()) {
        std::fprintf(stderr, "error: run %lld's experiment cannot be read: %s\n",
                     static_cast<long long>(options.runId), spec.error().c_str());
        return kExitBadInput;
    }
    auto exported = exportModel(spec.value(), store->model(options.runId), format, options.outPath);
    if (!exported.ok()) {
        std::fprintf(stderr, "error: %s\n", exported.error().c_str());
        return kExitRunFailed;
    }
    const ExportReport& report = exported.value();
    ExportRecord record;
    record.format = toString(format);
    record.path = report.path;
    record.bytes = report.bytes;
    record.checkedRows = report.checkedRows;
    record.maxAbsDifference = report.maxAbsDifference;
    if (auto recorded = store->recordExport(options.runId, record); !recorded.ok())
        std::fprintf(stderr, "warning: the export was not recorded with the run: %s\n",
                     recorded.error().c_str());
    if (options.json) {
        nlohmann::ordered_json json;
        json["run_id"] = options.runId;
        json["format"] = record.format;
        json["path"] = report.path;
        if (!report.specPath.empty())
            json["spec_path"] = report.specPath;
        json["bytes"] = report.bytes;
        json["checked_rows"] = report.checkedRows;
        json["max_abs_difference"] = report.maxAbsDifference;
        json["tolerance"] = report.tolerance;
        if (!report.checkedWith.empty())
            json["checked_with"] = report.checkedWith;
        json["verified"] = report.verified();
        std::printf("%s\n", json.dump().c_str());
    } else {
        std::printf("run %lld exported as %s to %s (%lld bytes)%s\n", static_cast<long long>(options.runId),
                    record.format.c_str(), report.path.c_str(), static_cast<long long>(report.bytes),
                    report.specPath.empty() ? "" : (", spec in " + report.specPath).c_str());
        std::printf("verified: read back%s and run on %lld rows, largest difference %.3g (tolerance %.0e)\n",
                    report.checkedWith.empty() ? "" : (" with " + report.checkedWith).c_str(),
                    static_cast<long long>(report.checkedRows), report.maxAbsDifference, report.tolerance);
    }
    return checkStoreSaved(*store, kExitSuccess);
}

} // namespace tunelab::cli
