// Int8 post-training quantization of networks trained on the real digits: an MLP and a CNN on the
// digits as 8x8 images, quantized, measured, saved, read back and checked.

#include "collecting_sink.h"
#include "common/zip_archive_check.h"
#include "compress/quantization.h"
#include "every_layer_experiment.h"
#include "training/model_export.h"
#include "training/saved_model.h"
#include "training/trainer.h"

#include <torch/script.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <string>

using namespace tunelab;
using namespace tunelab::detail;
using tunelab::test::CollectingSink;
using tunelab::test::layer;
using tunelab::test::trainedModel;

namespace {

// Loads an int8 file in PyTorch and compares its outputs with TuneLab's; exit status 77 where this
// Python has no torch.
const char* const kPythonCheck = R"(
import sys
try:
    import torch
except ImportError:
    sys.exit(77)
model_path, case_path, engine = sys.argv[1:4]
torch.backends.quantized.engine = engine
model = torch.jit.load(model_path)
rows, expected = torch.load(case_path)
with torch.no_grad():
    actual = model(rows)
difference = (actual - expected).abs().max().item()
print(difference)
sys.exit(0 if difference <= 1e-5 * max(1.0, expected.abs().max().item()) else 1)
)";

ExperimentSpec digitsExperiment(const char* name) {
    ExperimentSpec spec;
    spec.name = name;
    spec.seed = 5;
    spec.device = "cpu";
    spec.data.kind = DataKind::Csv;
    spec.data.path = std::string(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    spec.data.target = "digit";
    spec.data.validationFraction = 0.2;
    spec.data.standardize = true;
    spec.training.batchSize = 32;
    return spec;
}

// 64-256-256-10: wide enough that its weights, not the file's fixed parts, make up its size.
ExperimentSpec mlpExperiment() {
    ExperimentSpec spec = digitsExperiment("digits-mlp");
    LayerSpec dropout = layer(LayerType::Dropout);
    dropout.p = 0.1;
    spec.model.layers = {layer(LayerType::Linear, 256), layer(LayerType::ReLU), dropout,
                         layer(LayerType::Linear, 256), layer(LayerType::ReLU), layer(LayerType::Linear, 10)};
    spec.training.epochs = 6;
    return spec;
}

// A 3x3 convolution that keeps the image's size, and a 2x2 max pool.
LayerSpec conv3x3(int64_t channels) {
    LayerSpec conv = layer(LayerType::Conv2d);
    conv.outChannels = channels;
    conv.kernelSize = 3;
    conv.padding = 1;
    return conv;
}

LayerSpec pool2x2() {
    LayerSpec pool = layer(LayerType::MaxPool2d);
    pool.kernelSize = 2;
    return pool;
}

// conv-bn-relu-pool twice, then two linear layers; every batch norm folds and every ReLU fuses.
ExperimentSpec cnnExperiment() {
    ExperimentSpec spec = digitsExperiment("digits-cnn");
    spec.data.inputShape = {1, 8, 8};
    const LayerSpec first = conv3x3(32), second = conv3x3(64), pool = pool2x2();
    spec.model.layers = {first,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         pool,
                         second,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         pool,
                         layer(LayerType::Flatten),
                         layer(LayerType::Linear, 128),
                         layer(LayerType::ReLU),
                         layer(LayerType::Linear, 10)};
    spec.training.epochs = 4;
    return spec;
}

LayerSpec named(LayerSpec spec, const char* name, std::vector<std::string> inputs = {}) {
    spec.name = name;
    spec.inputs = std::move(inputs);
    return spec;
}

// A graph on the digits as 8x8 images: a residual block (its second batch norm folds, its add runs in
// float) and a branch concatenated to the block's output.
ExperimentSpec graphExperiment() {
    ExperimentSpec spec = cnnExperiment();
    spec.name = "digits-graph";
    const LayerSpec conv = conv3x3(16), branch = conv3x3(8), pool = pool2x2();
    spec.model.layers = {conv,
                         layer(LayerType::BatchNorm),
                         named(layer(LayerType::ReLU), "stem"),
                         conv,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         conv,
                         named(layer(LayerType::BatchNorm), "bn"),
                         named(layer(LayerType::Add), "sum", {"bn", "stem"}),
                         named(layer(LayerType::ReLU), "block"),
                         named(branch, "side", {"block"}),
                         named(layer(LayerType::ReLU), "side_relu"),
                         named(layer(LayerType::Concat), "both", {"block", "side_relu"}),
                         pool,
                         layer(LayerType::Flatten),
                         layer(LayerType::Linear, 10)};
    return spec;
}

QuantizationOptions forcedInt8(bool perChannel = true) {
    QuantizationOptions options;
    options.allInt8 = true;
    options.perChannel = perChannel;
    options.timingRepeats = 100;
    return options;
}

QuantizationResult quantized(const ExperimentSpec& spec, const std::vector<char>& model,
                             const QuantizationOptions& options) {
    auto result = quantizeModel(spec, model, options);
    if (!result.ok())
        qWarning("%s", result.error().c_str());
    return result.ok() ? result.take() : QuantizationResult{};
}

void printResult(const char* name, const QuantizationResult& result) {
    qDebug("%s on %s, 1 thread: float %.4f ms at batch 1, %.4f ms at batch 64; int8 %.4f ms, %.4f ms; "
           "accuracy float %.4f, int8 %.4f; %d of %zu layers int8",
           name, toString(result.network.engine()), result.floatMs, result.floatBatch64Ms, result.int8Ms,
           result.int8Batch64Ms, result.floatAccuracy, result.int8Accuracy, result.network.int8Layers(),
           result.layers.size());
    qDebug("  engine: %s", result.engineWhy.c_str());
    for (const QuantizedLayerReport& layer : result.layers)
        qDebug("  layer %d %s: float %.4f / %.4f ms, int8 %.4f / %.4f ms (batch 1 / 64), error max %.4g rel "
               "%.4g: %s",
               layer.layer, layer.kind.c_str(), layer.floatMs, layer.floatBatch64Ms, layer.int8Ms,
               layer.int8Batch64Ms, layer.maxAbsError, layer.relativeError, layer.why.c_str());
}

int64_t fileSize(const std::string& path) {
    return QFileInfo(QString::fromStdString(path)).size();
}

} // namespace

