// The quantized network in memory, and its file: a TorchScript module written, read back and checked
// (the format is described in compress/quantization.h).

#include "common/atomic_file.h"
#include "common/file_text.h"
#include "common/zip_archive_check.h"
#include "compress/quantization.h"

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/script.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace tunelab::detail {

namespace {

constexpr const char* kExtraRecord = "tunelab_int8.json";
constexpr const char* kFormat = "tunelab-int8";
constexpr uint64_t kMaxModelFileBytes = uint64_t(4) << 30; // far above any int8 model TuneLab writes

// Resolves `torch` to the aten operators, as TorchScript does by default, and `quantized` to the
// quantized:: operators (which a saved module writes as ops.quantized.*).
class QuantizedOpsResolver : public torch::jit::Resolver {
public:
    std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name,
                                                           torch::jit::GraphFunction&,
                                                           const torch::jit::SourceRange&) override {
        if (name == "torch")
            return std::make_shared<torch::jit::BuiltinModule>("aten");
        if (name == "quantized")
            return std::make_shared<torch::jit::BuiltinModule>("quantized");
        return nullptr;
    }
    c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override { return nullptr; }
};

std::string shapeOf(const torch::Tensor& tensor) {
    std::string shape = "[";
    for (int64_t d = 0; d < tensor.dim(); ++d)
        shape += (d ? ", " : "") + std::to_string(tensor.size(d));
    return shape + "]";
}

// Every int8 weight in one int8 tensor and every float value in one float32 tensor: the two tensors
// the file holds. Each add returns the TorchScript expression of the tensor as a view into them.
class FlatBuffers {
public:
    std::string addInt8(const torch::Tensor& tensor) {
        return add(m_int8, m_int8Size, "int8_weights", tensor);
    }
    std::string addFloat(const torch::Tensor& tensor) {
        return add(m_float, m_floatSize, "float_values", tensor);
    }
    torch::Tensor int8() const { return join(m_int8, torch::kChar); }
    torch::Tensor floats() const { return join(m_float, torch::kFloat); }

private:
    static std::string add(std::vector<torch::Tensor>& parts, int64_t& size, const char* buffer,
                           const torch::Tensor& tensor) {
        parts.push_back(tensor.contiguous().flatten());
        const int64_t begin = size;
        size += tensor.numel();
        return std::string("self.") + buffer + "[" + std::to_string(begin) + ":" + std::to_string(size) +
               "].view(" + shapeOf(tensor) + ")";
    }
    static torch::Tensor join(const std::vector<torch::Tensor>& parts, torch::ScalarType type) {
        return parts.empty() ? torch::empty({0}, type) : torch::cat(parts).contiguous();
    }
    std::vector<torch::Tensor> m_int8, m_float;
    int64_t m_int8Size = 0, m_floatSize = 0;
};

// The line of __setstate__ that packs an int8 stage's weight again from the flat buffers.
std::string packLine(const QuantizedStage& stage, FlatBuffers& buffers) {
    const Int8Weight& weight = stage.int8Weight;
    const std::string values = buffers.addInt8(weight.values);
    const std::string quantized = weight.perChannel
                                      ? "torch._make_per_channel_quantized_tensor(" + values + ", " +
                                            buffers.addFloat(weight.scales) + ".double(), torch.zeros([" +
                                            std::to_string(weight.scales.size(0)) + "], dtype=4), 0)"
                                      : "torch._make_per_tensor_quantized_tensor(" + values + ", " +
                                            scriptNumber(weight.scales.item<double>()) + ", 0)";
    const std::string bias = buffers.addFloat(stage.bias);
    const std::string self = "self.layer" + std::to_string(stage.layer) + "_packed";
    if (stage.spec.type == LayerType::Conv2d) {
        const int64_t stride = stage.spec.stride > 0 ? stage.spec.stride : 1;
        const std::string s = std::to_string(stride), p = std::to_string(stage.spec.padding);
        return self + " = quantized.conv2d_prepack(" + quantized + ", " + bias + ", [" + s + ", " + s +
               "], [" + p + ", " + p + "], [1, 1], 1)";
    }
    return self + " = quantized.linear_prepack(" + quantized + ", " + bias + ")";
}

torch::jit::Module scriptModule(const QuantizedNetwork& network) {
    torch::jit::Module module("TuneLabInt8Network");
    module.register_attribute("training", c10::BoolType::get(), false);
    FlatBuffers buffers;
    std::string setState;
    for (const QuantizedStage& stage : network.stages()) {
        const std::string prefix = "layer" + std::to_string(stage.layer) + "_";
        if (stage.quantizable() && stage.int8) {
            module.register_attribute(prefix + "packed", stage.packed.type(), stage.packed);
            setState += "    " + packLine(stage, buffers) + "\n";
            continue;
        }
        for (const auto& [name, tensor] :
             {std::pair<const char*, const torch::Tensor&>{"weight", stage.weight},
              {"bias", stage.bias},
              {"scale", stage.scale},
              {"shift", stage.shift}}) {
            if (!tensor.defined())
                continue;
            module.register_attribute(prefix + name, c10::TensorType::get(), tensor);
            setState += "    self." + prefix + name + " = " + buffers.addFloat(tensor) + "\n";
        }
    }
    module.register_attribute("int8_weights", c10::TensorType::get(), buffers.int8());
    module.register_attribute("float_values", c10::TensorType::get(), buffers.floats());

    // One variable per stage (v0, v1, ...) on the input x, each converted where the plan says.
    const std::vector<QuantizedStage>& stages = network.stages();
    const ConversionPlan plan = planConversions(stages);
    std::string forward;
    for (size_t i = 0; i < stages.size(); ++i) {
        std::vector<std::string> inputs;
        for (size_t k = 0; k < stages[i].inputs.size(); ++k) {
            const int from = stages[i].inputs[k];
            const std::string value =
                from == QuantizedStage::kNetworkInput ? "x" : "v" + std::to_string(from);
            const ActivationQuant& quant = stages[i].input;
            switch (plan.inputs[i][k]) {
            case Conversion::Quantize: // 13: torch.quint8
                inputs.push_back("torch.quantize_per_tensor(" + value + ", " + scriptNumber(quant.scale) +
                                 ", " + std::to_string(quant.zeroPoint) + ", 13)");
                break;
            case Conversion::Dequantize:
                inputs.push_back("torch.dequantize(" + value + ")");
                break;
            case Conversion::None:
                inputs.push_back(value);
                break;
            }
        }
        forward += "    v" + std::to_string(i) + " = " + scriptLine(stages[i], inputs) + "\n";
    }
    const std::string last = stages.empty() ? "x" : "v" + std::to_string(stages.size() - 1);
    forward += "    return " + (plan.dequantizeOutput ? "torch.dequantize(" + last + ")" : last) + "\n";
    module.define("def __getstate__(self):\n"
                  "    return (self.int8_weights, self.float_values, self.training)\n"
                  "\n"
                  "def __setstate__(self, state: Tuple[Tensor, Tensor, bool]):\n"
                  "    self.int8_weights = state[0]\n"
                  "    self.float_values = state[1]\n"
                  "    self.training = state[2]\n" +
                      setState +
                      "\n"
                      "def forward(self, x):\n" +
                      forward,
                  std::make_shared<QuantizedOpsResolver>());
    return module;
}

// Removes a written file unless keep() was called: a file that did not verify is not left behind.
class WrittenFile {
public:
    explicit WrittenFile(std::string path)
        : m_path(std::move(path)) {}
    ~WrittenFile() {
        if (!m_path.empty())
            std::remove(m_path.c_str());
    }
    WrittenFile(const WrittenFile&) = delete;
    WrittenFile& operator=(const WrittenFile&) = delete;
    void keep() { m_path.clear(); }

private:
    std::string m_path;
};

} // namespace

