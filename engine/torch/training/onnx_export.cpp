#include "training/onnx_export.h"

#include "model/shape_inference.h"

#ifdef TUNELAB_WITH_ONNX
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#endif

#include <map>
#include <regex>
#include <vector>

namespace tunelab::detail {

#ifdef TUNELAB_WITH_ONNX

namespace {

// The IR version of opset 13's release (ONNX 1.8), so that runtimes older than the ONNX library
// TuneLab writes with still read the files.
constexpr int64_t kIrVersion = 7;

constexpr double kSqrtHalf = 0.70710678118654752440; // sqrt(1/2), LibTorch's M_SQRT1_2 in its GELU

// Builds the graph's nodes and initializers. Every name says which layer it belongs to
// ("layers.3.conv2d.weight", node outputs "layers.3.conv2d/Conv"), so that a reader's error names
// the layer too.
class GraphBuilder {
public:
    explicit GraphBuilder(onnx::GraphProto& graph)
        : m_graph(graph) {}

    void startLayer(size_t index, LayerType type) {
        m_prefix = "layers." + std::to_string(index) + "." + toString(type);
    }

    std::string floats(const std::string& name, const std::vector<int64_t>& dims, const float* values,
                       int64_t count) {
        onnx::TensorProto* tensor = m_graph.add_initializer();
        tensor->set_name(m_prefix + "." + name);
        tensor->set_data_type(onnx::TensorProto::FLOAT);
        for (const int64_t dim : dims)
            tensor->add_dims(dim);
        tensor->mutable_float_data()->Add(values, values + count);
        return tensor->name();
    }

    std::string tensor(const std::string& name, const torch::Tensor& value) {
        const torch::Tensor data = value.detach().to(torch::kCPU, torch::kFloat).contiguous();
        return floats(name, data.sizes().vec(), data.data_ptr<float>(), data.numel());
    }

    std::string scalar(const std::string& name, double value) {
        const float single = static_cast<float>(value);
        return floats(name, {}, &single, 1);
    }

    std::string int64s(const std::string& name, const std::vector<int64_t>& values) {
        onnx::TensorProto* tensor = m_graph.add_initializer();
        tensor->set_name(m_prefix + "." + name);
        tensor->set_data_type(onnx::TensorProto::INT64);
        tensor->add_dims(static_cast<int64_t>(values.size()));
        tensor->mutable_int64_data()->Add(values.begin(), values.end());
        return tensor->name();
    }

    // A node of the current layer; its one output is named after it.
    onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs) {
        onnx::NodeProto* node = m_graph.add_node();
        const int seen = m_ops[m_prefix + "/" + op]++;
        const std::string name = m_prefix + "/" + op + (seen > 0 ? "_" + std::to_string(seen) : "");
        node->set_name(name);
        node->set_op_type(op);
        for (const std::string& input : inputs)
            node->add_input(input);
        node->add_output(name);
        return *node;
    }

    std::string apply(const std::string& op, const std::vector<std::string>& inputs) {
        return node(op, inputs).output(0);
    }

    // The operator of the node that computes `tensor`; empty for the graph's input and constants.
    std::string producer(const std::string& tensor) const {
        for (int i = m_graph.node_size() - 1; i >= 0; --i) {
            const onnx::NodeProto& node = m_graph.node(i);
            for (const std::string& output : node.output())
                if (output == tensor)
                    return node.op_type();
        }
        return {};
    }

private:
    onnx::GraphProto& m_graph;
    std::string m_prefix;
    std::map<std::string, int> m_ops;
};

void setInt(onnx::NodeProto& node, const char* name, int64_t value) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(value);
}

void setInts(onnx::NodeProto& node, const char* name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INTS);
    for (const int64_t value : values)
        attribute->add_ints(value);
}

void setFloat(onnx::NodeProto& node, const char* name, double value) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::FLOAT);
    attribute->set_f(static_cast<float>(value));
}

