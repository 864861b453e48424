// Networks drawn at random, as a user clicking through the palette could make them: every layer type
// with small, odd and extreme settings, stacks and graphs that branch and merge, on flat and image
// inputs. Each goes the way a run takes it: written as an experiment file, read back, checked by shape
// inference, then built by LibTorch. Whatever shape inference accepts must build, run forward and
// backward, and have the output shape and parameter count it predicted; whatever it refuses must
// come with a message. Nothing may crash.

#include "collecting_sink.h"
#include "compress/quantization.h"
#include "compress/structured_pruning.h"
#include "model/shape_inference.h"
#include "spec/spec.h"
#include "training/network.h"
#include "training/onnx_export.h"
#include "training/saved_model.h"
#include "training/torchscript_export.h"
#include "training/trainer.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace tunelab;

namespace {

// A network drawn from `rng`: one to eight layers, each named so that later ones can read it.
class NetworkDraw {
public:
    // `weighted`: the share of layers drawn as linear or conv2d rather than of any kind.
    explicit NetworkDraw(uint64_t seed, double weighted = 0.0)
        : m_rng(seed)
        , m_weighted(weighted) {}

    Shape input() {
        if (coin(0.5))
            return {between(1, 12)};
        return {between(1, 4), between(1, 12), between(1, 12)};
    }

    ModelSpec model() {
        ModelSpec model;
        m_unread.clear();
        const int count = static_cast<int>(between(1, 8));
        for (int i = 0; i < count; ++i) {
            model.layers.push_back(layer(i));
            read(model.layers.back(), i);
        }
        return model;
    }

private:
    int64_t between(int64_t low, int64_t high) {
        return std::uniform_int_distribution<int64_t>(low, high)(m_rng);
    }
    bool coin(double p) { return std::bernoulli_distribution(p)(m_rng); }
    double uniform(double low, double high) {
        return std::uniform_real_distribution<double>(low, high)(m_rng);
    }

    // "input" or the name of one of the first `before` layers; mostly one that no layer reads yet,
    // so that most graphs use every branch they open.
    std::string source(int before) {
        if (!m_unread.empty() && coin(0.7)) {
            const size_t pick = static_cast<size_t>(between(0, static_cast<int64_t>(m_unread.size()) - 1));
            return "l" + std::to_string(m_unread[pick]);
        }
        const int64_t pick = between(-1, before - 1);
        return pick < 0 ? std::string("input") : "l" + std::to_string(pick);
    }

    // Layer `index` reads its inputs (or the layer before it), and nobody reads it yet.
    void read(const LayerSpec& spec, int index) {
        std::vector<int> sources;
        for (const std::string& input : spec.inputs)
            if (input != "input")
                sources.push_back(std::stoi(input.substr(1)));
        if (spec.inputs.empty() && index > 0)
            sources.push_back(index - 1);
        for (const int source : sources)
            m_unread.erase(std::remove(m_unread.begin(), m_unread.end(), source), m_unread.end());
        m_unread.push_back(index);
    }

