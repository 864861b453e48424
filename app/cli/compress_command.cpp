#include "train_command.h"

#include "exit_codes.h"
#include "json_output.h"
#include "store/run_store.h"
#include "store_access.h"

#include "compress/compression_runner.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

// compress: a compression plan's variants of a trained model, trained, exported and measured.

namespace tunelab::cli {

namespace {

std::atomic<bool> g_stopCompression{false};

void onCompressInterrupt(int) {
    g_stopCompression = true;
}

nlohmann::ordered_json numberOrNull(double value) {
    return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json variantToJson(const VariantResult& variant) {
    nlohmann::ordered_json json;
    json["name"] = variant.name;
    json["kind"] = variant.kind;
    json["run_id"] = variant.runId;
    json["status"] = toString(variant.status);
    if (std::isfinite(variant.valMae))
        json["val_mae"] = variant.valMae;
    else
        json["val_accuracy"] = numberOrNull(variant.valAccuracy);
    json["parameters"] = variant.parameters;
    json["nonzero_parameters"] = variant.nonzeroParameters;
    json["size_bytes"] = variant.sizeBytes;
    json["latency_ms"] = numberOrNull(variant.latencyMs);
    json["batch64_ms"] = numberOrNull(variant.batch64Ms);
    json["speedup"] = numberOrNull(variant.speedup);
    json["file"] = variant.file;
    json["verified"] = variant.verified;
    json["pareto_size"] = variant.paretoSize;
    json["pareto_latency"] = variant.paretoLatency;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const CompressedLayer& layer : variant.layers) {
        nlohmann::ordered_json item;
        item["layer"] = layer.layer;
        item["kind"] = layer.kind;
        item["weights"] = layer.weights;
        item["sparsity"] = layer.sparsity;
        if (variant.kind == "int8") {
            item["int8"] = layer.int8;
            item["max_abs_error"] = numberOrNull(layer.maxAbsError);
            if (!layer.note.empty())
                item["note"] = layer.note;
        }
        layers.push_back(std::move(item));
    }
    json["layers"] = std::move(layers);
    if (!variant.message.empty())
        json["message"] = variant.message;
    return json;
}

std::string quality(const VariantResult& variant) {
    char text[32];
    if (std::isfinite(variant.valMae))
        std::snprintf(text, sizeof text, "%.4f", variant.valMae);
    else if (std::isfinite(variant.valAccuracy))
        std::snprintf(text, sizeof text, "%.2f %%", 100.0 * variant.valAccuracy);
    else
        std::snprintf(text, sizeof text, "-");
    return text;
}

void printRow(const VariantResult& variant) {
    if (!variant.ok()) {
        std::printf("%-22s %-10s %5lld  %s: %s\n", variant.name.c_str(), variant.kind.c_str(),
                    static_cast<long long>(variant.runId), toString(variant.status), variant.message.c_str());
        return;
    }
    std::printf("%-22s %-10s %5lld %9s %10lld %10lld %9.1f %10.4f %7.2fx  %s%s\n", variant.name.c_str(),
                variant.kind.c_str(), static_cast<long long>(variant.runId), quality(variant).c_str(),
                static_cast<long long>(variant.parameters), static_cast<long long>(variant.nonzeroParameters),
                variant.sizeBytes / 1024.0, variant.latencyMs, variant.speedup,
                variant.paretoSize ? "size " : "", variant.paretoLatency ? "latency" : "");
}

std::string defaultOutputDirectory(const std::string& planPath) {
    const std::filesystem::path plan(planPath);
    return (plan.parent_path() / (plan.stem().string() + ".out")).string();
}

} // namespace

int runCompress(const CompressOptions& options) {
    auto plan = loadCompressionPlan(options.planPath);
    if (!plan.ok()) {
        printErrors(plan.errors());
        return kExitBadInput;
    }
    const std::string dbPath = runStorePath(options.dbPath);
    auto store = openRunStore(dbPath);
    if (!store)
        return kExitBadInput;

    std::FILE* progressOut = options.json ? stderr : stdout;
    CompressionOptions compression;
    compression.outputDirectory =
        options.outDir.empty() ? defaultOutputDirectory(options.planPath) : options.outDir;
    compression.device = options.device;
    compression.trainingThreads = options.threads;
    compression.stop = &g_stopCompression;
    compression.onProgress = [progressOut](const std::string& line) {
        std::fprintf(progressOut, "%s\n", line.c_str());
        std::fflush(progressOut);
    };
    compression.onRunEvent = [progressOut](const RunEvent& event) {
        if (event.kind != RunEventKind::Epoch)
            return;
        std::fprintf(progressOut, "  run %lld epoch %d: train loss %.4f, val loss %.4f\n",
                     static_cast<long long>(event.runId), event.epoch.epoch, event.epoch.trainLoss,
                     event.epoch.valLoss);
    };
    struct sigaction action {};
    action.sa_handler = onCompressInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    auto result = runCompressionPlan(plan.value(), *store, compression);
    store->flush();
    if (!result.ok()) {
        printErrors(result.errors());
        return checkStoreSaved(*store, kExitBadInput);
    }
    const CompressionResult& compressed = result.value();
    bool allCompleted = true;
    for (const auto& variant : compressed.variants)
        allCompleted = allCompleted && variant.ok();
    if (options.json) {
        nlohmann::ordered_json json;
        json["plan"] = compressed.plan;
        json["threads"] = compressed.threads;
        json["output_directory"] = compressed.outputDirectory;
        json["source"] = variantToJson(compressed.source);
        nlohmann::ordered_json variants = nlohmann::ordered_json::array();
        for (const auto& variant : compressed.variants)
            variants.push_back(variantToJson(variant));
        json["variants"] = std::move(variants);
        addStoreError(json, *store);
        std::printf("%s\n", json.dump().c_str());
    } else {
        std::printf("\n%-22s %-10s %5s %9s %10s %10s %9s %10s %8s  %s\n", "variant", "kind", "run",
                    std::isfinite(compressed.source.valMae) ? "val MAE" : "val acc", "parameters", "nonzero",
                    "size KiB", "batch-1 ms", "speedup", "Pareto front");
        printRow(compressed.source);
        for (const auto& variant : compressed.variants)
            printRow(variant);
        std::printf("latency: median of batch-1 CPU forwards on %d thread%s; files in %s\n",
                    compressed.threads, compressed.threads == 1 ? "" : "s",
                    compressed.outputDirectory.c_str());
    }
    std::fflush(stdout);
    if (g_stopCompression)
        return checkStoreSaved(*store, kExitInterrupted);
    return checkStoreSaved(*store, allCompleted ? kExitSuccess : kExitRunFailed);
}

} // namespace tunelab::cli
