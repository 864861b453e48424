#include "model/shape_inference.h"

#include "common/checked_math.h"

#include <QElapsedTimer>
#include <QtTest>

using namespace tunelab;

namespace {

LayerSpec layer(LayerType type, int64_t size = 0, int64_t kernel = 3, int64_t stride = 0,
                int64_t padding = 0) {
    LayerSpec spec;
    spec.type = type;
    spec.outFeatures = size;
    spec.outChannels = size;
    spec.kernelSize = kernel;
    spec.stride = stride;
    spec.padding = padding;
    return spec;
}

ModelSpec lenet() {
    ModelSpec model;
    model.layers = {
        layer(LayerType::Conv2d, 6, 5, 1, 2),
        layer(LayerType::ReLU),
        layer(LayerType::MaxPool2d, 0, 2),
        layer(LayerType::Conv2d, 16, 5),
        layer(LayerType::ReLU),
        layer(LayerType::AvgPool2d, 0, 2),
        layer(LayerType::Flatten),
        layer(LayerType::Linear, 120),
        layer(LayerType::BatchNorm),
        layer(LayerType::Tanh),
        layer(LayerType::Dropout),
        layer(LayerType::Linear, 10),
    };
    return model;
}

} // namespace

Q_DECLARE_METATYPE(tunelab::Shape)