    LayerSpec layer(int index) {
        LayerSpec spec;
        spec.type = coin(m_weighted)
                        ? (coin(0.5) ? LayerType::Linear : LayerType::Conv2d)
                        : static_cast<LayerType>(between(0, static_cast<int64_t>(LayerType::Multiply)));
        spec.name = "l" + std::to_string(index);
        switch (spec.type) {
        case LayerType::Linear:
            spec.outFeatures = between(1, 8);
            spec.bias = coin(0.7);
            break;
        case LayerType::Conv2d:
            spec.outChannels = between(1, 6);
            spec.kernelSize = between(1, 5);
            spec.stride = between(0, 3);
            spec.padding = between(0, 3);
            spec.bias = coin(0.7);
            break;
        case LayerType::MaxPool2d:
        case LayerType::AvgPool2d:
            spec.kernelSize = between(1, 4);
            spec.stride = between(0, 3);
            // Above half the kernel the file reader refuses it: now and then.
            spec.padding = coin(0.9) ? between(0, spec.kernelSize / 2) : between(0, 3);
            break;
        case LayerType::Dropout:
            spec.p = uniform(0.0, 0.95);
            break;
        case LayerType::LeakyReLU:
            spec.negativeSlope = coin(0.9) ? uniform(0.0, 1.0) : uniform(-1.0, 0.0);
            break;
        case LayerType::ELU:
            spec.alpha = uniform(0.0, 3.0);
            break;
        case LayerType::BatchNorm:
            spec.momentum = uniform(0.0, 1.0);
            spec.eps = coin(0.5) ? 1e-5 : uniform(1e-8, 1e-1);
            break;
        case LayerType::LayerNorm:
            spec.eps = coin(0.5) ? 1e-5 : uniform(1e-8, 1e-1);
            break;
        default:
            break;
        }
        const bool merge =
            spec.type == LayerType::Add || spec.type == LayerType::Concat || spec.type == LayerType::Multiply;
        if (merge) {
            const int64_t inputs = between(1, 3);
            for (int64_t i = 0; i < inputs; ++i)
                spec.inputs.push_back(source(index));
        } else if (index > 0 && coin(0.2)) {
            spec.inputs.push_back(source(index)); // a branch off an earlier layer
        }
        return spec;
    }

    std::mt19937_64 m_rng;
    double m_weighted;
    std::vector<int> m_unread; // layers no later layer reads
};

// The spec as a run reads it: written as an experiment file and parsed back.
Result<ExperimentSpec> throughTheFile(const ModelSpec& model) {
    ExperimentSpec spec = defaultExperiment();
    spec.model = model;
    return parseExperimentSpec(experimentSpecToJson(spec));
}

std::vector<int64_t> withBatch(int64_t batch, const Shape& shape) {
    std::vector<int64_t> sizes{batch};
    sizes.insert(sizes.end(), shape.begin(), shape.end());
    return sizes;
}

// A drawn network that the file reader and shape inference accept, built by LibTorch (its weights
// from the draw's seed), with `where` to name it in a failure: its number, input and spec.
struct AcceptedNetwork {
    Shape input;
    ExperimentSpec spec;
    ShapeReport report;
    tunelab::detail::Network network{nullptr};
    QString where;
    const ModelSpec& model() const { return spec.model; }
};

std::optional<AcceptedNetwork> acceptedNetwork(uint64_t seed, double weighted = 0.0) {
    NetworkDraw draw(seed, weighted);
    AcceptedNetwork accepted;
    accepted.input = draw.input();
    auto parsed = throughTheFile(draw.model());
    if (!parsed.ok())
        return std::nullopt;
    accepted.spec = parsed.take();
    accepted.report = inferShapes(accepted.spec.model, accepted.input);
    if (!accepted.report.ok())
        return std::nullopt;
    accepted.network = tunelab::detail::Network(accepted.spec.model, accepted.input,
                                                at::make_generator<at::CPUGeneratorImpl>(seed));
    accepted.where = QString("network %1 on %2: %3")
                         .arg(seed)
                         .arg(QString::fromStdString(formatShape(accepted.input)))
                         .arg(QString::fromStdString(experimentSpecToJson(accepted.spec, -1)).left(2000));
    return accepted;
}

// Batch norm's running statistics moved off 0 and 1 by a few training batches, then evaluation mode.
void settle(AcceptedNetwork& accepted) {
    accepted.network->train();
    torch::NoGradGuard noGrad;
    for (int step = 0; step < 3; ++step)
        accepted.network->forward(torch::randn(withBatch(4, accepted.input)) * 2 + 0.5);
    accepted.network->eval();
}

} // namespace