QuantizedNetwork::QuantizedNetwork(std::vector<QuantizedStage> stages, QuantizedEngine engine)
    : m_stages(std::move(stages))
    , m_engine(engine)
    , m_plan(planConversions(m_stages)) {}

torch::Tensor QuantizedNetwork::forward(const torch::Tensor& input) const {
    torch::NoGradGuard noGrad;
    const torch::Tensor x = input.to(torch::kFloat).contiguous();
    if (m_stages.empty())
        return x;
    std::vector<torch::Tensor> values(m_stages.size());
    std::vector<torch::Tensor> inputs;
    for (size_t i = 0; i < m_stages.size(); ++i) {
        const QuantizedStage& stage = m_stages[i];
        inputs.clear();
        for (size_t k = 0; k < stage.inputs.size(); ++k) {
            const int from = stage.inputs[k];
            const torch::Tensor& value =
                from == QuantizedStage::kNetworkInput ? x : values[static_cast<size_t>(from)];
            switch (m_plan.inputs[i][k]) {
            case Conversion::Quantize:
                inputs.push_back(quantizeActivation(value, stage.input));
                break;
            case Conversion::Dequantize:
                inputs.push_back(value.dequantize());
                break;
            case Conversion::None:
                inputs.push_back(value);
                break;
            }
        }
        values[i] = stage.quantizable() && stage.int8 ? runInt8(stage, inputs[0]) : runFloat(stage, inputs);
    }
    return m_plan.dequantizeOutput ? values.back().dequantize() : values.back();
}

