#include "validate_command.h"

#include "exit_codes.h"
#include "model/validation.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace tunelab::cli {

namespace {

std::string withThousands(int64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

void printTable(const ExperimentSpec& spec, const ExperimentCheck& check) {
    const Dataset& data = *check.data;
    std::printf("%s: %s, %lld samples of %s, %s", spec.name.c_str(), data.source.c_str(),
                static_cast<long long>(data.rows), formatShape(data.sampleShape).c_str(),
                toString(data.task));
    if (data.classes > 0)
        std::printf(" with %d classes", data.classes);
    // A graph's table adds each layer's name and, where it is not the layer above, what it reads.
    const NetworkGraph& graph = check.shapes.graph;
    const bool named = std::any_of(spec.model.layers.begin(), spec.model.layers.end(),
                                   [](const LayerSpec& layer) { return !layer.name.empty(); });
    size_t nameWidth = 4;
    for (const LayerSpec& layer : spec.model.layers)
        nameWidth = std::max(nameWidth, layer.name.size());
    auto row = [&](const std::string& index, const std::string& type, const std::string& name,
                   const std::string& output, const std::string& params, const std::string& flops,
                   const std::string& reads) {
        std::printf("%-5s %-12s ", index.c_str(), type.c_str());
        if (named)
            std::printf("%-*s ", static_cast<int>(nameWidth), name.c_str());
        std::printf("%-16s %14s %16s%s%s\n", output.c_str(), params.c_str(), flops.c_str(),
                    reads.empty() ? "" : "  ", reads.c_str());
    };
    std::printf("\n\n");
    row("layer", "type", "name", "output", "params", "FLOPs/sample", graph.chain ? "" : "reads");
    row("", "input", "", formatShape(check.shapes.input), "", "", "");
    for (const auto& layer : check.shapes.layers) {
        std::string reads;
        const std::vector<int>& inputs = graph.inputs[layer.index];
        if (inputs != std::vector<int>{layer.index - 1})
            for (const int input : inputs)
                reads += (reads.empty() ? "" : ", ") + (input < 0 ? std::string("input")
                                                        : spec.model.layers[input].name.empty()
                                                            ? std::to_string(input)
                                                            : spec.model.layers[input].name);
        row(std::to_string(layer.index), toString(layer.type), spec.model.layers[layer.index].name,
            formatShape(layer.output), withThousands(layer.params), withThousands(layer.flops), reads);
    }
    row("", "total", "", formatShape(check.shapes.output), withThousands(check.shapes.totalParams),
        withThousands(check.shapes.totalFlops), "");
}

} // namespace

CLI::App* addValidateCommand(CLI::App& app, ValidateOptions& options) {
    CLI::App* validate = app.add_subcommand("validate", "Check a spec, its data and its network's shapes");
    validate->add_option("spec", options.specPath, "Experiment spec (JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    validate->add_flag("--json", options.json, "Print the layer table or the errors as JSON");
    return validate;
}

int runValidate(const ValidateOptions& options) {
    auto spec = loadExperimentSpec(options.specPath);
    Result<ExperimentCheck> check =
        spec.ok() ? checkExperiment(spec.value()) : Result<ExperimentCheck>(Errors{spec.errors()});
    if (options.json) {
        nlohmann::ordered_json json;
        json["valid"] = check.ok();
        json["errors"] = check.ok() ? std::vector<std::string>{} : check.errors();
        json["warnings"] = check.ok() ? check.value().data->warnings : std::vector<std::string>{};
        if (check.ok()) {
            nlohmann::ordered_json layers = nlohmann::ordered_json::array();
            for (const auto& layer : check.value().shapes.layers)
                layers.push_back({{"index", layer.index},
                                  {"type", toString(layer.type)},
                                  {"name", spec.value().model.layers[layer.index].name},
                                  {"inputs", check.value().shapes.graph.inputs[layer.index]},
                                  {"output", layer.output},
                                  {"params", layer.params},
                                  {"flops", layer.flops}});
            json["input"] = check.value().shapes.input;
            json["layers"] = layers;
            json["total_params"] = check.value().shapes.totalParams;
            json["total_flops"] = check.value().shapes.totalFlops;
        }
        std::printf("%s\n", json.dump().c_str());
        return check.ok() ? kExitSuccess : kExitBadInput;
    }
    if (!check.ok()) {
        for (const auto& error : check.errors())
            std::fprintf(stderr, "error: %s\n", error.c_str());
        return kExitBadInput;
    }
    for (const auto& warning : check.value().data->warnings)
        std::fprintf(stderr, "warning: %s\n", warning.c_str());
    printTable(spec.value(), check.value());
    return kExitSuccess;
}

} // namespace tunelab::cli
