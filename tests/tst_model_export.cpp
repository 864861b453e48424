// Exports of a trained model: TorchScript, a readable state dict and ONNX, written from C++, read back
// and checked (ONNX by OpenCV's DNN module), and loaded in PyTorch (python3-torch) and ONNX's Python
// package (python3-onnx) where users take them.

#include "collecting_sink.h"
#include "every_layer_experiment.h"
#include "training/model_export.h"
#include "training/trainer.h"

#include <torch/script.h>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <string>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;
using tunelab::test::trainedModel;

namespace {

// Digits' 64 features through a perceptron with every activation, batch norm, dropout (last, too) and
// a linear layer without bias.
ExperimentSpec perceptronExperiment() {
    ExperimentSpec spec = tunelab::test::everyLayerExperiment(2);
    spec.name = "perceptron";
    spec.data.inputShape.clear();
    LayerSpec leaky = layer(LayerType::LeakyReLU);
    leaky.negativeSlope = 0.2;
    LayerSpec elu = layer(LayerType::ELU);
    elu.alpha = 1.3;
    LayerSpec noBias = layer(LayerType::Linear, 24);
    noBias.bias = false;
    spec.model.layers = {layer(LayerType::Linear, 32),
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         layer(LayerType::Dropout),
                         noBias,
                         leaky,
                         layer(LayerType::Linear, 24),
                         elu,
                         layer(LayerType::GELU),
                         layer(LayerType::SiLU),
                         layer(LayerType::Tanh),
                         layer(LayerType::Sigmoid),
                         layer(LayerType::BatchNorm),
                         layer(LayerType::Linear, 10),
                         layer(LayerType::Dropout)};
    return spec;
}

// Digits as 1x8x8 images through a small CNN: a convolution without bias, padded pools (the
// average's border windows divide by the whole window, as LibTorch's), a strided convolution, layer
// norm over [channels, height, width], flatten.
ExperimentSpec convolutionExperiment() {
    ExperimentSpec spec = tunelab::test::everyLayerExperiment(2);
    spec.name = "cnn";
    LayerSpec conv = layer(LayerType::Conv2d);
    conv.outChannels = 4;
    conv.padding = 1;
    conv.bias = false;
    LayerSpec max = layer(LayerType::MaxPool2d);
    max.kernelSize = 3;
    max.stride = 2;
    max.padding = 1;
    LayerSpec average = layer(LayerType::AvgPool2d);
    average.kernelSize = 3;
    average.stride = 1;
    average.padding = 1;
    LayerSpec strided = layer(LayerType::Conv2d);
    strided.outChannels = 6;
    strided.stride = 2;
    strided.padding = 1;
    spec.model.layers = {conv,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         max,
                         average,
                         strided,
                         layer(LayerType::LayerNorm),
                         layer(LayerType::LeakyReLU),
                         layer(LayerType::Flatten),
                         layer(LayerType::Linear, 10)};
    return spec;
}

// Digits as 4x16 sequences: batch norm over [channels, length] and layer norm over both.
ExperimentSpec sequenceExperiment() {
    ExperimentSpec spec = tunelab::test::everyLayerExperiment(2);
    spec.name = "sequence";
    spec.data.inputShape = {4, 16};
    spec.model.layers = {layer(LayerType::BatchNorm), layer(LayerType::LayerNorm), layer(LayerType::GELU),
                         layer(LayerType::Flatten), layer(LayerType::Linear, 10)};
    return spec;
}

// Digits as 1x8x8 images through a graph: a residual block written once and used twice, a
// concatenation with the input, a gate (a multiply by the sigmoid of a local average), and layers
// written before the layers they read.
ExperimentSpec graphExperiment() {
    QJsonObject root =
        QJsonDocument::fromJson(
            QByteArray::fromStdString(experimentSpecToJson(tunelab::test::everyLayerExperiment(2))))
            .object();
    root["name"] = "graph";
    root["model"] = QJsonDocument::fromJson(R"({
      "blocks": {"residual": {"layers": [
        {"type": "conv2d", "out_channels": 4, "padding": 1, "name": "conv"}, {"type": "batchnorm"},
        {"type": "gelu", "name": "act"}, {"type": "add", "inputs": ["input", "act"]}]}},
      "layers": [
        {"type": "conv2d", "out_channels": 4, "padding": 1, "bias": false},
        {"type": "block", "block": "residual", "name": "res1"},
        {"type": "block", "block": "residual", "name": "res2"},
        {"type": "concat", "inputs": ["res2", "input", "res1"], "name": "joined"},
        {"type": "multiply", "inputs": ["joined", "gate"], "name": "scaled"},
        {"type": "sigmoid", "inputs": ["pooled"], "name": "gate"},
        {"type": "avgpool2d", "kernel_size": 3, "stride": 1, "padding": 1, "inputs": ["joined"], "name": "pooled"},
        {"type": "identity", "inputs": ["scaled"]},
        {"type": "flatten"}, {"type": "linear", "out_features": 10}]})")
                        .object();
    auto parsed = parseExperimentSpec(QJsonDocument(root).toJson().toStdString());
    if (!parsed.ok())
        qFatal("%s", parsed.errors().front().c_str());
    return parsed.value();
}