class TestRandomNetworks : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void whatShapeInferenceAcceptsBuildsAndRuns() {
        constexpr int kNetworks = 10000;
        int refusedByTheFile = 0, refusedByShapes = 0, built = 0, builtGraphs = 0;
        for (int n = 0; n < kNetworks; ++n) {
            NetworkDraw draw(static_cast<uint64_t>(n));
            const Shape input = draw.input();
            const ModelSpec drawn = draw.model();
            const auto parsed = throughTheFile(drawn);
            if (!parsed.ok()) {
                ++refusedByTheFile;
                QVERIFY2(!parsed.error().empty(),
                         qPrintable(QString("network %1: refused without a reason").arg(n)));
                continue;
            }
            const ModelSpec& model = parsed.value().model;
            const ShapeReport report = inferShapes(model, input);
            if (!report.ok()) {
                ++refusedByShapes;
                QVERIFY2(!report.errors.front().empty(),
                         qPrintable(QString("network %1: no message").arg(n)));
                continue;
            }
            const QString where =
                QString("network %1 on %2: %3")
                    .arg(n)
                    .arg(QString::fromStdString(formatShape(input)))
                    .arg(QString::fromStdString(experimentSpecToJson(parsed.value(), -1)).left(2000));
            try {
                tunelab::detail::Network network(model, input, at::make_generator<at::CPUGeneratorImpl>(n));
                int64_t parameters = 0;
                for (const auto& parameter : network->parameters())
                    parameters += parameter.numel();
                QVERIFY2(
                    parameters == report.totalParams,
                    qPrintable(
                        where +
                        QString(": %1 parameters, inferred %2").arg(parameters).arg(report.totalParams)));
                // Training mode on a batch of 3 (batch norm needs more than one value per channel),
                // forward and backward; evaluation mode on a single sample.
                network->train();
                const torch::Tensor x = torch::randn(withBatch(3, input));
                const torch::Tensor y = network->forward(x);
                QVERIFY2(y.sizes().vec() == withBatch(3, report.output),
                         qPrintable(where + ": output " +
                                    QString::fromStdString(formatShape(y.sizes().vec())) + ", inferred " +
                                    QString::fromStdString(formatShape(report.output))));
                if (y.requires_grad())
                    y.sum().backward();
                network->eval();
                const torch::Tensor one = network->forward(torch::randn(withBatch(1, input)));
                QVERIFY2(one.sizes().vec() == withBatch(1, report.output), qPrintable(where));
            } catch (const std::exception& error) {
                QFAIL(qPrintable(where + ": LibTorch: " + QString::fromUtf8(error.what()).left(600)));
            }
            ++built;
            builtGraphs += std::any_of(model.layers.begin(), model.layers.end(),
                                       [](const LayerSpec& layer) { return !layer.inputs.empty(); });
        }
        qInfo("%d networks: %d refused by the file reader, %d by shape inference, %d built and run (%d of "
              "them graphs)",
              kNetworks, refusedByTheFile, refusedByShapes, built, builtGraphs);
        // The draw must reach the networks that build, graphs among them, and the ones that do not.
        QVERIFY2(built >= 3000, qPrintable(QString::number(built)));
        QVERIFY2(builtGraphs >= 1000, qPrintable(QString::number(builtGraphs)));
        QVERIFY2(refusedByShapes >= 3000, qPrintable(QString::number(refusedByShapes)));
        QVERIFY2(refusedByTheFile >= 100, qPrintable(QString::number(refusedByTheFile)));
    }

    // The networks that build, written as ONNX and run by OpenCV, an implementation independent of
    // LibTorch: the same outputs, or a refusal at export that names the layer. A file the export
    // wrote must never fail to run.
    void onnxFilesOfRandomNetworksComputeTheSame() {
        if (const std::string why = tunelab::detail::onnxUnavailableReason(); !why.empty())
            QSKIP(why.c_str());
        QTemporaryDir folder;
        const std::string path = folder.filePath("network.onnx").toStdString();
        constexpr int kExported = 1500;
        int exported = 0, refused = 0;
        for (uint64_t n = 0; exported + refused < kExported; ++n) {
            auto accepted = acceptedNetwork(n);
            if (!accepted)
                continue;
            settle(*accepted);
            const QString& where = accepted->where;
            const auto bytes =
                tunelab::detail::onnxModelBytes(accepted->model(), accepted->input, accepted->network);
            if (!bytes.ok()) {
                ++refused;
                QVERIFY2(bytes.error().rfind("model.layers[", 0) == 0,
                         qPrintable(where + ": " + QString::fromStdString(bytes.error())));
                continue;
            }
            {
                std::ofstream file(path, std::ios::binary | std::ios::trunc);
                file.write(bytes.value().data(), static_cast<std::streamsize>(bytes.value().size()));
                QVERIFY(file.good());
            }
            const torch::Tensor x = torch::randn(withBatch(2, accepted->input));
            torch::Tensor expected;
            {
                torch::NoGradGuard noGrad;
                expected = accepted->network->forward(x);
            }
            const auto ran = tunelab::detail::runOnnxModel(accepted->model(), path, x);
            QVERIFY2(ran.ok(),
                     qPrintable(where + ": OpenCV: " + QString::fromStdString(ran.ok() ? "" : ran.error())));
            QVERIFY2(ran.value().sizes() == expected.sizes(), qPrintable(where + ": output shapes differ"));
            const double scale = std::max(1.0, expected.abs().max().item<double>());
            const double difference = (ran.value() - expected).abs().max().item<double>();
            QVERIFY2(
                difference <= 1e-4 * scale,
                qPrintable(where + QString(": differs by %1 (outputs up to %2)").arg(difference).arg(scale)));
            ++exported;
        }
        qInfo("%d networks written as ONNX and run the same by %s; %d refused at export", exported,
              tunelab::detail::onnxCheckerName().c_str(), refused);
        QVERIFY2(exported >= kExported / 2, qPrintable(QString::number(exported)));
    }

    // The same networks as the TorchScript modules an export saves: saved, loaded back as a user's
    // program loads them, and computing what the network does in evaluation.
    void torchScriptOfRandomNetworksComputesTheSame() {
        constexpr int kSaved = 1500;
        int saved = 0;
        for (uint64_t n = 0; saved < kSaved; ++n) {
            auto accepted = acceptedNetwork(n);
            if (!accepted)
                continue;
            settle(*accepted);
            try {
                torch::NoGradGuard noGrad;
                std::istringstream file(
                    tunelab::detail::torchScriptBytes(accepted->model(), accepted->network));
                torch::jit::Module loaded = torch::jit::load(file);
                const torch::Tensor x = torch::randn(withBatch(2, accepted->input));
                const torch::Tensor expected = accepted->network->forward(x);
                const torch::Tensor actual = loaded.forward({x}).toTensor();
                QVERIFY2(actual.sizes() == expected.sizes(),
                         qPrintable(accepted->where + ": output shapes differ"));
                const double difference = (actual - expected).abs().max().item<double>();
                QVERIFY2(difference <= 1e-5 * std::max(1.0, expected.abs().max().item<double>()),
                         qPrintable(accepted->where + QString(": differs by %1").arg(difference)));
            } catch (const std::exception& error) {
                QFAIL(qPrintable(accepted->where + ": " + QString::fromUtf8(error.what()).left(800)));
            }
            ++saved;
        }
    }

    // Structured pruning of half of every hidden layer: a refusal that says why, or a narrower
    // network that shape inference accepts, whose weights load, and whose output keeps its shape.
    void structuredPruningOfRandomNetworks() {
        constexpr int kPruned = 400;
        int shrunk = 0, refused = 0;
        for (uint64_t n = 0; shrunk < kPruned && n < 20000; ++n) {
            auto accepted = acceptedNetwork(n, 0.5); // mostly networks with layers to prune
            if (!accepted)
                continue;
            const QString& where = accepted->where;
            const Shape& input = accepted->input;
            tunelab::detail::StructuredPruneOptions options;
            options.fraction = 0.5;
            try {
                const auto result = tunelab::detail::shrinkNetwork(
                    accepted->model(), input, tunelab::detail::saveStateDict(*accepted->network), options);
                if (!result.ok()) {
                    ++refused;
                    QVERIFY2(!result.error().empty(), qPrintable(where + ": refused without a reason"));
                    continue;
                }
                const ShapeReport after = inferShapes(result.value().model, input);
                if (!after.ok())
                    QFAIL(qPrintable(
                        where + ": the pruned network: " + QString::fromStdString(after.errors.front())));
                QVERIFY2(after.output == accepted->report.output,
                         qPrintable(where + ": the output changed shape"));
                QVERIFY2(after.totalParams <= accepted->report.totalParams, qPrintable(where + ": it grew"));
                tunelab::detail::Network smaller(result.value().model, input,
                                                 at::make_generator<at::CPUGeneratorImpl>(n));
                const std::string problem =
                    tunelab::detail::loadStateDict(*smaller, result.value().stateDict);
                QVERIFY2(problem.empty(), qPrintable(where + ": " + QString::fromStdString(problem)));
                smaller->eval();
                torch::NoGradGuard noGrad;
                const torch::Tensor y = smaller->forward(torch::randn(withBatch(2, input)));
                QVERIFY2(y.sizes().vec() == withBatch(2, accepted->report.output), qPrintable(where));
            } catch (const std::exception& error) {
                QFAIL(qPrintable(where + ": " + QString::fromUtf8(error.what()).left(800)));
            }
            ++shrunk;
        }
        // Most refusals: no hidden layer, every weighted layer feeding the output directly.
        qInfo("%d networks pruned, %d refused", shrunk, refused);
        QCOMPARE(shrunk, kPruned);
    }

    // Int8 post-training quantization with every layer it can take in int8: a refusal naming the
    // layer, or a quantized network with the float network's output shape, finite outputs, and a
    // saved file that computes what it does.
    void int8QuantizationOfRandomNetworks() {
        const auto engines = tunelab::detail::availableEngines();
        if (engines.empty())
            QSKIP("this LibTorch has no quantized engine");
        QTemporaryDir folder;
        constexpr int kQuantized = 150;
        int quantized = 0, refused = 0;
        for (uint64_t n = 500000; quantized < kQuantized && n < 520000; ++n) {
            auto accepted = acceptedNetwork(n, 0.5);
            if (!accepted)
                continue;
            accepted->network->eval();
            const QString& where = accepted->where;
            tunelab::detail::QuantizationOptions options;
            options.allInt8 = true;
            options.engine = engines[n % engines.size()]; // each engine in turn
            try {
                torch::NoGradGuard noGrad;
                const torch::Tensor calibration = torch::randn(withBatch(32, accepted->input));
                auto result = tunelab::detail::quantizeNetwork(accepted->model(), *accepted->network,
                                                               calibration, options);
                if (!result.ok()) {
                    ++refused;
                    QVERIFY2(!result.error().empty(), qPrintable(where + ": refused without a reason"));
                    continue;
                }
                const torch::Tensor y =
                    result.value().network.forward(torch::randn(withBatch(3, accepted->input)));
                QVERIFY2(y.sizes().vec() == withBatch(3, accepted->report.output),
                         qPrintable(where + ": output shape"));
                QVERIFY2(torch::isfinite(y).all().item<bool>(), qPrintable(where + ": outputs not finite"));
                const std::string path = folder.filePath(QString("int8-%1.pt").arg(n)).toStdString();
                const auto saved =
                    tunelab::detail::saveQuantizedModel(result.value().network, calibration, path);
                QVERIFY2(saved.ok(),
                         qPrintable(where + ": " + QString::fromStdString(saved.ok() ? "" : saved.error())));
            } catch (const std::exception& error) {
                QFAIL(qPrintable(where + ": " + QString::fromUtf8(error.what()).left(800)));
            }
            ++quantized;
        }
        qInfo("%d networks quantized and saved, %d refused", quantized, refused);
        QCOMPARE(quantized, kQuantized);
    }

    // Drawn networks trained for real, with drawn settings: every optimizer and schedule with odd
    // values, batch sizes from 1 (but not 1 with batch norm, which is refused before training), clipping,
    // shuffling, bf16, on classes or a regression target. An experiment the file reader and shape
    // inference accept completes, or ends as diverged when its loss stops being finite, saying where;
    // nothing else may end it.
    void randomExperimentsTrainOrSayWhy() {
        constexpr int kTrained = 3000;
        int trained = 0, diverged = 0;
        std::mt19937_64 rng(7);
        const auto uniform = [&](double low, double high) {
            return std::uniform_real_distribution<double>(low, high)(rng);
        };
        const auto between = [&](int low, int high) {
            return std::uniform_int_distribution<int>(low, high)(rng);
        };
        for (uint64_t n = 900000; trained < kTrained && n < 990000; ++n) {
            NetworkDraw draw(n);
            ModelSpec model = draw.model();
            const bool regression = between(0, 2) == 0;
            LayerSpec flatten;
            flatten.type = LayerType::Flatten;
            LayerSpec head;
            head.type = LayerType::Linear;
            head.outFeatures = regression ? 1 : 3;
            head.name = "head";
            model.layers.push_back(flatten);
            model.layers.push_back(head);
            ExperimentSpec spec = regression ? tunelab::test::sgdRegressionExperiment(0.01, 2)
                                             : tunelab::test::blobsExperiment(n);
            spec.model = model;
            if (regression)
                spec.loss.type =
                    std::array{LossType::Mse, LossType::L1, LossType::Huber}[size_t(between(0, 2))];
            spec.data.samples = between(20, 120);
            spec.optimizer.type = static_cast<OptimizerType>(between(0, 4));
            spec.optimizer.lr = std::pow(10.0, uniform(-5.0, 0.5));
            spec.optimizer.momentum = between(0, 1) ? uniform(0.0, 0.99) : 0.0;
            spec.optimizer.nesterov =
                spec.optimizer.type == OptimizerType::Sgd && spec.optimizer.momentum > 0 && between(0, 1);
            spec.optimizer.weightDecay = between(0, 2) == 0 ? uniform(0.0, 0.1) : 0.0;
            spec.schedule.type = static_cast<ScheduleType>(between(0, 5));
            spec.schedule.warmupEpochs = between(0, 2) == 0 ? uniform(0.0, 2.0) : 0.0;
            spec.training.epochs = between(1, 3);
            spec.training.batchSize = between(0, 3) == 0 ? between(1, 3) : between(4, 64);
            const bool batchNorm =
                std::any_of(model.layers.begin(), model.layers.end(),
                            [](const LayerSpec& layer) { return layer.type == LayerType::BatchNorm; });
            if (batchNorm && spec.training.batchSize == 1)
                spec.training.batchSize = 2; // refused with its reason: tst_trainer
            spec.training.fullBatch = between(0, 9) == 0;
            spec.training.gradClipNorm = between(0, 3) == 0 ? std::pow(10.0, uniform(-3.0, 1.0)) : 0.0;
            spec.training.shuffle = between(0, 3) != 0;
            spec.training.precision = between(0, 5) == 0 ? Precision::BFloat16 : Precision::Float32;
            auto parsed = parseExperimentSpec(experimentSpecToJson(spec));
            if (!parsed.ok())
                continue; // settings the reader refuses, with their place
            spec = parsed.take();
            const QString where = QString("experiment %1: %2")
                                      .arg(n)
                                      .arg(QString::fromStdString(experimentSpecToJson(spec, -1)));
            const Shape input = {spec.data.features}; // blobs and regression: flat features
            if (!inferShapes(spec.model, input).ok())
                continue;
            tunelab::test::CollectingSink sink;
            RunOptions options;
            options.threads = 1;
            RunControl control;
            RunSummary summary;
            try {
                summary = trainExperiment(1, spec, options, control, sink);
            } catch (const std::exception& error) {
                QFAIL(qPrintable(where + ": threw " + error.what()));
            }
            const QString message = QString::fromStdString(summary.message);
            if (summary.status == RunStatus::Diverged) {
                ++diverged; // the run says where its loss stopped being finite
                QVERIFY2(message.contains("step"), qPrintable(where + ": " + message));
            } else {
                QVERIFY2(summary.status == RunStatus::Completed,
                         qPrintable(where + ": " + QString::fromStdString(toString(summary.status)) + ": " +
                                    message));
            }
            ++trained;
        }
        qInfo("%d experiments trained, %d of them diverged", trained, diverged);
        QCOMPARE(trained, kTrained);
    }
};

QTEST_GUILESS_MAIN(TestRandomNetworks)
#include "tst_random_networks.moc"