// Kernel, strides and padding of a square 2-D window, as Conv, MaxPool and AveragePool take them.
void setWindow(onnx::NodeProto& node, int64_t kernel, int64_t stride, int64_t padding) {
    setInts(node, "kernel_shape", {kernel, kernel});
    setInts(node, "strides", {stride, stride});
    setInts(node, "pads", {padding, padding, padding, padding});
}

void setValueInfo(onnx::ValueInfoProto& info, const std::string& name, const Shape& sample) {
    info.set_name(name);
    onnx::TypeProto_Tensor* tensor = info.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    onnx::TensorShapeProto* shape = tensor->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    for (const int64_t dim : sample)
        shape->add_dim()->set_dim_value(dim);
}

// Layer normalization over the whole sample, written with operators every runtime has
// (LayerNormalization is opset 17, and OpenCV's DNN module, which checks the export, has neither
// it nor a ReduceMean over a row, and broadcasts a [batch, 1] column only in few places): the
// sample is flattened to [batch, n], the means and variances come from a MatMul with a column of
// 1/n and are expanded to [batch, n], the centred values are scaled by 1 / sqrt(variance + eps) as
// LibTorch does, then by the weight and shifted by the bias, and the result gets the sample's shape
// back.
std::string writeLayerNorm(GraphBuilder& graph, const LayerSpec& layer, const Shape& sample,
                           const torch::Tensor& weight, const torch::Tensor& bias, const std::string& x) {
    const int64_t n = shapeElements(sample);
    std::string rows = x;
    if (sample.size() > 1) {
        onnx::NodeProto& flatten = graph.node("Flatten", {x});
        setInt(flatten, "axis", 1);
        rows = flatten.output(0);
    }
    const std::vector<float> column(static_cast<size_t>(n), 1.0f / static_cast<float>(n));
    const std::string average = graph.floats("average", {n, 1}, column.data(), n);
    const std::string across = graph.int64s("row_shape", {1, n});
    const std::string mean = graph.apply("Expand", {graph.apply("MatMul", {rows, average}), across});
    const std::string centred = graph.apply("Sub", {rows, mean});
    const std::string variance = graph.apply(
        "Expand", {graph.apply("MatMul", {graph.apply("Mul", {centred, centred}), average}), across});
    const std::string deviation =
        graph.apply("Sqrt", {graph.apply("Add", {variance, graph.scalar("eps", layer.eps)})});
    const std::string normalized = graph.apply("Mul", {centred, graph.apply("Reciprocal", {deviation})});
    std::string y = normalized;
    if (weight.defined())
        y = graph.apply("Mul", {y, graph.tensor("weight", weight.reshape({n}))});
    if (bias.defined())
        y = graph.apply("Add", {y, graph.tensor("bias", bias.reshape({n}))});
    if (sample.size() > 1) {
        std::vector<int64_t> shape = {-1};
        shape.insert(shape.end(), sample.begin(), sample.end());
        y = graph.apply("Reshape", {y, graph.int64s("shape", shape)});
    }
    return y;
}

