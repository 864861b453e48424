#include "validate_command.h"

#include "exit_codes.h"
#include "model/validation.h"

#include <nlohmann/json.hpp>

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
    std::printf("\n\n%-5s %-12s %-16s %14s %16s\n", "layer", "type", "output", "params", "FLOPs/sample");
    std::printf("%-5s %-12s %-16s %14s %16s\n", "", "input", formatShape(check.shapes.input).c_str(), "", "");
    for (const auto& layer : check.shapes.layers) {
        std::printf("%-5d %-12s %-16s %14s %16s\n", layer.index, toString(layer.type),
                    formatShape(layer.output).c_str(), withThousands(layer.params).c_str(),
                    withThousands(layer.flops).c_str());
    }
    std::printf("%-5s %-12s %-16s %14s %16s\n", "", "total", formatShape(check.shapes.output).c_str(),
                withThousands(check.shapes.totalParams).c_str(),
                withThousands(check.shapes.totalFlops).c_str());
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
        if (check.ok()) {
            nlohmann::ordered_json layers = nlohmann::ordered_json::array();
            for (const auto& layer : check.value().shapes.layers)
                layers.push_back({{"index", layer.index},
                                  {"type", toString(layer.type)},
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
    printTable(spec.value(), check.value());
    return kExitSuccess;
}

} // namespace tunelab::cli