class TestShapeInference : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void lenetLayerTable() {
        const ShapeReport report = inferShapes(lenet(), {1, 28, 28});
        QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        QCOMPARE(report.layers.size(), size_t(12));
        QCOMPARE(report.layers[0].output, (Shape{6, 28, 28}));
        QCOMPARE(report.layers[0].params, int64_t(6 * 1 * 25 + 6));
        QCOMPARE(report.layers[0].flops, int64_t(2 * 1 * 25 * 6 * 28 * 28 + 6 * 28 * 28));
        QCOMPARE(report.layers[2].output, (Shape{6, 14, 14}));
        QCOMPARE(report.layers[3].output, (Shape{16, 10, 10}));
        QCOMPARE(report.layers[5].output, (Shape{16, 5, 5}));
        QCOMPARE(report.layers[6].output, (Shape{400}));
        QCOMPARE(report.layers[7].params, int64_t(400 * 120 + 120));
        QCOMPARE(report.layers[8].params, int64_t(240)); // batchnorm: weight and bias per feature
        QCOMPARE(report.output, (Shape{10}));
        int64_t params = 0;
        for (const auto& row : report.layers)
            params += row.params;
        QCOMPARE(report.totalParams, params);
        QCOMPARE(report.totalParams, int64_t(156 + 2416 + 48120 + 240 + 1210));
    }

    void reportsMismatches_data() {
        QTest::addColumn<int>("case_");
        QTest::addColumn<tunelab::Shape>("input");
        QTest::addColumn<int>("badLayer");
        QTest::addColumn<QString>("expected");
        QTest::newRow("linear on image")
            << 0 << Shape{3, 32, 32} << 0
            << "layer 0 (linear) needs a flat input [features] but gets [3, 32, 32]; add a flatten layer";
        QTest::newRow("conv on features") << 1 << Shape{64} << 0
                                          << "layer 0 (conv2d) needs an image input [channels, height, "
                                             "width] but gets [64]; set data.input_shape";
        QTest::newRow("kernel too large")
            << 2 << Shape{1, 4, 4} << 0 << "layer 0 (conv2d): kernel 5x5 does not fit the input [1, 4, 4]";
        QTest::newRow("pool shrinks to nothing")
            << 3 << Shape{1, 8, 8} << 2 << "layer 2 (maxpool2d): kernel 4x4 does not fit the input [4, 2, 2]";
    }
    void reportsMismatches() {
        QFETCH(int, case_);
        QFETCH(tunelab::Shape, input);
        QFETCH(int, badLayer);
        QFETCH(QString, expected);
        ModelSpec model;
        switch (case_) {
        case 0:
            model.layers = {layer(LayerType::Linear, 10)};
            break;
        case 1:
            model.layers = {layer(LayerType::Conv2d, 8), layer(LayerType::ReLU)};
            break;
        case 2:
            model.layers = {layer(LayerType::Conv2d, 8, 5)};
            break;
        default:
            model.layers = {layer(LayerType::Conv2d, 4, 3, 1, 1), layer(LayerType::MaxPool2d, 0, 4),
                            layer(LayerType::MaxPool2d, 0, 4), layer(LayerType::Flatten)};
            break;
        }
        const ShapeReport report = inferShapes(model, input);
        QVERIFY(!report.ok());
        QCOMPARE(report.errors.size(), size_t(1));
        QVERIFY2(QString::fromStdString(report.errors.front()).contains(expected),
                 report.errors.front().c_str());
        QVERIFY(!report.layers[badLayer].error.empty());
        QVERIFY(report.layers[badLayer].output.empty());
        for (int i = 0; i < badLayer; ++i)
            QVERIFY(!report.layers[i].output.empty());
    }

    void checksTheOutputAgainstTheTask_data() {
        QTest::addColumn<int>("lastWidth");
        QTest::addColumn<int>("task");
        QTest::addColumn<int>("classes");
        QTest::addColumn<int>("loss");
        QTest::addColumn<QString>("expected");
        const int classification = int(TaskKind::Classification);
        const int regression = int(TaskKind::Regression);
        QTest::newRow("ten classes ok") << 10 << classification << 10 << int(LossType::CrossEntropy) << "";
        QTest::newRow("wrong width")
            << 5 << classification << 10 << int(LossType::CrossEntropy)
            << "the network outputs [5] per sample but data with 10 classes needs [10]; set "
               "out_features of layer 2 (linear) to 10";
        QTest::newRow("bce ok") << 1 << classification << 2 << int(LossType::BceWithLogits) << "";
        QTest::newRow("bce on three classes") << 1 << classification << 3 << int(LossType::BceWithLogits)
                                              << "bce_with_logits needs two classes";
        QTest::newRow("regression ok") << 1 << regression << 0 << int(LossType::Mse) << "";
        QTest::newRow("regression wide")
            << 3 << regression << 0 << int(LossType::Mse) << "a regression target needs [1]";
        QTest::newRow("unknown classes") << 7 << classification << 0 << int(LossType::CrossEntropy) << "";
    }
    void checksTheOutputAgainstTheTask() {
        QFETCH(int, lastWidth);
        QFETCH(int, task);
        QFETCH(int, classes);
        QFETCH(int, loss);
        QFETCH(QString, expected);
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, 16), layer(LayerType::ReLU),
                        layer(LayerType::Linear, lastWidth)};
        const ShapeReport report =
            inferShapes(model, {4}, OutputTarget{TaskKind(task), classes, LossType(loss)});
        if (expected.isEmpty()) {
            QVERIFY2(report.ok(), report.errors.empty() ? "" : report.errors.front().c_str());
        } else {
            QVERIFY(!report.ok());
            QVERIFY2(QString::fromStdString(report.errors.back()).contains(expected),
                     report.errors.back().c_str());
        }
    }

    void imageOutputNeedsAFlatten() {
        ModelSpec model;
        model.layers = {layer(LayerType::Conv2d, 10, 3)};
        const ShapeReport report = inferShapes(model, {1, 8, 8}, OutputTarget{TaskKind::Classification, 10});
        QVERIFY(!report.ok());
        QVERIFY(
            QString::fromStdString(report.errors.back()).contains("end with a flatten and a linear layer"));
    }

    void emptyNetworkAndBadInput() {
        QVERIFY(!inferShapes(ModelSpec{}, {4}).ok());
        ModelSpec model;
        model.layers = {layer(LayerType::ReLU)};
        QVERIFY(!inferShapes(model, {}).ok());
        QVERIFY(!inferShapes(model, {0, 3}).ok());
    }

    void layerNormAndBatchNormParams() {
        ModelSpec model;
        model.layers = {layer(LayerType::LayerNorm), layer(LayerType::BatchNorm)};
        const ShapeReport report = inferShapes(model, {3, 4, 5});
        QVERIFY(report.ok());
        QCOMPARE(report.layers[0].params, int64_t(2 * 60));
        QCOMPARE(report.layers[1].params, int64_t(2 * 3));
    }

    // Shape inference runs on every edit in the network editor; it must stay far below a frame.
    void hugeSizesNeverWrapAround_data() {
        QTest::addColumn<qint64>("inputFeatures");
        QTest::addColumn<qint64>("width");
        QTest::addColumn<QString>("expected");
        const qint64 int32Max = 2147483647;
        QTest::newRow("two 2^31-1 wide layers") << int32Max << int32Max << "parameters, more than any device";
        QTest::newRow("input of 2^62 features") << qint64(1) << qint64(4) << "";
        QTest::newRow("4 x 2^62 input") << qint64(4611686018427387920) << qint64(4) << "is too large";
    }

    void hugeSizesNeverWrapAround() {
        QFETCH(qint64, inputFeatures);
        QFETCH(qint64, width);
        QFETCH(QString, expected);
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, width), layer(LayerType::Linear, width)};
        const Shape input =
            inputFeatures == 4611686018427387920 ? Shape{inputFeatures, 4} : Shape{inputFeatures};
        if (input.size() == 2)
            model.layers.insert(model.layers.begin(), layer(LayerType::Flatten));
        const ShapeReport report = inferShapes(model, input);
        QVERIFY(report.totalParams >= 0);
        QVERIFY(report.totalFlops >= 0);
        if (expected.isEmpty()) {
            QVERIFY(report.ok());
        } else {
            QVERIFY(!report.ok());
            QVERIFY2(QString::fromStdString(report.errors.front()).contains(expected),
                     report.errors.front().c_str());
        }
    }

    void shapeElementsSaturates() {
        QCOMPARE(shapeElements({4611686018427387920, 4}), kSaturated);
        QCOMPARE(shapeElements({3, 28, 28}), int64_t(2352));
    }

    void fiftyLayersAreFast() {
        ModelSpec model;
        for (int i = 0; i < 25; ++i) {
            model.layers.push_back(layer(LayerType::Linear, 128));
            model.layers.push_back(layer(LayerType::ReLU));
        }
        QElapsedTimer timer;
        timer.start();
        constexpr int kRepeats = 100;
        for (int i = 0; i < kRepeats; ++i)
            QVERIFY(inferShapes(model, {64}).ok());
        const double millisecondsEach = double(timer.nsecsElapsed()) / 1e6 / kRepeats;
        QVERIFY2(millisecondsEach < 10.0, qPrintable(QString::number(millisecondsEach) + " ms"));
    }
};

QTEST_APPLESS_MAIN(TestShapeInference)
#include "tst_shape_inference.moc"