// Appends the nodes of one layer reading `x` (and a merge layer `others` too), and sets `x` to the
// layer's output. Returns why the
// layer cannot be written, or "".
std::string writeLayer(GraphBuilder& graph, size_t index, const LayerSpec& layer, const LayerShape& shape,
                       const std::map<std::string, torch::Tensor>& tensors,
                       const std::vector<std::string>& others, const std::vector<Shape>& inputShapes,
                       std::string& x) {
    auto parameter = [&](const char* name) {
        const auto found = tensors.find(std::to_string(index) + "." + name);
        return found == tensors.end() ? torch::Tensor() : found->second;
    };
    const torch::Tensor weight = parameter("weight"), bias = parameter("bias");
    const bool weighted = layer.type == LayerType::Linear || layer.type == LayerType::Conv2d ||
                          layer.type == LayerType::BatchNorm;
    if (weighted && !weight.defined())
        return "the saved model has no weight for it";
    switch (layer.type) {
    case LayerType::Linear: {
        std::vector<std::string> inputs = {x, graph.tensor("weight", weight)};
        if (bias.defined())
            inputs.push_back(graph.tensor("bias", bias));
        onnx::NodeProto& gemm = graph.node("Gemm", inputs);
        setInt(gemm, "transB", 1); // y = x W^T + b, W as LibTorch stores it: [out, in]
        x = gemm.output(0);
        return {};
    }
    case LayerType::Conv2d: {
        std::vector<std::string> inputs = {x, graph.tensor("weight", weight)};
        if (bias.defined())
            inputs.push_back(graph.tensor("bias", bias));
        onnx::NodeProto& conv = graph.node("Conv", inputs);
        setWindow(conv, layer.kernelSize, layer.stride > 0 ? layer.stride : 1, layer.padding);
        x = conv.output(0);
        return {};
    }
    case LayerType::MaxPool2d: {
        onnx::NodeProto& pool = graph.node("MaxPool", {x});
        setWindow(pool, layer.kernelSize, layer.stride > 0 ? layer.stride : layer.kernelSize, layer.padding);
        x = pool.output(0);
        return {};
    }
    case LayerType::AvgPool2d: {
        // avg_pool2d divides a border window by the whole window, padding included
        // (count_include_pad=True). The padding is written as its own zeros (Pad), which every
        // runtime averages alike; AveragePool's count_include_pad=1 says the same, but OpenCV 4.6
        // ignores it.
        std::string padded = x;
        if (layer.padding > 0) {
            const int64_t p = layer.padding;
            padded = graph.apply("Pad", {x, graph.int64s("pads", {0, 0, p, p, 0, 0, p, p})});
        }
        onnx::NodeProto& pool = graph.node("AveragePool", {padded});
        setWindow(pool, layer.kernelSize, layer.stride > 0 ? layer.stride : layer.kernelSize, 0);
        x = pool.output(0);
        return {};
    }
    case LayerType::BatchNorm: {
        const torch::Tensor mean = parameter("running_mean"), variance = parameter("running_var");
        if (!mean.defined() || !variance.defined() || !bias.defined())
            return "the saved model has no running statistics for it";
        // OpenCV 4.6 folds a batch norm into the add or multiply before it, and then normalizes a
        // [batch, features] tensor along the wrong axis (images are right). On features after a
        // merge the batch norm is written as what it computes in evaluation: a multiply and an add
        // by constants.
        if (shape.input.size() == 1 && (graph.producer(x) == "Add" || graph.producer(x) == "Mul")) {
            const torch::Tensor scale =
                weight.to(torch::kDouble) / (variance.to(torch::kDouble) + layer.eps).sqrt();
            const torch::Tensor shift = bias.to(torch::kDouble) - mean.to(torch::kDouble) * scale;
            x = graph.apply("Mul", {x, graph.tensor("scale", scale.to(torch::kFloat))});
            x = graph.apply("Add", {x, graph.tensor("shift", shift.to(torch::kFloat))});
            return {};
        }
        onnx::NodeProto& norm =
            graph.node("BatchNormalization",
                       {x, graph.tensor("weight", weight), graph.tensor("bias", bias),
                        graph.tensor("running_mean", mean), graph.tensor("running_var", variance)});
        setFloat(norm, "epsilon", layer.eps);
        x = norm.output(0);
        return {};
    }
    case LayerType::LayerNorm:
        x = writeLayerNorm(graph, layer, shape.input, weight, bias, x);
        return {};
    case LayerType::Dropout:
        return {}; // the identity in evaluation
    case LayerType::Flatten: {
        onnx::NodeProto& flatten = graph.node("Flatten", {x});
        setInt(flatten, "axis", 1);
        x = flatten.output(0);
        return {};
    }
    case LayerType::ReLU:
        x = graph.apply("Relu", {x});
        return {};
    case LayerType::LeakyReLU: {
        onnx::NodeProto& leaky = graph.node("LeakyRelu", {x});
        setFloat(leaky, "alpha", layer.negativeSlope);
        x = leaky.output(0);
        return {};
    }
    case LayerType::ELU: {
        onnx::NodeProto& elu = graph.node("Elu", {x});
        setFloat(elu, "alpha", layer.alpha);
        x = elu.output(0);
        return {};
    }
    case LayerType::GELU: {
        // The exact GELU (Gelu is an operator from opset 20 on), in LibTorch's order of operations:
        // x * 0.5 * (1 + erf(x * sqrt(1/2))).
        const std::string half = graph.apply("Mul", {x, graph.scalar("half", 0.5)});
        const std::string erf =
            graph.apply("Erf", {graph.apply("Mul", {x, graph.scalar("sqrt_half", kSqrtHalf)})});
        x = graph.apply("Mul", {half, graph.apply("Add", {erf, graph.scalar("one", 1.0)})});
        return {};
    }
    case LayerType::SiLU:
        x = graph.apply("Mul", {x, graph.apply("Sigmoid", {x})});
        return {};
    case LayerType::Tanh:
        x = graph.apply("Tanh", {x});
        return {};
    case LayerType::Sigmoid:
        x = graph.apply("Sigmoid", {x});
        return {};
    case LayerType::Identity:
        return {};
    case LayerType::Add:
    case LayerType::Multiply: {
        // OpenCV's DNN module, which checks every written file, adds and multiplies two computed
        // tensors only when their shapes are equal, and has neither Tile nor an Expand that keeps the
        // batch: an input's sides of size 1 are repeated to the output's by concatenating it with
        // itself along each (the batch stays).
        const auto expanded = [&](std::string input, size_t k) {
            for (size_t d = 0; d < shape.output.size(); ++d) {
                if (inputShapes[k][d] == shape.output[d])
                    continue;
                onnx::NodeProto& repeat = graph.node(
                    "Concat", std::vector<std::string>(static_cast<size_t>(shape.output[d]), input));
                setInt(repeat, "axis", static_cast<int64_t>(d) + 1);
                input = repeat.output(0);
            }
            return input;
        };
        x = expanded(x, 0);
        for (size_t k = 1; k <= others.size(); ++k)
            x = graph.apply(layer.type == LayerType::Add ? "Add" : "Mul", {x, expanded(others[k - 1], k)});
        return {};
    }
    case LayerType::Concat: {
        if (others.empty())
            return {};
        std::vector<std::string> parts{x};
        parts.insert(parts.end(), others.begin(), others.end());
        onnx::NodeProto& concat = graph.node("Concat", parts);
        setInt(concat, "axis", 1);
        x = concat.output(0);
        return {};
    }
    }
    return "ONNX has no operator for it";
}

