#include "runs_command.h"

#include "common/atomic_file.h"
#include "exit_codes.h"
#include "json_output.h"
#include "store/run_store.h"
#include "store_access.h"
#include "text_format.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <unistd.h>

namespace tunelab::cli {

namespace {

std::string csvNumber(double value) {
    if (std::isnan(value))
        return {};
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", value);
    return text;
}

int listRuns(const RunStore& store) {
    if (isatty(STDOUT_FILENO))
        std::printf("%-6s %-24s %-12s %-8s %6s %8s %10s %10s  %s\n", "id", "name", "status", "device",
                    "epochs", "steps", "val_loss", "val_acc", "created");
    for (const RunRecord& run : store.listRuns()) {
        const bool regression = !std::isnan(run.summary.valMae);
        std::printf("%-6lld %-24s %-12s %-8s %6d %8lld %10s %10s  %s\n", static_cast<long long>(run.id),
                    run.name.c_str(), toString(run.status), run.device.empty() ? "-" : run.device.c_str(),
                    run.summary.epochs, static_cast<long long>(run.summary.steps),
                    formatNumber(run.summary.valLoss).c_str(),
                    regression ? ("mae " + formatNumber(run.summary.valMae)).c_str()
                               : formatNumber(run.summary.valAccuracy).c_str(),
                    formatTime(run.createdAt).c_str());
    }
    return kExitSuccess;
}

int showRun(const RunStore& store, RunId id) {
    const auto run = store.run(id);
    if (!run) {
        printNotFound(store, "no run with id " + std::to_string(id));
        return kExitBadInput;
    }
    auto json = runToJson(*run);
    nlohmann::ordered_json epochs = nlohmann::ordered_json::array();
    for (const auto& epoch : store.epochs(id))
        epochs.push_back(epochToJson(epoch));
    json["epoch_metrics"] = epochs;
    json["step_count"] = store.stepCount(id);
    nlohmann::ordered_json exports = nlohmann::ordered_json::array();
    for (const ExportRecord& record : store.exports(id))
        exports.push_back({{"format", record.format},
                           {"path", record.path},
                           {"bytes", record.bytes},
                           {"checked_rows", record.checkedRows},
                           {"max_abs_difference", numberOrNull(record.maxAbsDifference)},
                           {"exported_at", record.exportedAt}});
    json["exports"] = exports;
    std::printf("%s\n", json.dump(2).c_str());
    return kExitSuccess;
}

int exportRun(const RunStore& store, const RunsOptions& options) {
    if (!store.run(options.runId)) {
        printNotFound(store, "no run with id " + std::to_string(options.runId));
        return kExitBadInput;
    }
    std::ostringstream out;
    out << "kind,step,epoch,train_loss,learning_rate,grad_norm,val_loss,val_accuracy,val_mae,seconds\n";
    if (options.series != "epochs") {
        for (const StepRecord& step : store.steps(options.runId))
            out << "step," << step.step << ',' << step.epoch << ',' << csvNumber(step.trainLoss) << ','
                << csvNumber(step.learningRate) << ',' << csvNumber(step.gradNorm) << ",,,,\n";
    }
    if (options.series != "steps") {
        for (const EpochRecord& epoch : store.epochs(options.runId))
            out << "epoch," << epoch.step << ',' << epoch.epoch << ',' << csvNumber(epoch.trainLoss) << ','
                << csvNumber(epoch.learningRate) << ",," << csvNumber(epoch.valLoss) << ','
                << csvNumber(epoch.valAccuracy) << ',' << csvNumber(epoch.valMae) << ','
                << csvNumber(epoch.seconds) << '\n';
    }
    const std::string csv = out.str();
    if (options.outputPath.empty()) {
        const bool written =
            std::fwrite(csv.data(), 1, csv.size(), stdout) == csv.size() && std::fflush(stdout) == 0;
        if (!written)
            std::fprintf(stderr, "error: could not write the CSV to stdout: %s\n", std::strerror(errno));
        return written ? kExitSuccess : kExitStoreFailed;
    }
    // A full disk leaves no half-written file, and an earlier export at the path stays as it was.
    if (auto written = writeFileAtomically(options.outputPath, csv); !written.ok()) {
        std::fprintf(stderr, "error: --output: %s\n", written.error().c_str());
        return kExitStoreFailed;
    }
    return kExitSuccess;
}

} // namespace

CLI::App* addRunsCommand(CLI::App& app, RunsOptions& options) {
    CLI::App* runs = app.add_subcommand("runs", "List, show, export, annotate and delete recorded runs");
    runs->add_option(
        "--db,--storage", options.dbPath,
        "Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data folder)");
    runs->require_subcommand(1);
    options.list =
        runs->add_subcommand("list", "One line per run: id, name, status, device, epochs, steps, ...");
    options.show = runs->add_subcommand("show", "A run as JSON: spec, summary and epoch metrics");
    options.show->add_option("id", options.runId, "Run id")->required();
    options.exportCommand = runs->add_subcommand("export", "A run's metric series as CSV");
    options.exportCommand->add_option("id", options.runId, "Run id")->required();
    options.exportCommand->add_option("--format", options.format, "Output format")
        ->check(CLI::IsMember({"csv"}));
    options.exportCommand->add_option("--series", options.series, "steps, epochs or all")
        ->check(CLI::IsMember({"steps", "epochs", "all"}));
    options.exportCommand->add_option("--output,-o", options.outputPath,
                                      "Write to this file instead of stdout");
    options.tag =
        runs->add_subcommand("tag", "Set a run's tags (the window's runs filter finds them); none clears");
    options.tag->add_option("id", options.runId, "Run id")->required();
    options.tag->add_option("tags", options.tags, "Tags: no commas or control characters, 64 bytes at most");
    options.noteCommand = runs->add_subcommand("note", "Set a run's note; \"\" clears it");
    options.noteCommand->add_option("id", options.runId, "Run id")->required();
    options.noteCommand->add_option("text", options.note, "The note")->required();
    options.deleteCommand = runs->add_subcommand(
        "delete", "Delete finished runs with their curves, checkpoints and saved models; a study's trial "
                  "keeps its value without them");
    options.deleteCommand->add_option("ids", options.runIds, "Run ids")->required();
    for (CLI::App* sub : {options.list, options.show, options.exportCommand, options.tag, options.noteCommand,
                          options.deleteCommand})
        sub->add_option("--db,--storage", options.dbPath, "Run store: a file or a postgresql:// URL");
    return runs;
}

int annotateRun(const RunsOptions& options) {
    auto store = openRunStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    auto stored = options.tag->parsed() ? store->setRunTags(options.runId, options.tags)
                                        : store->setRunNote(options.runId, options.note);
    if (!stored.ok()) {
        printErrors(stored.errors());
        return kExitBadInput;
    }
    return checkStoreSaved(*store, kExitSuccess);
}

// Every run is checked before any is deleted: a wrong id or a run still training deletes nothing.
int deleteRuns(const RunsOptions& options) {
    auto store = openRunStore(options.dbPath);
    if (!store)
        return kExitBadInput;
    std::vector<RunRecord> runs;
    for (const int64_t id : options.runIds) {
        auto run = store->run(id);
        if (!run) {
            printNotFound(*store, "no run with id " + std::to_string(id) + "; nothing was deleted");
            return kExitBadInput;
        }
        if (!isFinal(run->status)) {
            std::fprintf(
                stderr,
                "error: run %lld (%s) is %s: stop it first, or wait for it to end; nothing was deleted\n",
                static_cast<long long>(id), run->name.c_str(), toString(run->status));
            return kExitBadInput;
        }
        if (std::none_of(runs.begin(), runs.end(), [id](const RunRecord& seen) { return seen.id == id; }))
            runs.push_back(std::move(*run));
    }
    for (const RunRecord& run : runs) {
        store->deleteRun(run.id);
        std::fprintf(stderr, "deleted run %lld (%s, %s)\n", static_cast<long long>(run.id), run.name.c_str(),
                     toString(run.status));
    }
    return checkStoreSaved(*store, kExitSuccess);
}

int runRuns(const RunsOptions& options) {
    if (options.tag->parsed() || options.noteCommand->parsed())
        return annotateRun(options);
    if (options.deleteCommand->parsed())
        return deleteRuns(options);
    auto store = openRunStoreForReading(options.dbPath); // list, show and export only read
    if (!store)
        return kExitBadInput;
    if (options.list->parsed())
        return listRuns(*store);
    if (options.show->parsed())
        return showRun(*store, options.runId);
    return exportRun(*store, options);
}

} // namespace tunelab::cli
