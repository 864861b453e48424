#include "json_output.h"

#include <cmath>

namespace tunelab::cli {

nlohmann::ordered_json numberOrNull(double value) {
    return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json summaryToJson(RunId id, const std::string& name, const RunSummary& summary) {
    nlohmann::ordered_json json;
    json["run_id"] = id;
    json["name"] = name;
    json["status"] = toString(summary.status);
    json["device"] = summary.device;
    json["epochs"] = summary.epochs;
    json["steps"] = summary.steps;
    json["train_seconds"] = summary.trainSeconds;
    json["steps_per_second"] = summary.stepsPerSecond;
    json["train_loss"] = numberOrNull(summary.trainLoss);
    json["val_loss"] = numberOrNull(summary.valLoss);
    if (!std::isnan(summary.valMae))
        json["val_mae"] = numberOrNull(summary.valMae);
    else
        json["val_accuracy"] = numberOrNull(summary.valAccuracy);
    json["best_epoch"] = summary.bestEpoch;
    json["message"] = summary.message;
    if (summary.initialParametersHash != 0) {
        json["initial_parameters_hash"] = hashText(summary.initialParametersHash);
        json["batch_order_hash"] = hashText(summary.batchOrderHash);
    }
    return json;
}

nlohmann::ordered_json runToJson(const RunRecord& run) {
    nlohmann::ordered_json json = summaryToJson(run.id, run.name, run.summary);
    json["status"] = toString(run.status);
    json["device"] = run.device;
    json["created_at"] = run.createdAt;
    json["started_at"] = numberOrNull(run.startedAt > 0 ? run.startedAt : std::nan(""));
    json["finished_at"] = numberOrNull(run.finishedAt > 0 ? run.finishedAt : std::nan(""));
    json["error"] = run.error;
    json["has_model"] = run.hasModel;
    json["has_checkpoint"] = run.hasCheckpoint;
    json["parent_run"] = run.parentRun > 0 ? nlohmann::ordered_json(run.parentRun) : nlohmann::ordered_json();
    json["parent_epoch"] =
        run.parentRun > 0 ? nlohmann::ordered_json(run.parentEpoch) : nlohmann::ordered_json();
    json["tags"] = run.tags;
    json["note"] = run.note;
    json["spec"] = nlohmann::ordered_json::parse(run.specJson, nullptr, false);
    return json;
}

nlohmann::ordered_json epochToJson(const EpochRecord& epoch) {
    nlohmann::ordered_json json;
    json["epoch"] = epoch.epoch;
    json["step"] = epoch.step;
    json["train_loss"] = numberOrNull(epoch.trainLoss);
    json["val_loss"] = numberOrNull(epoch.valLoss);
    json["val_accuracy"] = numberOrNull(epoch.valAccuracy);
    json["val_mae"] = numberOrNull(epoch.valMae);
    json["learning_rate"] = numberOrNull(epoch.learningRate);
    json["seconds"] = epoch.seconds;
    return json;
}

void addStoreError(nlohmann::ordered_json& json, const RunStore& store) {
    if (std::string lost = store.lostWritesReport(); !lost.empty())
        json["store_error"] = std::move(lost);
}

} // namespace tunelab::cli