// "model.layers[3] (layernorm): " for the first node name of a layer in a reader's message.
std::string layerOfMessage(const std::string& message, const ModelSpec& model) {
    static const std::regex layerName(R"(layers\.(\d+)\.)");
    std::smatch match;
    if (!std::regex_search(message, match, layerName))
        return {};
    const size_t index = std::stoul(match[1].str());
    if (index >= model.layers.size())
        return {};
    return "model.layers[" + std::to_string(index) + "] (" + toString(model.layers[index].type) + "): ";
}

} // namespace

std::string onnxUnavailableReason() {
    return {};
}

std::string onnxCheckerName() {
    return std::string("OpenCV ") + CV_VERSION;
}

Result<std::string> onnxModelBytes(const ModelSpec& model, const Shape& input, Network& network) {
    using Written = Result<std::string>;
    const ShapeReport shapes = inferShapes(model, input);
    if (!shapes.ok())
        return Written::failure(shapes.errors.front());
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& item : network->named_parameters())
        tensors[item.key()] = item.value();
    for (const auto& item : network->named_buffers())
        tensors[item.key()] = item.value();

    onnx::ModelProto proto;
    proto.set_ir_version(kIrVersion);
    proto.set_producer_name("TuneLab");
    onnx::OperatorSetIdProto* opset = proto.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxOpset);
    onnx::GraphProto& graph = *proto.mutable_graph();
    graph.set_name("tunelab_network");
    setValueInfo(*graph.add_input(), "input", input);
    GraphBuilder builder(graph);
    // values[0] is the input's name, values[i + 1] layer i's output's.
    std::vector<std::string> values(model.layers.size() + 1, "input");
    for (const int layer : shapes.graph.order) {
        const size_t i = static_cast<size_t>(layer);
        const std::vector<int>& inputs = shapes.graph.inputs[i];
        std::string x = values[inputs.front() + 1];
        std::vector<std::string> others;
        std::vector<Shape> inputShapes;
        for (size_t k = 0; k < inputs.size(); ++k) {
            if (k > 0)
                others.push_back(values[inputs[k] + 1]);
            inputShapes.push_back(inputs[k] < 0 ? input : shapes.layers[inputs[k]].output);
        }
        builder.startLayer(i, model.layers[i].type);
        if (const std::string why =
                writeLayer(builder, i, model.layers[i], shapes.layers[i], tensors, others, inputShapes, x);
            !why.empty())
            return Written::failure("model.layers[" + std::to_string(i) + "]: " +
                                    toString(model.layers[i].type) + " cannot be written as ONNX: " + why);
        values[i + 1] = x;
    }
    const std::string x = values[shapes.graph.output + 1];
    // The last node's output is the graph's; a network that computes nothing (dropout only) gets an
    // Identity.
    if (graph.node_size() > 0 && graph.node(graph.node_size() - 1).output(0) == x)
        graph.mutable_node(graph.node_size() - 1)->set_output(0, "output");
    else {
        onnx::NodeProto* identity = graph.add_node();
        identity->set_name("output/Identity");
        identity->set_op_type("Identity");
        identity->add_input(x);
        identity->add_output("output");
    }
    setValueInfo(*graph.add_output(), "output", shapes.output);

    try {
        onnx::checker::check_model(proto);
        // Strict shape inference on a copy: every node's types and shapes agree, and so does the
        // declared output with what the operators compute.
        onnx::ModelProto inferred = proto;
        onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                           onnx::ShapeInferenceOptions(true, 1, true));
    } catch (const std::exception& error) {
        return Written::failure(layerOfMessage(error.what(), model) +
                                "the ONNX model does not pass ONNX's checks: " + error.what());
    }
    std::string bytes;
    if (!proto.SerializeToString(&bytes))
        return Written::failure("the ONNX model cannot be serialized (larger than 2 GB?)");
    return bytes;
}

