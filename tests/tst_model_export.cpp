// Exports of a trained model: TorchScript and a readable state dict, written from C++, read back and
// checked, and loaded in PyTorch (python3-torch) where users take them.

#include "collecting_sink.h"
#include "training/model_export.h"
#include "training/trainer.h"

#include <torch/script.h>

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

namespace {

// Digits as 1x8x8 images through every kind of layer TuneLab has.
ExperimentSpec everyLayerExperiment() {
    ExperimentSpec spec;
    spec.name = "every-layer";
    spec.seed = 3;
    spec.device = "cpu";
    spec.data.kind = DataKind::Csv;
    spec.data.path = std::string(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    spec.data.target = "digit";
    spec.data.validationFraction = 0.2;
    spec.data.standardize = true;
    spec.data.inputShape = {1, 8, 8};
    LayerSpec conv = layer(LayerType::Conv2d);
    conv.outChannels = 6;
    conv.kernelSize = 3;
    conv.padding = 1;
    LayerSpec pool = layer(LayerType::MaxPool2d);
    pool.kernelSize = 2;
    LayerSpec second = layer(LayerType::Conv2d);
    second.outChannels = 8;
    second.kernelSize = 3;
    LayerSpec average = layer(LayerType::AvgPool2d);
    average.kernelSize = 1;
    LayerSpec leaky = layer(LayerType::LeakyReLU);
    leaky.negativeSlope = 0.05;
    LayerSpec elu = layer(LayerType::ELU);
    elu.alpha = 0.7;
    LayerSpec dropout = layer(LayerType::Dropout);
    dropout.p = 0.2;
    spec.model.layers = {conv,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         pool,
                         second,
                         leaky,
                         average,
                         elu,
                         layer(LayerType::Flatten),
                         layer(LayerType::LayerNorm),
                         layer(LayerType::Linear, 24),
                         layer(LayerType::BatchNorm),
                         layer(LayerType::GELU),
                         dropout,
                         layer(LayerType::Linear, 16),
                         layer(LayerType::SiLU),
                         layer(LayerType::Tanh),
                         layer(LayerType::Sigmoid),
                         layer(LayerType::Linear, 10)};
    spec.training.epochs = 2;
    return spec;
}

std::vector<char> trainedModel(const ExperimentSpec& spec) {
    RunOptions options;
    options.threads = 1;
    RunControl control;
    CollectingSink sink;
    trainExperiment(1, spec, options, control, sink);
    for (const RunEvent& event : sink.events())
        if (event.kind == RunEventKind::Finished && event.model)
            return *event.model;
    return {};
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
        m_spec = everyLayerExperiment();
        m_model = trainedModel(m_spec);
        QVERIFY(!m_model.empty());
    }

    void bothFormatsVerifyThemselves() {
        QTemporaryDir folder;
        for (const ExportFormat format : {ExportFormat::TorchScript, ExportFormat::StateDict}) {
            const std::string path =
                folder.filePath(format == ExportFormat::TorchScript ? "model.pt" : "model.state")
                    .toStdString();
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

    void pyTorchLoadsBothAndComputesTheSame() {
        QTemporaryDir folder;
        const QString model = folder.filePath("model.pt"), state = folder.filePath("model.state");
        QVERIFY(exportModel(m_spec, m_model, ExportFormat::TorchScript, model.toStdString()).ok());
        QVERIFY(exportModel(m_spec, m_model, ExportFormat::StateDict, state.toStdString()).ok());
        // TuneLab's outputs for a fixed input, through the module the export verified against the network.
        torch::NoGradGuard noGrad;
        const torch::Tensor input = torch::linspace(-2.0, 2.0, 4 * 64).reshape({4, 1, 8, 8});
        torch::jit::Module loaded = torch::jit::load(model.toStdString());
        const torch::Tensor expected = loaded.forward({input}).toTensor();
        QJsonObject cases;
        cases["input"] = toJson(input);
        cases["expected"] = toJson(expected);
        QFile caseFile(folder.filePath("case.json"));
        QVERIFY(caseFile.open(QIODevice::WriteOnly));
        caseFile.write(QJsonDocument(cases).toJson());
        caseFile.close();

        QProcess python;
        python.start(TUNELAB_TORCH_PYTHON,
                     {QString(TUNELAB_SOURCE_DIR) + "/tests/export_reference/check_export.py", model, state,
                      caseFile.fileName()});
        QVERIFY(python.waitForFinished(120000));
        if (python.exitCode() == 77)
            QSKIP("this Python has no torch");
        QVERIFY2(python.exitCode() == 0,
                 qPrintable(python.readAllStandardOutput() + python.readAllStandardError()));
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
        QVERIFY(!parseExportFormat("onnx", format));
        QCOMPARE(std::string(toString(ExportFormat::TorchScript)), std::string("torchscript"));
    }

private:
    ExperimentSpec m_spec;
    std::vector<char> m_model;
};

QTEST_GUILESS_MAIN(TestModelExport)
#include "tst_model_export.moc"
