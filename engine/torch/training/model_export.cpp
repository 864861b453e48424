#include "training/model_export.h"

#include "common/atomic_file.h"
#include "model/network_graph.h"
#include "training/onnx_export.h"
#include "training/saved_model.h"
#include "training/torchscript_export.h"

#include <torch/script.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace tunelab {

namespace {

constexpr int64_t kCheckedRows = 512;

const char* layerKind(LayerType type) {
    switch (type) {
    case LayerType::Linear:
        return "linear";
    case LayerType::Conv2d:
        return "conv2d";
    case LayerType::BatchNorm:
        return "batch_norm";
    case LayerType::LayerNorm:
        return "layer_norm";
    default:
        return "";
    }
}

std::string squareSizeText(int64_t value) {
    return "[" + std::to_string(value) + ", " + std::to_string(value) + "]";
}

// The state dict under readable names, in torch.save's format.
std::vector<char> readableStateDict(const ModelSpec& model, detail::Network& network) {
    c10::Dict<std::string, torch::Tensor> state;
    for (const auto& item : network->named_parameters())
        state.insert(readableParameterName(model, item.key()), item.value().detach().clone());
    for (const auto& item : network->named_buffers())
        state.insert(readableParameterName(model, item.key()), item.value().detach().clone());
    return torch::pickle_save(state);
}

// A state dict under readable names back under the network's own, for loading it to check it.
std::vector<char> indexedStateDict(const ModelSpec& model, const std::vector<char>& readable,
                                   detail::Network& network) {
    const c10::Dict<c10::IValue, c10::IValue> saved = torch::pickle_load(readable).toGenericDict();
    c10::Dict<std::string, torch::Tensor> state;
    auto add = [&](const std::string& indexName) {
        const auto found = saved.find(readableParameterName(model, indexName));
        if (found != saved.end())
            state.insert(indexName, found->value().toTensor());
    };
    for (const auto& item : network->named_parameters())
        add(item.key());
    for (const auto& item : network->named_buffers())
        add(item.key());
    return torch::pickle_save(state);
}

// The files an export wrote, removed when it leaves before keep() (a failed check, an exception):
// a file that did not verify is never left behind, nor the spec of one.
class WrittenFiles {
public:
    ~WrittenFiles() {
        for (const std::string& path : m_paths)
            std::remove(path.c_str());
    }
    void add(const std::string& path) { m_paths.push_back(path); }
    void keep() { m_paths.clear(); }

private:
    std::vector<std::string> m_paths;
};

std::vector<char> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

const char* toString(ExportFormat format) {
    switch (format) {
    case ExportFormat::TorchScript:
        return "torchscript";
    case ExportFormat::StateDict:
        return "state-dict";
    case ExportFormat::Onnx:
        return "onnx";
    }
    return "";
}

bool parseExportFormat(const std::string& text, ExportFormat& format) {
    if (text == "torchscript")
        format = ExportFormat::TorchScript;
    else if (text == "state-dict")
        format = ExportFormat::StateDict;
    else if (text == "onnx")
        format = ExportFormat::Onnx;
    else
        return false;
    return true;
}

std::string exportFormatUnavailableReason(ExportFormat format) {
    return format == ExportFormat::Onnx ? detail::onnxUnavailableReason() : std::string();
}

std::string readableParameterName(const ModelSpec& model, const std::string& indexName) {
    const size_t dot = indexName.find('.');
    if (dot == std::string::npos)
        return {};
    size_t layer = 0;
    try {
        layer = std::stoul(indexName.substr(0, dot));
    } catch (const std::exception&) {
        return {};
    }
    if (layer >= model.layers.size() || *layerKind(model.layers[layer].type) == '\0')
        return {};
    return "layers." + std::to_string(layer) + "." + layerKind(model.layers[layer].type) + "." +
           indexName.substr(dot + 1);
}

Result<ExportReport> exportModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                 ExportFormat format, const std::string& path) {
    using Exported = Result<ExportReport>;
    if (const std::string why = exportFormatUnavailableReason(format); !why.empty())
        return Exported::failure(path + ": " + why);
    try {
        auto loaded = detail::loadSavedModel(spec, stateDict);
        if (!loaded.ok())
            return Exported::failure(loaded.error());
        detail::SavedModel& model = loaded.value();
        torch::NoGradGuard noGrad;
        std::vector<int64_t> rows =
            model.split.validation.empty() ? model.split.train : model.split.validation;
        rows.resize(std::min<size_t>(rows.size(), kCheckedRows));
        const torch::Tensor input = model.features(rows);
        const torch::Tensor expected = model.network->forward(input);

        ExportReport report;
        report.format = format;
        report.path = path;
        std::string bytes;
        WrittenFiles written;
        if (format == ExportFormat::TorchScript) {
            bytes = detail::torchScriptBytes(spec.model, model.network);
        } else if (format == ExportFormat::Onnx) {
            auto onnx = detail::onnxModelBytes(spec.model, model.data.sampleShape, model.network);
            if (!onnx.ok())
                return Exported::failure(path + ": " + onnx.error());
            bytes = onnx.take();
            report.checkedWith = detail::onnxCheckerName();
        } else {
            const std::vector<char> state = readableStateDict(spec.model, model.network);
            bytes.assign(state.begin(), state.end());
            report.specPath = path + ".spec.json";
            if (auto wrote = writeFileAtomically(report.specPath, experimentSpecToJson(spec) + "\n");
                !wrote.ok())
                return Exported::failure(wrote.error());
            written.add(report.specPath);
        }
        if (auto wrote = writeFileAtomically(path, bytes); !wrote.ok())
            return Exported::failure(wrote.error());
        written.add(path);
        report.bytes = static_cast<int64_t>(bytes.size());

        // The check reads the file back, as a user's program will.
        torch::Tensor actual;
        if (format == ExportFormat::TorchScript) {
            torch::jit::Module reloaded = torch::jit::load(path);
            actual = reloaded.forward({input}).toTensor();
        } else if (format == ExportFormat::Onnx) {
            // Read back by another implementation than the one that computed `expected`.
            auto ran = detail::runOnnxModel(spec.model, path, input);
            if (!ran.ok())
                return Exported::failure(path + ": " + report.checkedWith +
                                         " cannot run the written ONNX model: " + ran.error() +
                                         "; nothing was kept");
            actual = ran.take();
            if (actual.sizes() != expected.sizes())
                return Exported::failure(path + ": " + report.checkedWith +
                                         " computes outputs of another shape from the written ONNX model; "
                                         "nothing was kept");
        } else {
            auto rebuilt =
                detail::loadSavedModel(spec, indexedStateDict(spec.model, readFile(path), model.network));
            if (!rebuilt.ok())
                return Exported::failure(path +
                                         ": the written state dict does not load back: " + rebuilt.error());
            actual = rebuilt.value().network->forward(input);
        }
        report.checkedRows = static_cast<int64_t>(rows.size());
        report.maxAbsDifference = rows.empty() ? 0.0 : (actual - expected).abs().max().item<double>();
        if (!report.verified())
            return Exported::failure(path +
                                     ": the exported model computes other outputs than the run's (largest "
                                     "difference " +
                                     std::to_string(report.maxAbsDifference) + "); nothing was kept");
        written.keep();
        return report;
    } catch (const c10::Error& error) {
        return Exported::failure(path + ": the export failed: " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Exported::failure(path + ": the export failed: " + error.what());
    }
}

namespace detail {

namespace {

torch::jit::Module torchScriptModule(const ModelSpec& model, Network& network) {
    torch::jit::Module module("TuneLabNetwork");
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& item : network->named_parameters())
        tensors[item.key()] = item.value().detach().clone();
    for (const auto& item : network->named_buffers())
        tensors[item.key()] = item.value().detach().clone();
    auto attribute = [&](size_t layer, const std::string& name, bool buffer) -> std::string {
        const auto found = tensors.find(std::to_string(layer) + "." + name);
        if (found == tensors.end())
            return "None";
        const std::string attributeName = "layer" + std::to_string(layer) + "_" + name;
        if (buffer)
            module.register_buffer(attributeName, found->second);
        else
            module.register_parameter(attributeName, found->second, false);
        return "self." + attributeName;
    };
    // Layer i's output is v<i>; the input is x.
    const NetworkGraph graph = buildNetworkGraph(model);
    auto variable = [](int layer) { return layer < 0 ? std::string("x") : "v" + std::to_string(layer); };
    std::string body;
    for (const int index : graph.order) {
        const size_t i = static_cast<size_t>(index);
        const LayerSpec& layer = model.layers[i];
        const std::vector<int>& inputs = graph.inputs[i];
        const std::string x = variable(inputs.front());
        std::string line;
        switch (layer.type) {
        case LayerType::Linear:
            line = "torch.linear(" + x + ", " + attribute(i, "weight", false) + ", " +
                   attribute(i, "bias", false) + ")";
            break;
        case LayerType::Conv2d:
            line = "torch.conv2d(" + x + ", " + attribute(i, "weight", false) + ", " +
                   attribute(i, "bias", false) + ", " + squareSizeText(layer.stride > 0 ? layer.stride : 1) +
                   ", " + squareSizeText(layer.padding) + ")";
            break;
        case LayerType::MaxPool2d:
        case LayerType::AvgPool2d:
            line = std::string(layer.type == LayerType::MaxPool2d ? "torch.max_pool2d" : "torch.avg_pool2d") +
                   "(" + x + ", " + squareSizeText(layer.kernelSize) + ", " +
                   squareSizeText(layer.stride > 0 ? layer.stride : layer.kernelSize) + ", " +
                   squareSizeText(layer.padding) + ")";
            break;
        case LayerType::BatchNorm: {
            const std::string weight = attribute(i, "weight", false), bias = attribute(i, "bias", false);
            line = "torch.batch_norm(" + x + ", " + weight + ", " + bias + ", " +
                   attribute(i, "running_mean", true) + ", " + attribute(i, "running_var", true) +
                   ", False, 0.0, " + detail::scriptNumber(layer.eps) + ", False)";
            break;
        }
        case LayerType::LayerNorm: {
            const auto found = tensors.find(std::to_string(i) + ".weight");
            std::string shape = "[";
            for (int64_t d = 0; found != tensors.end() && d < found->second.dim(); ++d)
                shape += (d ? ", " : "") + std::to_string(found->second.size(d));
            shape += "]";
            line = "torch.layer_norm(" + x + ", " + shape + ", " + attribute(i, "weight", false) + ", " +
                   attribute(i, "bias", false) + ", " + detail::scriptNumber(layer.eps) + ", False)";
            break;
        }
        case LayerType::Dropout: // the identity in evaluation
        case LayerType::Identity:
            line = x;
            break;
        case LayerType::Add:
        case LayerType::Multiply:
            line = x;
            for (size_t k = 1; k < inputs.size(); ++k)
                line += (layer.type == LayerType::Add ? " + " : " * ") + variable(inputs[k]);
            break;
        case LayerType::Concat:
            line = "torch.cat([";
            for (size_t k = 0; k < inputs.size(); ++k)
                line += (k ? ", " : "") + variable(inputs[k]);
            line += "], 1)";
            break;
        case LayerType::Flatten:
            line = "torch.flatten(" + x + ", 1)";
            break;
        case LayerType::ReLU:
            line = "torch.relu(" + x + ")";
            break;
        case LayerType::LeakyReLU:
            line = "torch.leaky_relu(" + x + ", " + detail::scriptNumber(layer.negativeSlope) + ")";
            break;
        case LayerType::ELU:
            line = "torch.elu(" + x + ", " + detail::scriptNumber(layer.alpha) + ")";
            break;
        case LayerType::GELU:
            line = "torch.gelu(" + x + ")";
            break;
        case LayerType::SiLU:
            line = x + " * torch.sigmoid(" + x + ")";
            break;
        case LayerType::Tanh:
            line = "torch.tanh(" + x + ")";
            break;
        case LayerType::Sigmoid:
            line = "torch.sigmoid(" + x + ")";
            break;
        }
        body += "    " + variable(index) + " = " + line + "\n";
    }
    module.define("def forward(self, x):\n" + body + "    return " + variable(graph.output) + "\n");
    module.eval();
    return module;
}

} // namespace

std::string torchScriptBytes(const ModelSpec& model, Network& network) {
    std::ostringstream out;
    torchScriptModule(model, network).save(out);
    return out.str();
}

std::string scriptNumber(double value) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    std::string written = text;
    if (written.find_first_of(".eEn") == std::string::npos)
        written += ".0";
    return written;
}

} // namespace detail

} // namespace tunelab
