// Graph networks in the spec: names and inputs, merge layers, blocks, the graph's order and
// errors, shape inference on graphs, and the writer giving back what was written.
#include "model/network_graph.h"
#include "model/shape_inference.h"
#include "search/search_space.h"
#include "spec/spec_keys.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <string>

using namespace tunelab;

namespace {

const std::string kImageData =
    R"("data": {"kind": "blobs", "samples": 64, "classes": 3, "features": 64, "input_shape": [1, 8, 8]})";

// A spec around `model` (the JSON of the model section).
std::string specWith(const std::string& model) {
    return "{\"name\": \"graph\", " + kImageData + ", \"model\": " + model + "}";
}

ExperimentSpec parsed(const std::string& model) {
    auto result = parseExperimentSpec(specWith(model));
    if (!result.ok())
        qWarning("%s", result.errors().front().c_str());
    return result.ok() ? result.value() : ExperimentSpec();
}

std::vector<std::string> parseErrors(const std::string& model) {
    auto result = parseExperimentSpec(specWith(model));
    return result.ok() ? std::vector<std::string>() : result.errors();
}

bool anyContains(const std::vector<std::string>& messages, const std::string& part) {
    for (const auto& message : messages)
        if (message.find(part) != std::string::npos)
            return true;
    qWarning("no message contains '%s'; the messages are:", part.c_str());
    for (const auto& message : messages)
        qWarning("  %s", message.c_str());
    return false;
}

const Shape kImage = {1, 8, 8};

const char* kResidual = R"({
  "blocks": {"residual": {"layers": [
    {"type": "conv2d", "out_channels": 8, "padding": 1, "name": "a"},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 8, "padding": 1, "name": "b"},
    {"type": "add", "inputs": ["b", "input"]},
    {"type": "relu"}]}},
  "layers": [
    {"type": "conv2d", "out_channels": 8, "padding": 1, "name": "stem"},
    {"type": "block", "block": "residual", "name": "res1"},
    {"type": "block", "block": "residual", "name": "res2"},
    {"type": "flatten", "inputs": ["res2"]},
    {"type": "linear", "out_features": 3}]})";

} // namespace