// The graph with a squeeze-and-excitation gate: the pool averages each 8x8 map to one value, so the
// multiply repeats a [9, 1, 1] gate over [9, 8, 8] maps.
ExperimentSpec gatedExperiment() {
    ExperimentSpec spec = graphExperiment();
    spec.name = "gated";
    LayerSpec& pooled = spec.model.layers[14];
    if (pooled.name != "pooled")
        qFatal("layer 14 is %s, not the pool", pooled.name.c_str());
    pooled.kernelSize = 8;
    pooled.stride = 0;
    pooled.padding = 0;
    return spec;
}

QJsonArray toJson(const torch::Tensor& tensor) {
    QJsonArray array;
    if (tensor.dim() == 0)
        return array;
    for (int64_t i = 0; i < tensor.size(0); ++i) {
        const torch::Tensor item = tensor[i];
        if (item.dim() == 0)
            array.append(item.item<double>());
        else
            array.append(toJson(item));
    }
    return array;
}

} // namespace

class TestModelExport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (!QFile::exists(QString(TUNELAB_SHARED_DATA_DIR) + "/digits.csv"))
            QSKIP("../shared/data/digits.csv is not here");
        m_spec = tunelab::test::everyLayerExperiment(2);
        m_model = trainedModel(m_spec);
        QVERIFY(!m_model.empty());
        for (const ExperimentSpec& spec : {perceptronExperiment(), convolutionExperiment(),
                                           sequenceExperiment(), graphExperiment(), gatedExperiment()}) {
            m_cases.push_back({QString::fromStdString(spec.name), spec, trainedModel(spec)});
            QVERIFY2(!m_cases.back().model.empty(), spec.name.c_str());
        }
    }

    void onnxVerifiesItself_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("every layer") << "every layer";
        QTest::newRow("perceptron") << "perceptron";
        QTest::newRow("cnn") << "cnn";
        QTest::newRow("sequence") << "sequence";
        QTest::newRow("graph") << "graph";
        QTest::newRow("gated") << "gated"; // a multiply that repeats sides of size 1
    }

    // Written from TuneLab's layers, read back by OpenCV's DNN module and run on the validation rows.
    void onnxVerifiesItself() {
        if (const std::string why = exportFormatUnavailableReason(ExportFormat::Onnx); !why.empty())
            QSKIP(why.c_str());
        QFETCH(QString, name);
        const ExperimentSpec spec = name == "every layer" ? m_spec : onnxCase(name).spec;
        const std::vector<char>& trained = name == "every layer" ? m_model : onnxCase(name).model;
        QTemporaryDir folder;
        const QString path = folder.filePath("model.onnx");
        const auto exported = exportModel(spec, trained, ExportFormat::Onnx, path.toStdString());
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().c_str());
        const ExportReport& report = exported.value();
        qInfo("%s: largest difference %.3g on %lld rows, checked with %s", qPrintable(name),
              report.maxAbsDifference, static_cast<long long>(report.checkedRows),
              report.checkedWith.c_str());
        QVERIFY(report.verified());
        QCOMPARE(report.checkedRows, int64_t{359});
        QVERIFY(report.maxAbsDifference <= 1e-5);
        QVERIFY2(QString::fromStdString(report.checkedWith).startsWith("OpenCV "),
                 report.checkedWith.c_str());
        QVERIFY(QFile::exists(path));
        QCOMPARE(report.bytes, static_cast<int64_t>(QFileInfo(path).size()));
        QCOMPARE(QDir(folder.path()).entryList(QDir::Files), QStringList{"model.onnx"});
    }

    // A layer kind the ONNX writer has no operators for (as one added to TuneLab would be until it is
    // mapped) fails the export naming the layer, and leaves no file.
    void aLayerOnnxCannotWriteIsNamedAndNothingIsKept() {
        if (const std::string why = exportFormatUnavailableReason(ExportFormat::Onnx); !why.empty())
            QSKIP(why.c_str());
        ExperimentSpec spec = m_spec;
        QCOMPARE(spec.model.layers[2].type, LayerType::ReLU);
        spec.model.layers[2].type = static_cast<LayerType>(99); // no parameters, as the relu it replaces
        QTemporaryDir folder;
        const QString path = folder.filePath("model.onnx");
        const auto exported = exportModel(spec, m_model, ExportFormat::Onnx, path.toStdString());
        QVERIFY(!exported.ok());
        QVERIFY2(exported.error().find("model.layers[2]: ") != std::string::npos &&
                     exported.error().find("cannot be written as ONNX") != std::string::npos,
                 exported.error().c_str());
        QVERIFY(!QFile::exists(path));
        QVERIFY(QDir(folder.path()).entryList(QDir::Files | QDir::Hidden).isEmpty());
    }

    void onnxWithoutSupportSaysSo() {
        const std::string why = exportFormatUnavailableReason(ExportFormat::Onnx);
        if (why.empty())
            QSKIP("this TuneLab writes ONNX (onnxVerifiesItself)");
        QTemporaryDir folder;
        const QString path = folder.filePath("model.onnx");
        const auto exported = exportModel(m_spec, m_model, ExportFormat::Onnx, path.toStdString());
        QVERIFY(!exported.ok());
        QVERIFY2(exported.error().find("built without ONNX support") != std::string::npos,
                 exported.error().c_str());
        QVERIFY(!QFile::exists(path));
    }

    void everyFormatVerifiesItself() {
        QTemporaryDir folder;
        for (const ExportFormat format :
             {ExportFormat::TorchScript, ExportFormat::StateDict, ExportFormat::Onnx}) {
            if (!exportFormatUnavailableReason(format).empty())
                continue; // onnxWithoutSupportSaysSo
            const std::string path = folder.filePath(QString("model.") + toString(format)).toStdString();
            const auto exported = exportModel(m_spec, m_model, format, path);
            QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().c_str());
            const ExportReport& report = exported.value();
            QVERIFY(report.verified());
            QCOMPARE(report.checkedRows, int64_t{359}); // digits' validation split: 20 % of 1,797 rows
            QVERIFY(report.maxAbsDifference <= 1e-5);
            QCOMPARE(report.bytes, static_cast<int64_t>(QFileInfo(QString::fromStdString(path)).size()));
            if (format == ExportFormat::StateDict) {
                // The spec beside it is the run's, ready to train or rebuild the network.
                QFile spec(QString::fromStdString(report.specPath));
                QVERIFY(spec.open(QIODevice::ReadOnly));
                const auto parsed = parseExperimentSpec(spec.readAll().toStdString());
                QVERIFY(parsed.ok());
                QCOMPARE(parsed.value().model.layers.size(), m_spec.model.layers.size());
            }
        }
    }

    void namesAreReadable() {
        QCOMPARE(readableParameterName(m_spec.model, "0.weight"), std::string("layers.0.conv2d.weight"));
        QCOMPARE(readableParameterName(m_spec.model, "1.running_var"),
                 std::string("layers.1.batch_norm.running_var"));
        QCOMPARE(readableParameterName(m_spec.model, "10.bias"), std::string("layers.10.linear.bias"));
        QCOMPARE(readableParameterName(m_spec.model, "2.weight"), std::string()); // a relu has none
        QCOMPARE(readableParameterName(m_spec.model, "99.weight"), std::string());
    }

    void pythonLoadsEveryFormatAndComputesTheSame_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("every layer") << "every layer";
        QTest::newRow("perceptron") << "perceptron";
        QTest::newRow("cnn") << "cnn";
        QTest::newRow("sequence") << "sequence";
        QTest::newRow("graph") << "graph";
        QTest::newRow("gated") << "gated";
    }

    // TorchScript and the state dict in PyTorch; ONNX through onnx.checker and an ONNX evaluator.
    void pythonLoadsEveryFormatAndComputesTheSame() {
        QFETCH(QString, name);
        const ExperimentSpec spec = name == "every layer" ? m_spec : onnxCase(name).spec;
        const std::vector<char>& trained = name == "every layer" ? m_model : onnxCase(name).model;
        QTemporaryDir folder;
        const QString model = folder.filePath("model.pt"), state = folder.filePath("model.state");
        const QString onnx = folder.filePath("model.onnx");
        QVERIFY(exportModel(spec, trained, ExportFormat::TorchScript, model.toStdString()).ok());
        QVERIFY(exportModel(spec, trained, ExportFormat::StateDict, state.toStdString()).ok());
        const bool withOnnx = exportFormatUnavailableReason(ExportFormat::Onnx).empty();
        if (withOnnx) {
            const auto exported = exportModel(spec, trained, ExportFormat::Onnx, onnx.toStdString());
            QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().c_str());
        }
        // TuneLab's outputs for a fixed input, through the module the export verified against the network.
        torch::NoGradGuard noGrad;
        std::vector<int64_t> shape = {4};
        shape.insert(shape.end(), spec.data.inputShape.begin(), spec.data.inputShape.end());
        if (spec.data.inputShape.empty())
            shape.push_back(64);
        const torch::Tensor input = torch::linspace(-2.0, 2.0, 4 * 64).reshape(shape);
        torch::jit::Module loaded = torch::jit::load(model.toStdString());
        const torch::Tensor expected = loaded.forward({input}).toTensor();
        QJsonObject cases;
        cases["input"] = toJson(input);
        cases["expected"] = toJson(expected);
        QFile caseFile(folder.filePath("case.json"));
        QVERIFY(caseFile.open(QIODevice::WriteOnly));
        caseFile.write(QJsonDocument(cases).toJson());
        caseFile.close();

        QStringList arguments = {QString(TUNELAB_SOURCE_DIR) + "/tests/export_reference/check_export.py",
                                 model, state, caseFile.fileName()};
        if (withOnnx)
            arguments << onnx;
        QProcess python;
        python.start(TUNELAB_TORCH_PYTHON, arguments);
        QVERIFY(python.waitForFinished(120000));
        if (python.exitCode() == 77)
            QSKIP("this Python has no torch or no onnx");
        const QByteArray differences = python.readAllStandardOutput().trimmed();
        QVERIFY2(python.exitCode() == 0, qPrintable(differences + python.readAllStandardError()));
        qInfo("%s: %s", qPrintable(name), differences.constData());
    }

    void aFailedWriteLeavesNothingAndSaysWhere() {
        const auto exported =
            exportModel(m_spec, m_model, ExportFormat::TorchScript, "/nonexistent-folder/model.pt");
        QVERIFY(!exported.ok());
        QVERIFY2(exported.error().find("/nonexistent-folder/model.pt") != std::string::npos,
                 exported.error().c_str());
        QVERIFY(!QFile::exists("/nonexistent-folder/model.pt"));
    }

    void aModelOfAnotherNetworkIsRefused() {
        ExperimentSpec other = m_spec;
        other.model.layers.back().outFeatures = 10;
        other.model.layers[10].outFeatures = 30;
        QTemporaryDir folder;
        const auto exported =
            exportModel(other, m_model, ExportFormat::TorchScript, folder.filePath("x.pt").toStdString());
        QVERIFY(!exported.ok());
        QVERIFY2(exported.error().find("another shape") != std::string::npos, exported.error().c_str());
    }

    void formatsByName() {
        ExportFormat format = ExportFormat::StateDict;
        QVERIFY(parseExportFormat("torchscript", format));
        QCOMPARE(format, ExportFormat::TorchScript);
        QVERIFY(parseExportFormat("state-dict", format));
        QCOMPARE(format, ExportFormat::StateDict);
        QVERIFY(parseExportFormat("onnx", format));
        QCOMPARE(format, ExportFormat::Onnx);
        QVERIFY(!parseExportFormat("onnx2", format));
        QCOMPARE(std::string(toString(ExportFormat::TorchScript)), std::string("torchscript"));
        QCOMPARE(std::string(toString(ExportFormat::Onnx)), std::string("onnx"));
    }

private:
    struct OnnxCase {
        QString name;
        ExperimentSpec spec;
        std::vector<char> model;
    };

    const OnnxCase& onnxCase(const QString& name) const {
        for (const OnnxCase& trained : m_cases)
            if (trained.name == name)
                return trained;
        qFatal("no case %s", qPrintable(name));
    }

    ExperimentSpec m_spec;
    std::vector<char> m_model;
    std::vector<OnnxCase> m_cases;
};

QTEST_GUILESS_MAIN(TestModelExport)
#include "tst_model_export.moc"