class TestQuantization : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (!QFile::exists(QString(TUNELAB_SHARED_DATA_DIR) + "/digits.csv"))
            QSKIP("../shared/data/digits.csv is not here");
        torch::set_num_threads(1);
        m_mlp = mlpExperiment();
        m_cnn = cnnExperiment();
        m_graph = graphExperiment();
        m_mlpModel = trainedModel(m_mlp);
        m_cnnModel = trainedModel(m_cnn);
        m_graphModel = trainedModel(m_graph);
        QVERIFY(!m_mlpModel.empty());
        QVERIFY(!m_cnnModel.empty());
        QVERIFY(!m_graphModel.empty());
    }

    void int8KeepsAccuracyAndShrinksTheFile_data() {
        QTest::addColumn<bool>("cnn");
        QTest::addColumn<bool>("graph");
        QTest::newRow("mlp") << false << false;
        QTest::newRow("cnn") << true << false;
        QTest::newRow("graph") << true << true;
    }
    void int8KeepsAccuracyAndShrinksTheFile() {
        QFETCH(bool, cnn);
        QFETCH(bool, graph);
        const ExperimentSpec& spec = graph ? m_graph : cnn ? m_cnn : m_mlp;
        const std::vector<char>& model = graph ? m_graphModel : cnn ? m_cnnModel : m_mlpModel;
        const QuantizationResult result = quantized(spec, model, forcedInt8());
        QCOMPARE(result.network.int8Layers(), static_cast<int>(result.layers.size()));
        QCOMPARE(result.layers.size(), size_t{graph ? 5u : cnn ? 4u : 3u});
        printResult(graph ? "graph, all int8" : cnn ? "cnn, all int8" : "mlp, all int8", result);
        QCOMPARE(result.evaluatedRows, int64_t{359}); // 20 % of 1,797 rows
        QVERIFY(result.floatAccuracy > 0.9);
        QVERIFY2(result.int8Accuracy >= result.floatAccuracy - 0.01,
                 qPrintable(QString("float %1, int8 %2").arg(result.floatAccuracy).arg(result.int8Accuracy)));
        if (graph) {
            // The last convolution of the block takes its batch norm, which the add alone reads; the
            // add and the concat run in float, between a quantize and a dequantize.
            QCOMPARE(result.layers[0].absorbed, (std::vector<int>{1, 2}));
            QCOMPARE(result.layers[1].absorbed, (std::vector<int>{4, 5}));
            QCOMPARE(result.layers[2].absorbed, (std::vector<int>{7}));
            QCOMPARE(result.layers[3].absorbed, (std::vector<int>{11}));
            const ConversionPlan plan = planConversions(result.network.stages());
            // Dequantized: both of the add's inputs, the branch into the concat, and the output;
            // quantized: the input, the branch's input and the linear layer's.
            QCOMPARE(plan.count(Conversion::Dequantize), 4);
            QCOMPARE(plan.count(Conversion::Quantize), 3);
        } else if (cnn) {
            // Each conv2d took its batch norm and ReLU; the first linear its ReLU.
            QCOMPARE(result.layers[0].absorbed, (std::vector<int>{1, 2}));
            QCOMPARE(result.layers[1].absorbed, (std::vector<int>{5, 6}));
            QCOMPARE(result.layers[2].absorbed, (std::vector<int>{10}));
        } else {
            QCOMPARE(result.layers[0].absorbed, (std::vector<int>{1}));
            QCOMPARE(result.layers[1].absorbed, (std::vector<int>{4}));
        }
        for (const QuantizedLayerReport& layer : result.layers) {
            QCOMPARE(layer.errorBins.size(), size_t(kQuantizationHistogramBins));
            QCOMPARE(layer.weightBins.size(), size_t(kQuantizationHistogramBins));
            int64_t outputs = 0;
            for (int64_t count : layer.errorBins)
                outputs += count;
            QVERIFY(outputs > 0);
            QVERIFY(layer.maxAbsError >= 0.0 && std::isfinite(layer.maxAbsError));
            // The first layer's input (standardized pixels, a few far out) takes the coarsest step.
            QVERIFY(layer.relativeError < 0.1);
            QVERIFY(std::isfinite(layer.floatMs) && std::isfinite(layer.int8Ms));
            QVERIFY(!layer.why.empty());
        }

        QTemporaryDir folder;
        const std::string path = folder.filePath("model.int8.pt").toStdString();
        const auto saved = saveQuantizedModel(result, path);
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().c_str());
        QVERIFY(saved.value().verified());
        QCOMPARE(saved.value().checkedRows, int64_t{359});
        QCOMPARE(saved.value().maxAbsDifference, 0.0);
        QCOMPARE(saved.value().bytes, fileSize(path));
        qDebug("%s: int8 file %lld bytes, float state dict %lld bytes (%.2fx)",
               graph ? "graph"
               : cnn ? "cnn"
                     : "mlp",
               static_cast<long long>(saved.value().bytes),
               static_cast<long long>(result.floatStateDictBytes),
               static_cast<double>(result.floatStateDictBytes) / static_cast<double>(saved.value().bytes));
        const auto script =
            exportModel(spec, model, ExportFormat::TorchScript, folder.filePath("model.pt").toStdString());
        QVERIFY(script.ok());
        qDebug("%s: float TorchScript %lld bytes (%.2fx the int8 file)",
               graph ? "graph"
               : cnn ? "cnn"
                     : "mlp",
               static_cast<long long>(script.value().bytes),
               static_cast<double>(script.value().bytes) / static_cast<double>(saved.value().bytes));
        if (!graph) { // the small graph's fixed parts weigh more
            QVERIFY(saved.value().bytes * 35 <= result.floatStateDictBytes * 10);
            QVERIFY(saved.value().bytes * 35 <= script.value().bytes * 10);
        }

        // The file runs without TuneLab's loader too: plain torch::jit::load on this process's engine.
        torch::NoGradGuard noGrad;
        torch::jit::Module plain = torch::jit::load(path);
        const torch::Tensor expected = result.network.forward(result.checkInput);
        const torch::Tensor actual = plain.forward({result.checkInput}).toTensor();
        QVERIFY(torch::allclose(actual, expected, 1e-3, 1e-3) ||
                actual.argmax(1).eq(expected.argmax(1)).to(torch::kDouble).mean().item<double>() > 0.99);

        // And Python's torch.jit.load, on the engine the model was measured on, computes the same.
        c10::impl::GenericList inputAndExpected(c10::TensorType::get());
        inputAndExpected.push_back(result.checkInput);
        inputAndExpected.push_back(expected);
        const std::vector<char> pickled = torch::pickle_save(inputAndExpected);
        QFile caseFile(folder.filePath("case.pt"));
        QVERIFY(caseFile.open(QIODevice::WriteOnly));
        caseFile.write(pickled.data(), static_cast<qint64>(pickled.size()));
        caseFile.close();
        QProcess python;
        python.start(TUNELAB_TORCH_PYTHON, {"-c", kPythonCheck, QString::fromStdString(path),
                                            caseFile.fileName(), toString(result.network.engine())});
        QVERIFY(python.waitForFinished(120000));
        if (python.exitCode() == 77)
            QSKIP("this Python has no torch");
        const QByteArray said = python.readAllStandardOutput().trimmed() + python.readAllStandardError();
        QVERIFY2(python.exitCode() == 0, said.constData());
        qDebug("%s: Python's torch.jit.load computes the same, largest difference %s",
               graph ? "graph"
               : cnn ? "cnn"
                     : "mlp",
               said.constData());
    }

    void measuredDecisionsKeepAccuracy_data() { int8KeepsAccuracyAndShrinksTheFile_data(); }
    void measuredDecisionsKeepAccuracy() {
        QFETCH(bool, cnn);
        QFETCH(bool, graph);
        QuantizationOptions options;
        options.timingRepeats = 100;
        const QuantizationResult result = quantized(graph ? m_graph
                                                    : cnn ? m_cnn
                                                          : m_mlp,
                                                    graph ? m_graphModel
                                                    : cnn ? m_cnnModel
                                                          : m_mlpModel,
                                                    options);
        QVERIFY(!result.layers.empty());
        printResult(graph ? "graph, measured" : cnn ? "cnn, measured" : "mlp, measured", result);
        QVERIFY(result.int8Accuracy >= result.floatAccuracy - 0.01);
        for (const QuantizedLayerReport& layer : result.layers) {
            // A layer is int8 only where int8 measured faster at batch 1, with an error within bounds.
            if (layer.int8) {
                QVERIFY2(layer.int8Ms < layer.floatMs, layer.why.c_str());
                QVERIFY(layer.relativeError <= options.maxRelativeError);
                QVERIFY(layer.why.rfind("int8", 0) == 0);
            } else {
                QVERIFY2(layer.int8Ms >= layer.floatMs || layer.relativeError > options.maxRelativeError,
                         layer.why.c_str());
                QVERIFY(layer.why.rfind("float", 0) == 0);
            }
        }
        // Whatever was kept, the network saves and reloads to the same outputs.
        QTemporaryDir folder;
        const auto saved = saveQuantizedModel(result, folder.filePath("measured.pt").toStdString());
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().c_str());
        QVERIFY(saved.value().verified());
    }

    // Deciding for batches of 64: a layer is int8 where int8 measured faster at batch 64, whatever
    // batch 1 said, and the report gives the batch-64 times.
    void batchOf64DecidesByItsOwnTimes() {
        QuantizationOptions options;
        options.timingRepeats = 100;
        options.decisionBatch = 64;
        const QuantizationResult result = quantized(m_cnn, m_cnnModel, options);
        QVERIFY(!result.layers.empty());
        printResult("cnn, measured at batch 64", result);
        QVERIFY2(result.engineWhy.find("batch 64") != std::string::npos ||
                     result.engineWhy.find("as asked") != std::string::npos ||
                     result.engineWhy.find("only") != std::string::npos,
                 result.engineWhy.c_str());
        for (const QuantizedLayerReport& layer : result.layers) {
            QVERIFY2(layer.why.find("at batch 64") != std::string::npos ||
                         layer.relativeError > options.maxRelativeError,
                     layer.why.c_str());
            if (layer.int8)
                QVERIFY2(layer.int8Batch64Ms < layer.floatBatch64Ms, layer.why.c_str());
            else
                QVERIFY2(layer.int8Batch64Ms >= layer.floatBatch64Ms ||
                             layer.relativeError > options.maxRelativeError,
                         layer.why.c_str());
        }
        QVERIFY(result.int8Accuracy >= result.floatAccuracy - 0.01);
    }

    void perChannelWeightsAreNoWorse() {
        for (const bool cnn : {false, true}) {
            const ExperimentSpec& spec = cnn ? m_cnn : m_mlp;
            const std::vector<char>& model = cnn ? m_cnnModel : m_mlpModel;
            const QuantizationResult channel = quantized(spec, model, forcedInt8(true));
            const QuantizationResult tensor = quantized(spec, model, forcedInt8(false));
            QCOMPARE(channel.layers.size(), tensor.layers.size());
            QVERIFY(!channel.layers.empty());
            for (size_t i = 0; i < channel.layers.size(); ++i) {
                qDebug("%s layer %d: weight RMS error per channel %.3g, per tensor %.3g; output error %.3g, "
                       "%.3g",
                       cnn ? "cnn" : "mlp", channel.layers[i].layer, channel.layers[i].weightRmsError,
                       tensor.layers[i].weightRmsError, channel.layers[i].relativeError,
                       tensor.layers[i].relativeError);
                QVERIFY(channel.layers[i].weightRmsError <= tensor.layers[i].weightRmsError);
                QVERIFY(channel.layers[i].weightMaxAbsError <=
                        tensor.layers[i].weightMaxAbsError * (1 + 1e-6));
            }
            QVERIFY(tensor.int8Accuracy >= tensor.floatAccuracy - 0.02);
        }
    }

    // Every engine of this LibTorch, each forced to int8 everywhere: finite outputs close to float,
    // also after the process's engine was set back.
    void forcedInt8OnEveryEngineIsFinite() {
        const auto engines = availableEngines();
        QVERIFY(!engines.empty());
        for (const QuantizedEngine engine : engines) {
            QuantizationOptions options = forcedInt8();
            options.engine = engine;
            const QuantizationResult result = quantized(m_cnn, m_cnnModel, options);
            QCOMPARE(result.network.engine(), engine);
            const torch::Tensor output = result.network.forward(result.checkInput);
            QVERIFY2(torch::isfinite(output).all().item<bool>(), toString(engine));
            QVERIFY2(result.int8Accuracy >= result.floatAccuracy - 0.01, toString(engine));
            printResult(toString(engine), result);
            const torch::Tensor one = result.network.forward(result.checkInput.slice(0, 0, 1));
            QVERIFY(torch::isfinite(one).all().item<bool>());
            QVERIFY(torch::allclose(one, output.slice(0, 0, 1), 1e-4, 1e-4));
            // Its file packs again on the same engine, whatever the process's engine is now.
            QTemporaryDir folder;
            const auto saved = saveQuantizedModel(result, folder.filePath("engine.pt").toStdString());
            QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().c_str());
            QCOMPARE(saved.value().maxAbsDifference, 0.0);
            const auto reloaded = loadQuantizedModel(saved.value().path);
            QVERIFY(reloaded.ok());
            QCOMPARE(reloaded.value().engine(), engine);
        }
    }

    void percentileCalibrationIsMeasured() {
        for (const bool cnn : {false, true}) {
            QuantizationOptions clipped = forcedInt8();
            clipped.calibrationPercentile = 99.99;
            const QuantizationResult minMax =
                quantized(cnn ? m_cnn : m_mlp, cnn ? m_cnnModel : m_mlpModel, forcedInt8());
            const QuantizationResult percentile =
                quantized(cnn ? m_cnn : m_mlp, cnn ? m_cnnModel : m_mlpModel, clipped);
            QVERIFY(!minMax.layers.empty() && !percentile.layers.empty());
            for (size_t i = 0; i < minMax.layers.size(); ++i) {
                QVERIFY(percentile.layers[i].outputMax <= minMax.layers[i].outputMax);
                qDebug("%s layer %d: relative error min/max %.4g, 99.99th percentile %.4g",
                       cnn ? "cnn" : "mlp", minMax.layers[i].layer, minMax.layers[i].relativeError,
                       percentile.layers[i].relativeError);
            }
            qDebug("%s accuracy: min/max %.4f, 99.99th percentile %.4f (float %.4f)", cnn ? "cnn" : "mlp",
                   minMax.int8Accuracy, percentile.int8Accuracy, minMax.floatAccuracy);
            QVERIFY(percentile.int8Accuracy >= percentile.floatAccuracy - 0.01);
        }
    }

    void everyKindOfLayerRoundTrips() {
        const ExperimentSpec spec = tunelab::test::everyLayerExperiment(4);
        const std::vector<char> model = trainedModel(spec);
        QVERIFY(!model.empty());
        const QuantizationResult result = quantized(spec, model, forcedInt8());
        QCOMPARE(result.layers.size(), size_t{5});
        printResult("every layer, all int8", result);
        // Quantized before each int8 run (the first conv, the linear layers after a float layer) and
        // dequantized before each float layer and at the end.
        const ConversionPlan plan = planConversions(result.network.stages());
        QCOMPARE(plan.count(Conversion::Quantize), 4);
        QCOMPARE(plan.count(Conversion::Dequantize), 4);
        QCOMPARE(result.layers[2].absorbed, (std::vector<int>{11})); // the batch norm after a linear layer
        const torch::Tensor output = result.network.forward(result.checkInput);
        QVERIFY(torch::isfinite(output).all().item<bool>());
        // The int8 network picks the float network's class for nearly every row.
        auto loaded = loadSavedModel(spec, model);
        QVERIFY(loaded.ok());
        torch::NoGradGuard noGrad;
        const torch::Tensor reference = loaded.value().network->forward(result.checkInput);
        const double agreement =
            output.argmax(1).eq(reference.argmax(1)).to(torch::kDouble).mean().item<double>();
        const double relative =
            ((output - reference).square().mean() / reference.square().mean()).sqrt().item<double>();
        qDebug("every layer: int8 and float agree on %.1f %% of the rows, output error %.2f %% (RMS)",
               agreement * 100.0, relative * 100.0);
        QVERIFY(agreement >= 0.9);
        QVERIFY(relative < 0.1);
        QVERIFY2(result.int8Accuracy >= result.floatAccuracy - 0.02,
                 qPrintable(QString("float %1, int8 %2").arg(result.floatAccuracy).arg(result.int8Accuracy)));
        QTemporaryDir folder;
        const auto saved = saveQuantizedModel(result, folder.filePath("every.int8.pt").toStdString());
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().c_str());
        QCOMPARE(saved.value().maxAbsDifference, 0.0);
    }

    void errorsNameTheLayer() {
        // No linear or conv2d layer.
        ExperimentSpec pools = m_cnn;
        LayerSpec pool = layer(LayerType::AvgPool2d);
        pool.kernelSize = 8;
        pools.model.layers = {pool, layer(LayerType::Flatten)};
        const auto none = quantizeModel(pools, m_cnnModel, forcedInt8());
        QVERIFY(!none.ok());
        QVERIFY2(QString::fromStdString(none.error()).contains("no linear or conv2d layer to quantize"),
                 none.error().c_str());

        // A weight that is not finite (a diverged run) names its layer.
        auto loaded = loadSavedModel(m_mlp, m_mlpModel);
        QVERIFY(loaded.ok());
        {
            torch::NoGradGuard noGrad;
            loaded.value().network->named_parameters()["3.weight"][0][0] = NAN;
        }
        const auto broken = quantizeModel(m_mlp, saveStateDict(*loaded.value().network), forcedInt8());
        QVERIFY(!broken.ok());
        QVERIFY2(QString::fromStdString(broken.error()).contains("model.layers[3] (linear)"),
                 broken.error().c_str());
        QVERIFY(QString::fromStdString(broken.error()).contains("not finite"));

        // A file that is not an int8 model of TuneLab's.
        QTemporaryDir folder;
        const QString other = folder.filePath("other.pt");
        QFile file(other);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a model");
        file.close();
        const auto reloaded = loadQuantizedModel(other.toStdString());
        QVERIFY(!reloaded.ok());
        QVERIFY(QString::fromStdString(reloaded.error()).contains(other));
    }

    // LibTorch reads an archive without checking its CRC-32s; the int8 file is checked before it loads.
    void aDamagedInt8FileIsRefused() {
        const QuantizationResult result = quantized(m_mlp, m_mlpModel, forcedInt8());
        QTemporaryDir folder;
        const auto saved = saveQuantizedModel(result, folder.filePath("mlp.int8.pt").toStdString());
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().c_str());
        QFile file(QString::fromStdString(saved.value().path));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QByteArray bytes = file.readAll();
        file.close();
        // A bit in the middle of the file that an entry's CRC-32 covers (a weight or the code).
        bool flipped = false;
        for (qsizetype at = bytes.size() / 3; at < bytes.size() && !flipped; ++at) {
            bytes[at] = static_cast<char>(bytes[at] ^ 0x04);
            flipped =
                zipArchiveDamage(bytes.constData(), size_t(bytes.size())).find("CRC-32") != std::string::npos;
            if (!flipped)
                bytes[at] = static_cast<char>(bytes[at] ^ 0x04);
        }
        QVERIFY(flipped);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(bytes), bytes.size());
        file.close();
        const auto reloaded = loadQuantizedModel(saved.value().path);
        QVERIFY(!reloaded.ok());
        QVERIFY2(QString::fromStdString(reloaded.error()).contains("the int8 model is damaged") &&
                     QString::fromStdString(reloaded.error()).contains("CRC-32"),
                 reloaded.error().c_str());
    }

private:
    ExperimentSpec m_mlp, m_cnn, m_graph;
    std::vector<char> m_mlpModel, m_cnnModel, m_graphModel;
};

QTEST_GUILESS_MAIN(TestQuantization)
#include "tst_quantization.moc"