torch::Tensor QuantizedModelFile::forward(const torch::Tensor& input) {
    torch::NoGradGuard noGrad;
    return m_module.forward({input.to(torch::kFloat).contiguous()}).toTensor();
}

Result<QuantizedModelFile> loadQuantizedModel(const std::string& path) {
    using Loaded = Result<QuantizedModelFile>;
    try {
        // LibTorch reads an archive without checking its CRC-32s: a damaged file would load changed weights.
        auto bytes = readRegularFile(path, kMaxModelFileBytes);
        if (!bytes.ok())
            return Loaded(Errors{bytes.errors()});
        if (const std::string damage = zipArchiveDamage(bytes.value().data(), bytes.value().size());
            !damage.empty())
            return Loaded::failure(path + ": the int8 model is damaged: " + damage);
        QuantizedModelFile file;
        {
            std::istringstream stream(bytes.value());
            caffe2::serialize::PyTorchStreamReader reader(&stream);
            const std::string record = std::string("extra/") + kExtraRecord;
            if (!reader.hasRecord(record))
                return Loaded::failure(path + ": not an int8 model saved by TuneLab (it has no " +
                                       kExtraRecord + ")");
            const auto [data, size] = reader.getRecord(record);
            const auto header =
                nlohmann::json::parse(std::string(static_cast<const char*>(data.get()), size));
            const std::string engine = header.value("engine", "");
            if (header.value("format", "") != kFormat || !parseQuantizedEngine(engine, file.m_engine) ||
                file.m_engine == QuantizedEngine::Auto)
                return Loaded::failure(path + ": " + kExtraRecord + " names no quantized engine");
            const auto available = availableEngines();
            if (std::find(available.begin(), available.end(), file.m_engine) == available.end())
                return Loaded::failure(path + ": the model was quantized for the " + engine +
                                       " engine, which this LibTorch does not have");
        }
        EngineScope scope(file.m_engine);
        std::istringstream stream(bytes.value());
        file.m_module = torch::jit::load(stream);
        file.m_module.eval();
        return file;
    } catch (const c10::Error& error) {
        return Loaded::failure(path + ": cannot load the int8 model: " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Loaded::failure(path + ": cannot load the int8 model: " + error.what());
    }
}

Result<QuantizedSaveReport> saveQuantizedModel(const QuantizedNetwork& network,
                                               const torch::Tensor& checkInput, const std::string& path) {
    using Saved = Result<QuantizedSaveReport>;
    try {
        if (!checkInput.defined() || checkInput.dim() < 2 || checkInput.size(0) == 0)
            return Saved::failure(path + ": there are no rows to check the int8 model on");
        torch::NoGradGuard noGrad;
        const torch::Tensor expected = network.forward(checkInput);
        std::ostringstream out;
        const nlohmann::json header = {
            {"format", kFormat}, {"version", 1}, {"engine", toString(network.engine())}};
        scriptModule(network).save(out, {{kExtraRecord, header.dump()}});
        const std::string bytes = out.str();
        if (auto wrote = tunelab::writeFileAtomically(path, bytes); !wrote.ok())
            return Saved(Errors{wrote.errors()});
        WrittenFile written(path);

        QuantizedSaveReport report;
        report.path = path;
        report.bytes = static_cast<int64_t>(bytes.size());
        auto loaded = loadQuantizedModel(path);
        if (!loaded.ok())
            return Saved::failure(path + ": the written int8 model does not load back: " + loaded.error());
        const torch::Tensor actual = loaded.value().forward(checkInput);
        if (actual.sizes() != expected.sizes())
            return Saved::failure(
                path + ": the written int8 model computes outputs of another shape; nothing was kept");
        report.checkedRows = checkInput.size(0);
        report.maxAbsDifference = (actual - expected).abs().max().item<double>();
        report.tolerance = 1e-5 * std::max(1.0, expected.abs().max().item<double>());
        if (!report.verified())
            return Saved::failure(
                path +
                ": the written int8 model computes other outputs than the quantized network "
                "(largest difference " +
                std::to_string(report.maxAbsDifference) + "); nothing was kept");
        written.keep();
        return report;
    } catch (const c10::Error& error) {
        return Saved::failure(path + ": saving the int8 model failed: " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Saved::failure(path + ": saving the int8 model failed: " + error.what());
    }
}

Result<QuantizedSaveReport> saveQuantizedModel(const QuantizationResult& result, const std::string& path) {
    return saveQuantizedModel(result.network, result.checkInput, path);
}

} // namespace tunelab::detail