class TestNetworkGraph : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aStackIsAChainInItsWrittenOrder() {
        const ExperimentSpec spec =
            parsed(R"({"layers": [{"type": "flatten"}, {"type": "linear", "out_features": 3}]})");
        const NetworkGraph graph = buildNetworkGraph(spec.model);
        QVERIFY(graph.ok());
        QVERIFY(graph.chain);
        QCOMPARE(graph.order, (std::vector<int>{0, 1}));
        QCOMPARE(graph.inputs[0], std::vector<int>{NetworkGraph::kNetworkInput});
        QCOMPARE(graph.output, 1);
    }

    void blocksExpandAtEachInstance() {
        const ExperimentSpec spec = parsed(kResidual);
        QCOMPARE(spec.model.layers.size(), size_t(1 + 2 * 6 + 2));
        QCOMPARE(spec.model.layers[1].name, std::string("res1/input"));
        QCOMPARE(spec.model.layers[1].type, LayerType::Identity);
        QCOMPARE(spec.model.layers[2].name, std::string("res1/a"));
        QCOMPARE(spec.model.layers[3].name, std::string("res1/1"));
        QCOMPARE(spec.model.layers[5].inputs, (std::vector<std::string>{"res1/b", "res1/input"}));
        QCOMPARE(spec.model.layers[9].block, std::string("residual"));
        QCOMPARE(spec.model.layers[9].instance, std::string("res2"));

        const ShapeReport report = inferShapes(spec.model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QVERIFY(!report.graph.chain);
        // The add of res1 reads its second convolution and the block's input.
        QCOMPARE(report.graph.inputs[5], (std::vector<int>{4, 1}));
        // "res2" stands for the instance's last layer.
        QCOMPARE(report.graph.inputs[13], std::vector<int>{12});
        QCOMPARE(report.output, (Shape{3}));
        const int64_t conv = 8 * 8 * 9 + 8;
        QCOMPARE(report.totalParams, (1 * 8 * 9 + 8) + 4 * conv + (8 * 64 * 3 + 3));
        QCOMPARE(report.layers[5].flops, int64_t(8 * 8 * 8));
    }

    void theWriterGivesBackTheBlocks() {
        const ExperimentSpec spec = parsed(kResidual);
        const std::string json = experimentSpecToJson(spec);
        QVERIFY(json.find("\"block\": \"residual\"") != std::string::npos);
        QVERIFY(json.find("res1/a") == std::string::npos);
        auto again = parseExperimentSpec(json);
        QVERIFY(again.ok());
        QCOMPARE(experimentSpecToJson(again.value()), json);
    }

    void anInstanceEditedLayerByLayerIsWrittenOutAndStillRead() {
        ExperimentSpec spec = parsed(kResidual);
        spec.model.layers[2].outChannels = 8; // unchanged: still the block
        QVERIFY(experimentSpecToJson(spec).find("res1/a") == std::string::npos);
        spec.model.layers[12].type = LayerType::GELU; // res2's last relu
        const std::string json = experimentSpecToJson(spec);
        QVERIFY(json.find("\"name\": \"res1\"") != std::string::npos);
        QVERIFY(json.find("res2/a") != std::string::npos);
        auto again = parseExperimentSpec(json);
        QVERIFY2(again.ok(), again.ok() ? "" : again.errors().front().c_str());
        QCOMPARE(again.value().model.layers[12].type, LayerType::GELU);
        // "res2" still names the last of its layers, now written one by one.
        const ShapeReport report = inferShapes(again.value().model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QCOMPARE(report.graph.inputs[13], std::vector<int>{12});
    }

    void mergesInferTheirShapes() {
        const ExperimentSpec spec = parsed(R"({"layers": [
            {"type": "conv2d", "out_channels": 4, "padding": 1, "name": "left"},
            {"type": "conv2d", "out_channels": 6, "padding": 1, "name": "right", "inputs": ["input"]},
            {"type": "concat", "inputs": ["left", "right", "input"], "name": "joined"},
            {"type": "avgpool2d", "kernel_size": 8, "name": "squeeze"},
            {"type": "multiply", "inputs": ["joined", "squeeze"]},
            {"type": "flatten"}, {"type": "linear", "out_features": 3}]})");
        const ShapeReport report = inferShapes(spec.model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QCOMPARE(report.layers[2].output, (Shape{11, 8, 8}));
        QCOMPARE(report.layers[3].output, (Shape{11, 1, 1}));
        QCOMPARE(report.layers[4].output, (Shape{11, 8, 8})); // the size-1 side repeats
        QCOMPARE(report.layers[5].output, (Shape{11 * 64}));
    }

    void mismatchedMergesNameTheLayerAndItsInputs() {
        const ExperimentSpec spec = parsed(R"({"layers": [
            {"type": "conv2d", "out_channels": 8, "padding": 1, "name": "pool1"},
            {"type": "conv2d", "out_channels": 16, "padding": 1, "name": "conv2b"},
            {"type": "add", "inputs": ["conv2b", "pool1"], "name": "res2"},
            {"type": "flatten"}, {"type": "linear", "out_features": 3}]})");
        const ShapeReport report = inferShapes(spec.model, kImage);
        QVERIFY(
            anyContains(report.errors,
                        "add 'res2': inputs 'conv2b' [16, 8, 8] and 'pool1' [8, 8, 8] differ in channels"));
        // Layers after it cannot be known; the ones before it are.
        QCOMPARE(report.layers[1].output, (Shape{16, 8, 8}));
        QVERIFY(report.layers[3].output.empty());

        const ExperimentSpec heights = parsed(R"({"layers": [
            {"type": "maxpool2d", "kernel_size": 2, "name": "small"},
            {"type": "concat", "inputs": ["small", "input"]},
            {"type": "flatten"}, {"type": "linear", "out_features": 3}]})");
        QVERIFY(anyContains(inferShapes(heights.model, kImage).errors,
                            "inputs 'small' [1, 4, 4] and the input [1, 8, 8] differ in height; concat joins "
                            "along channels"));
        const ExperimentSpec ranks = parsed(R"({"layers": [
            {"type": "flatten", "name": "flat"},
            {"type": "add", "inputs": ["flat", "input"]},
            {"type": "linear", "out_features": 3}]})");
        QVERIFY(anyContains(inferShapes(ranks.model, kImage).errors, "have different ranks"));
    }

    void badGraphsAreReportedByLayer() {
        auto errorsOf = [](const std::string& model) {
            return inferShapes(parsed(model).model, kImage).errors;
        };
        QVERIFY(anyContains(errorsOf(R"({"layers": [{"type": "flatten", "name": "flat"},
            {"type": "linear", "out_features": 3, "inputs": ["flt"]}]})"),
                            "layer 1 (linear): input 'flt' is not a layer; did you mean 'flat'?"));
        QVERIFY(anyContains(errorsOf(R"({"layers": [
            {"type": "relu", "name": "a", "inputs": ["c"]}, {"type": "relu", "name": "b", "inputs": ["a"]},
            {"type": "add", "name": "c", "inputs": ["b", "input"]},
            {"type": "flatten", "inputs": ["input"]}, {"type": "linear", "out_features": 3}]})"),
                            "read each other in a cycle"));
        QVERIFY(anyContains(errorsOf(R"({"layers": [{"type": "relu", "name": "x"},
            {"type": "flatten", "name": "x", "inputs": ["input"]}, {"type": "linear", "out_features": 3}]})"),
                            "the name 'x' is already layer 0's"));
        QVERIFY(anyContains(errorsOf(R"({"layers": [{"type": "relu", "name": "lost"},
            {"type": "flatten", "inputs": ["input"]}, {"type": "linear", "out_features": 3}]})"),
                            "relu 'lost' feeds nothing"));
        ModelSpec twoInputs = parsed(kResidual).model;
        twoInputs.layers[5].type = LayerType::ReLU; // res1's add
        QVERIFY(anyContains(inferShapes(twoInputs, kImage).errors,
                            "relu 'res1/3' reads one input but 2 are named; merge them first"));
        QVERIFY(anyContains(errorsOf(R"({"layers": [{"type": "relu", "name": "me", "inputs": ["me"]},
            {"type": "flatten"}, {"type": "linear", "out_features": 3}]})"),
                            "relu 'me' reads itself"));
    }

    void badSpecsAreRefusedWithTheirPath() {
        QVERIFY(anyContains(parseErrors(R"({"layers": [{"type": "flatten", "inputs": ["input", "input"]}]})"),
                            "model.layers[0].inputs: a flatten layer reads one input but 2 are named"));
        QVERIFY(anyContains(parseErrors(R"({"layers": [{"type": "block", "block": "nope", "name": "b"}]})"),
                            "model.layers[0].block: 'nope' is not a block in model.blocks"));
        QVERIFY(anyContains(
            parseErrors(
                R"({"blocks": {"r": {"layers": [{"type": "relu"}]}}, "layers": [{"type": "block", "block": "r"}]})"),
            "model.layers[0].name: missing; a block instance needs a name"));
        QVERIFY(anyContains(
            parseErrors(R"({"blocks": {"r": {"layers": [{"type": "relu", "inputs": ["outside"]}]}},
                            "layers": [{"type": "block", "block": "r", "name": "b"}]})"),
            "model.blocks.r.layers[0].inputs[0]: 'outside' is not a layer before it in block 'r'"));
        QVERIFY(anyContains(parseErrors(R"({"blocks": {"r": {"layers": [{"type": "block", "block": "r"}]}},
                            "layers": [{"type": "relu"}]})"),
                            "model.blocks.r.layers[0]: a block cannot contain a block"));
        QVERIFY(anyContains(parseErrors(R"({"layers": [{"type": "relu", "name": "input"}]})"),
                            "model.layers[0].name: expected a layer name"));
        QVERIFY(anyContains(parseErrors(R"({"layers": [{"type": "add", "inputs": []}]})"),
                            "model.layers[0].inputs: expected a list of layer names"));
    }

    void aWrittenOrderThatIsNotTopologicalIsSorted() {
        const ExperimentSpec spec = parsed(R"({"layers": [
            {"type": "relu", "name": "late", "inputs": ["early"]},
            {"type": "flatten", "name": "early", "inputs": ["input"]},
            {"type": "linear", "out_features": 3, "inputs": ["late"]}]})");
        const ShapeReport report = inferShapes(spec.model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QCOMPARE(report.graph.order, (std::vector<int>{1, 0, 2}));
        QCOMPARE(report.output, (Shape{3}));
    }

    void aTrialCanSwitchTheTypeOfABlocksLayer() {
        const auto keys = keysForType("model.blocks.residual.layers[1]", "leaky_relu");
        QVERIFY(keys.has_value());
        QVERIFY(std::find(keys->begin(), keys->end(), "negative_slope") != keys->end());
        QVERIFY(std::find(keys->begin(), keys->end(), "inputs") != keys->end());
    }

    void twoHundredLayerGraphsAreInferred() {
        // Twenty dense blocks of ten layers, each concatenating everything before it in the block.
        auto conv = [](const std::string& name, const std::string& inputs, int kernel) {
            return ", {\"type\": \"conv2d\", \"out_channels\": 4, \"kernel_size\": " +
                   std::to_string(kernel) + ", \"padding\": " + std::to_string(kernel / 2) +
                   ", \"name\": \"" + name + "\"" + (inputs.empty() ? "" : ", \"inputs\": [" + inputs + "]") +
                   "}";
        };
        auto quoted = [](const std::string& name) { return "\"" + name + "\""; };
        std::string layers = conv("s0", "", 3).substr(2);
        for (int block = 0; block < 20; ++block) {
            std::string joined = quoted("s" + std::to_string(block));
            for (int k = 0; k < 4; ++k) {
                const std::string id = "b" + std::to_string(block) + "_" + std::to_string(k);
                const std::string previous = "b" + std::to_string(block) + "_" + std::to_string(k - 1) + "j";
                layers += conv(id + "c", k ? quoted(previous) : joined, 3);
                joined += ", " + quoted(id + "c");
                layers += ", {\"type\": \"concat\", \"name\": " + quoted(id + "j") + ", \"inputs\": [" +
                          joined + "]}";
            }
            layers += conv("s" + std::to_string(block + 1), "", 1);
        }
        layers += ", {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out_features\": 3}";
        const ExperimentSpec spec = parsed("{\"layers\": [" + layers + "]}");
        QCOMPARE(spec.model.layers.size(), size_t(1 + 20 * 9 + 2));
        const ShapeReport report = inferShapes(spec.model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        // The fourth concat of a block joins its input and four convolutions.
        QCOMPARE(report.layers[8].output, (Shape{20, 8, 8}));
        QCOMPARE(report.output, (Shape{3}));
    }

    // A trial can change a block's width everywhere it is used, and take a skip connection away.
    void trialsChangeBlocksAndSkips() {
        const std::string base = experimentSpecToJson(parsed(kResidual));
        Assignment params;
        params["model.blocks.residual.layers[3].inputs"] = ParamValue{"[\"b\"]"};
        params["model.blocks.residual.layers[0].out_channels"] = ParamValue{"12"};
        const auto trial = trialExperimentJson(base, params);
        QVERIFY2(trial.ok(), trial.ok() ? "" : trial.error().c_str());
        const auto spec = parseExperimentSpec(trial.value());
        QVERIFY2(spec.ok(), spec.ok() ? "" : spec.errors().front().c_str());
        const ShapeReport report = inferShapes(spec.value().model, kImage);
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QCOMPARE(report.graph.inputs[5], std::vector<int>{4}); // res1's add reads only its convolution
        QCOMPARE(report.layers[2].output, (Shape{12, 8, 8}));
        QCOMPARE(report.layers[8].output, (Shape{12, 8, 8})); // and res2's first convolution too

        // A trial that turns a layer into another type keeps its name and inputs.
        Assignment retype;
        retype["model.blocks.residual.layers[3].type"] = ParamValue{"\"multiply\""};
        const auto multiplied = parseExperimentSpec(trialExperimentJson(base, retype).value());
        QVERIFY(multiplied.ok());
        QCOMPARE(multiplied.value().model.layers[5].type, LayerType::Multiply);
        QCOMPARE(multiplied.value().model.layers[5].inputs,
                 (std::vector<std::string>{"res1/b", "res1/input"}));
    }

    void blockNamesArePathKeys() {
        QVERIFY(anyContains(
            parseErrors(
                R"({"blocks": {"my.block": {"layers": [{"type": "relu"}]}}, "layers": [{"type": "relu"}]})"),
            "model.blocks: 'my.block' cannot name a block"));
    }

    // The shipped graph examples have as many parameters, in as many tensors, as the same networks
    // written by hand in PyTorch (tests/graph_reference/twin_params.py).
    void theExamplesMatchTheirPyTorchTwins() {
        QProcess python;
        python.start("/usr/bin/python3", {TUNELAB_SOURCE_DIR "/tests/graph_reference/twin_params.py"});
        if (!python.waitForFinished(120000) || python.exitCode() != 0) {
            const QString why = python.readAllStandardError().trimmed().split('\n').last();
            QSKIP(qPrintable("Debian's python3-torch does not run here: " + why));
        }
        const QJsonObject twins = QJsonDocument::fromJson(python.readAllStandardOutput()).object();
        QCOMPARE(twins.size(), 3);
        for (const QString& name : twins.keys()) {
            const QString path = TUNELAB_SOURCE_DIR "/resources/experiments/" + name + ".json";
            auto spec = loadExperimentSpec(path.toStdString());
            QVERIFY2(spec.ok(), qPrintable(path));
            const ShapeReport report = inferShapes(spec.value().model, spec.value().data.inputShape);
            QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
            int tensors = 0;
            for (const LayerSpec& layer : spec.value().model.layers)
                if (hasWeights(layer.type))
                    tensors +=
                        (layer.type == LayerType::Linear || layer.type == LayerType::Conv2d) && !layer.bias
                            ? 1
                            : 2;
            QCOMPARE(report.totalParams, int64_t(twins[name].toObject()["params"].toInt()));
            QCOMPARE(tensors, twins[name].toObject()["tensors"].toInt());
        }
    }
};

QTEST_GUILESS_MAIN(TestNetworkGraph)
#include "tst_network_graph.moc"