Result<torch::Tensor> runOnnxModel(const ModelSpec& model, const std::string& path,
                                   const torch::Tensor& input) {
    using Ran = Result<torch::Tensor>;
    try {
        cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        torch::Tensor rows = input.detach().to(torch::kCPU, torch::kFloat).contiguous();
        const std::vector<int> dims(rows.sizes().begin(), rows.sizes().end());
        net.setInput(cv::Mat(static_cast<int>(dims.size()), dims.data(), CV_32F, rows.data_ptr<float>()),
                     "input");
        cv::Mat output = net.forward();
        if (output.type() != CV_32F || !output.isContinuous())
            return Ran::failure("OpenCV's output is not a float32 tensor");
        const std::vector<int64_t> sizes(output.size.p, output.size.p + output.dims);
        return torch::from_blob(output.ptr<float>(), sizes, torch::kFloat).clone();
    } catch (const cv::Exception& error) {
        // OpenCV's text comes in lines that start with "> "; one line reads better in TuneLab's message.
        std::string message = std::regex_replace(error.err.empty() ? std::string(error.what()) : error.err,
                                                 std::regex(R"((^|\n)>? *)"), " ");
        message = std::regex_replace(message, std::regex(R"(^ +| +$)"), "");
        return Ran::failure(layerOfMessage(message, model) + message);
    }
}

#else

std::string onnxUnavailableReason() {
    return "this TuneLab was built without ONNX support (building it with ONNX export needs Debian's "
           "libonnx-dev and libopencv-dev)";
}

std::string onnxCheckerName() {
    return {};
}

Result<std::string> onnxModelBytes(const ModelSpec&, const Shape&, Network&) {
    return Result<std::string>::failure(onnxUnavailableReason());
}

Result<torch::Tensor> runOnnxModel(const ModelSpec&, const std::string&, const torch::Tensor&) {
    return Result<torch::Tensor>::failure(onnxUnavailableReason());
}

#endif

} // namespace tunelab::detail
