#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"
#include "experiment/layer_stack_model.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QIcon>
#include <QMimeData>
#include <QSignalSpy>
#include <QUndoStack>
#include <QtTest>

#include <functional>
#include <memory>
#include <set>

using namespace tunelab;

namespace {

LayerSpec linear(int64_t outFeatures) {
    LayerSpec layer = LayerCatalog::defaultLayer(LayerType::Linear);
    layer.outFeatures = outFeatures;
    return layer;
}

LayerSpec plain(LayerType type) {
    return LayerCatalog::defaultLayer(type);
}

// linear 256, relu, dropout, linear 10 on [784]
ModelSpec digitsMlp() {
    ModelSpec model;
    model.layers = {linear(256), plain(LayerType::ReLU), plain(LayerType::Dropout), linear(10)};
    return model;
}

// The resolved JSON of an experiment around the model: what a run would store.
QString modelJson(const ModelSpec& model) {
    ExperimentSpec spec = defaultExperiment();
    spec.model = model;
    return QString::fromStdString(experimentSpecToJson(spec));
}

QStringList typeNames(const ModelSpec& model) {
    QStringList names;
    for (const LayerSpec& layer : model.layers)
        names << LayerCatalog::typeName(layer.type);
    return names;
}

OutputTarget classes(int count) {
    OutputTarget target;
    target.task = TaskKind::Classification;
    target.classes = count;
    target.loss = LossType::CrossEntropy;
    return target;
}

using CommandFactory = std::function<QUndoCommand*(LayerStackModel*)>;

} // namespace

Q_DECLARE_METATYPE(tunelab::Shape)
Q_DECLARE_METATYPE(CommandFactory)

class TestLayerStackModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void catalogGroupsCoverEveryType();
    void catalogFields_data();
    void catalogFields();
    void catalogSetValueRefusesOutOfRangeAndUnknownKeys();
    void testerThroughEditsUndoAndRedo();
    void shapeColumnsFollowEdits();
    void invalidLayerIsFlagged();
    void unknownInputBlamesNoLayer();
    void poolPaddingAboveHalfTheKernelIsFlagged();
    void countsAreFormatted_data();
    void countsAreFormatted();
    void commandRoundTrips_data();
    void commandRoundTrips();
    void consecutiveEditsMerge();
    void dropMoveIsOneUndoableCommand_data();
    void dropMoveIsOneUndoableCommand();
    void paletteDropInsertsLayer();
    void templatesAreValid_data();
    void templatesAreValid();

private:
    std::unique_ptr<QUndoStack> m_stack;
    std::unique_ptr<LayerStackModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestLayerStackModel::init() {
    m_model = std::make_unique<LayerStackModel>();
    m_stack = std::make_unique<QUndoStack>();
    m_model->setUndoStack(m_stack.get());
    m_tester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_model->setInputShape({784});
    m_model->setOutputTarget(classes(10));
    m_model->resetModel(digitsMlp());
}

void TestLayerStackModel::cleanup() {
    m_stack.reset(); // commands refer to the model
    m_tester.reset();
    m_model.reset();
}

void TestLayerStackModel::catalogGroupsCoverEveryType() {
    std::multiset<int> seen;
    for (const LayerGroup& group : LayerCatalog::groups()) {
        QVERIFY(!group.name.isEmpty());
        for (LayerType type : group.types)
            seen.insert(static_cast<int>(type));
    }
    const std::vector<LayerType> all = allLayerTypes();
    QCOMPARE(seen.size(), all.size());
    for (LayerType type : all) {
        QCOMPARE(seen.count(static_cast<int>(type)), size_t(1));
        QCOMPARE(LayerCatalog::typeFromName(LayerCatalog::typeName(type)).has_value(), true);
        QVERIFY(!LayerCatalog::displayName(type).isEmpty());
    }
    QVERIFY(!LayerCatalog::typeFromName(QStringLiteral("transformer")).has_value());
}

void TestLayerStackModel::catalogFields_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("keys");
    QTest::newRow("linear") << "linear" << QStringList{"out_features", "bias", "lr_multiplier"};
    QTest::newRow("conv2d") << "conv2d" << QStringList{"out_channels", "kernel_size", "stride",
                                                       "padding",      "bias",        "lr_multiplier"};
    QTest::newRow("maxpool2d") << "maxpool2d" << QStringList{"kernel_size", "stride", "padding"};
    QTest::newRow("avgpool2d") << "avgpool2d" << QStringList{"kernel_size", "stride", "padding"};
    QTest::newRow("batchnorm") << "batchnorm" << QStringList{"eps", "momentum", "lr_multiplier"};
    QTest::newRow("layernorm") << "layernorm" << QStringList{"eps", "lr_multiplier"};
    QTest::newRow("dropout") << "dropout" << QStringList{"p"};
    QTest::newRow("leaky_relu") << "leaky_relu" << QStringList{"negative_slope"};
    QTest::newRow("elu") << "elu" << QStringList{"alpha"};
    QTest::newRow("flatten") << "flatten" << QStringList{};
    QTest::newRow("relu") << "relu" << QStringList{};
    QTest::newRow("gelu") << "gelu" << QStringList{};
    QTest::newRow("silu") << "silu" << QStringList{};
    QTest::newRow("tanh") << "tanh" << QStringList{};
    QTest::newRow("sigmoid") << "sigmoid" << QStringList{};
}

void TestLayerStackModel::catalogFields() {
    QFETCH(QString, type);
    QFETCH(QStringList, keys);
    const auto layerType = LayerCatalog::typeFromName(type);
    QVERIFY(layerType.has_value());
    QStringList actual;
    for (const LayerField& field : LayerCatalog::fields(*layerType)) {
        actual << field.key;
        if (field.kind == LayerFieldKind::Bool)
            continue;
        // The default layer's value is one the spec reader's rule accepts (0 meaning "default" where
        // the field says so).
        const LayerSpec layer = LayerCatalog::defaultLayer(*layerType);
        const double value = LayerCatalog::value(layer, field.key).toDouble();
        QVERIFY2(field.rule.accepts(value) || (value == 0.0 && !field.defaultText.isEmpty()),
                 qPrintable(field.key));
    }
    QCOMPARE(actual, keys);
}

void TestLayerStackModel::catalogSetValueRefusesOutOfRangeAndUnknownKeys() {
    LayerSpec layer = plain(LayerType::Dropout);
    QVERIFY(LayerCatalog::setValue(layer, QStringLiteral("p"), 0.25));
    QCOMPARE(layer.p, 0.25);
    // A value the spec reader refuses is refused, never clamped into range.
    QVERIFY(!LayerCatalog::setValue(layer, QStringLiteral("p"), 1.5));
    QCOMPARE(layer.p, 0.25);
    QVERIFY(!LayerCatalog::setValue(layer, QStringLiteral("out_features"), 3));
    QVERIFY(!LayerCatalog::value(layer, QStringLiteral("out_features")).isValid());

    LayerSpec conv = plain(LayerType::Conv2d);
    const int64_t channels = conv.outChannels;
    QVERIFY(!LayerCatalog::setValue(conv, QStringLiteral("out_channels"), 0));
    QCOMPARE(conv.outChannels, channels);
    QVERIFY(LayerCatalog::setValue(conv, QStringLiteral("stride"), 0)); // 0: the default stride
    QCOMPARE(conv.stride, int64_t(0));
    QVERIFY(LayerCatalog::setValue(conv, QStringLiteral("bias"), false));
    QCOMPARE(conv.bias, false);
    QCOMPARE(LayerCatalog::value(conv, QStringLiteral("bias")).toBool(), false);
    QCOMPARE(LayerCatalog::summary(linear(256)), QStringLiteral("linear 256"));
}

void TestLayerStackModel::testerThroughEditsUndoAndRedo() {
    const QString original = modelJson(m_model->modelSpec());
    m_stack->push(new InsertLayerCommand(m_model.get(), 0, plain(LayerType::Flatten)));
    m_stack->push(new InsertLayerCommand(m_model.get(), m_model->layerCount(), plain(LayerType::Sigmoid)));
    m_stack->push(new MoveLayerCommand(m_model.get(), 0, 3));
    m_stack->push(new MoveLayerCommand(m_model.get(), 4, 1));
    m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("out_features"), 32));
    m_stack->push(new RemoveLayerCommand(m_model.get(), 2));
    m_stack->push(new ReplaceModelCommand(
        m_model.get(), LayerCatalog::templateModel("MLP", {784}, classes(10)), QStringLiteral("template")));
    m_stack->push(new RemoveLayerCommand(m_model.get(), 0));
    const QString edited = modelJson(m_model->modelSpec());
    QCOMPARE(m_stack->count(), 8);

    while (m_stack->canUndo())
        m_stack->undo();
    QCOMPARE(modelJson(m_model->modelSpec()), original);
    while (m_stack->canRedo())
        m_stack->redo();
    QCOMPARE(modelJson(m_model->modelSpec()), edited);

    // Remove everything, then undo it all.
    while (m_model->layerCount() > 0)
        m_stack->push(new RemoveLayerCommand(m_model.get(), m_model->layerCount() - 1));
    QVERIFY(!m_model->isValid());
    while (m_stack->canUndo())
        m_stack->undo();
    QCOMPARE(modelJson(m_model->modelSpec()), original);
}

void TestLayerStackModel::shapeColumnsFollowEdits() {
    QCOMPARE(m_model->index(0, LayerStackModel::OutputColumn).data().toString(), QStringLiteral("[256]"));
    QCOMPARE(
        m_model->index(3, LayerStackModel::ParamsColumn).data(LayerStackModel::RawValueRole).toLongLong(),
        256LL * 10 + 10);
    QCOMPARE(m_model->index(3, LayerStackModel::ParamsColumn).data().toString(), QStringLiteral("2,570"));
    QCOMPARE(m_model->totalParams(), 784LL * 256 + 256 + 2570);
    QCOMPARE(m_model->totalFlops(), m_model->report().totalFlops);

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("out_features"), 10));
    QVERIFY(changed.count() >= 1);
    const QModelIndex nextParams = m_model->index(3, LayerStackModel::ParamsColumn);
    bool covered = false;
    for (const QList<QVariant>& arguments : changed) {
        const auto topLeft = arguments.at(0).value<QModelIndex>();
        const auto bottomRight = arguments.at(1).value<QModelIndex>();
        covered = covered || (topLeft.row() <= 3 && bottomRight.row() >= 3 &&
                              topLeft.column() <= LayerStackModel::ParamsColumn &&
                              bottomRight.column() >= LayerStackModel::ParamsColumn);
    }
    QVERIFY(covered);
    QCOMPARE(m_model->index(0, LayerStackModel::LayerColumn).data().toString(), QStringLiteral("linear 10"));
    QCOMPARE(m_model->index(0, LayerStackModel::OutputColumn).data().toString(), QStringLiteral("[10]"));
    QCOMPARE(nextParams.data(LayerStackModel::RawValueRole).toLongLong(), 10LL * 10 + 10);
    QCOMPARE(m_model->totalParams(), 784LL * 10 + 10 + 110);

    m_stack->undo();
    QCOMPARE(nextParams.data(LayerStackModel::RawValueRole).toLongLong(), 2570LL);
}

void TestLayerStackModel::invalidLayerIsFlagged() {
    QVERIFY(m_model->isValid());
    QVERIFY(m_model->invalidReason().isEmpty());
    QVERIFY(!m_model->index(0, LayerStackModel::LayerColumn).data(Qt::BackgroundRole).isValid());

    m_model->setInputShape({3, 32, 32}); // linear on an image
    QVERIFY(!m_model->isValid());
    const QString engineMessage = QString::fromStdString(m_model->report().layers.at(0).error);
    QVERIFY(engineMessage.contains(QStringLiteral("needs a flat input")));
    QCOMPARE(m_model->invalidReason(), engineMessage);
    for (int column = 0; column < LayerStackModel::ColumnCount; ++column) {
        const QModelIndex index = m_model->index(0, column);
        QVERIFY(index.data(Qt::ToolTipRole).toString().contains(engineMessage));
        QVERIFY(index.data(Qt::BackgroundRole).value<QBrush>().color().red() > 200);
    }
    QVERIFY(
        !m_model->index(0, LayerStackModel::LayerColumn).data(Qt::DecorationRole).value<QIcon>().isNull());
    QCOMPARE(m_model->index(0, LayerStackModel::OutputColumn).data().toString(), QStringLiteral("invalid"));
    // Later layers cannot be known, but are not blamed.
    QVERIFY(m_model->rowError(1).isEmpty());
    QCOMPARE(m_model->index(1, LayerStackModel::OutputColumn).data().toString(), QStringLiteral("?"));

    // Fixing it with a flatten in front is an undoable edit that clears the flag.
    m_stack->push(new InsertLayerCommand(m_model.get(), 0, plain(LayerType::Flatten)));
    QVERIFY2(m_model->isValid(), qPrintable(m_model->invalidReason()));
    QVERIFY(!m_model->index(1, LayerStackModel::LayerColumn).data(Qt::BackgroundRole).isValid());
    m_stack->undo();
    QVERIFY(!m_model->isValid());

    // A wrong output width names the classes.
    m_model->setInputShape({784});
    m_stack->push(new EditLayerCommand(m_model.get(), 3, QStringLiteral("out_features"), 7));
    QVERIFY(!m_model->isValid());
    QVERIFY2(m_model->invalidReason().contains(QStringLiteral("10")), qPrintable(m_model->invalidReason()));
}

void TestLayerStackModel::unknownInputBlamesNoLayer() {
    // A linear layer on an image is an error once the shape is known, and nobody's fault before.
    m_model->setInputShape({});
    QVERIFY(!m_model->inputKnown());
    QVERIFY(!m_model->isValid());
    QVERIFY2(m_model->invalidReason().contains(QStringLiteral("once the data is loaded")),
             qPrintable(m_model->invalidReason()));
    for (int row = 0; row < m_model->layerCount(); ++row) {
        QVERIFY(m_model->rowError(row).isEmpty());
        const QModelIndex output = m_model->index(row, LayerStackModel::OutputColumn);
        QCOMPARE(output.data().toString(), QStringLiteral("?"));
        QCOMPARE(output.data(Qt::ToolTipRole).toString(), QStringLiteral("Unknown until the data is loaded"));
        QVERIFY(!output.data(Qt::BackgroundRole).isValid());
    }
    QCOMPARE(int(m_model->report().graph.inputs.size()), m_model->layerCount()); // the wiring is still known

    m_model->setInputShape({3, 32, 32});
    QVERIFY(m_model->inputKnown());
    QVERIFY(m_model->report().layers.at(0).error.find("needs a flat input") != std::string::npos);
    m_model->setInputShape({784});
    QVERIFY2(m_model->isValid(), qPrintable(m_model->invalidReason()));
}

void TestLayerStackModel::poolPaddingAboveHalfTheKernelIsFlagged() {
    ModelSpec model;
    model.layers = {plain(LayerType::MaxPool2d), plain(LayerType::Flatten), linear(10)};
    m_model->setInputShape({1, 8, 8});
    m_model->resetModel(model);
    QVERIFY2(m_model->isValid(), qPrintable(m_model->invalidReason()));
    m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("padding"), 2)); // kernel 2
    QVERIFY(!m_model->isValid());
    QVERIFY2(m_model->rowError(0).contains(QStringLiteral("padding must be at most half")),
             qPrintable(m_model->rowError(0)));
    QCOMPARE(m_model->invalidReason(), m_model->rowError(0));
    m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("kernel_size"), 4));
    QVERIFY2(m_model->isValid(), qPrintable(m_model->invalidReason()));
}

void TestLayerStackModel::countsAreFormatted_data() {
    QTest::addColumn<qlonglong>("value");
    QTest::addColumn<QString>("count");
    QTest::addColumn<QString>("compact");
    QTest::newRow("zero") << 0LL << "0"
                          << "0";
    QTest::newRow("hundreds") << 970LL << "970"
                              << "970";
    QTest::newRow("thousands") << 2570LL << "2,570"
                               << "2570";
    QTest::newRow("ten thousand") << 12345LL << "12,345"
                                  << "12.3 K";
    QTest::newRow("almost a million") << 999600LL << "999,600"
                                      << "1 M";
    QTest::newRow("billions") << 4560000000LL << "4,560,000,000"
                              << "4.56 G";
}

void TestLayerStackModel::countsAreFormatted() {
    QFETCH(qlonglong, value);
    QFETCH(QString, count);
    QFETCH(QString, compact);
    QCOMPARE(formatCount(value), count);
    QCOMPARE(formatCompact(value), compact);
}

void TestLayerStackModel::commandRoundTrips_data() {
    QTest::addColumn<CommandFactory>("factory");
    QTest::newRow("insert first") << CommandFactory([](LayerStackModel* m) {
        return new InsertLayerCommand(m, 0, LayerCatalog::defaultLayer(LayerType::Flatten));
    });
    QTest::newRow("insert last") << CommandFactory([](LayerStackModel* m) {
        return new InsertLayerCommand(m, m->layerCount(), LayerCatalog::defaultLayer(LayerType::Tanh));
    });
    QTest::newRow("remove first") << CommandFactory(
        [](LayerStackModel* m) { return new RemoveLayerCommand(m, 0); });
    QTest::newRow("remove last") << CommandFactory(
        [](LayerStackModel* m) { return new RemoveLayerCommand(m, 3); });
    QTest::newRow("move down") << CommandFactory(
        [](LayerStackModel* m) { return new MoveLayerCommand(m, 0, 3); });
    QTest::newRow("move up") << CommandFactory(
        [](LayerStackModel* m) { return new MoveLayerCommand(m, 2, 0); });
    QTest::newRow("move by one") << CommandFactory(
        [](LayerStackModel* m) { return new MoveLayerCommand(m, 1, 2); });
    QTest::newRow("edit int") << CommandFactory(
        [](LayerStackModel* m) { return new EditLayerCommand(m, 0, QStringLiteral("out_features"), 99); });
    QTest::newRow("edit bool") << CommandFactory(
        [](LayerStackModel* m) { return new EditLayerCommand(m, 3, QStringLiteral("bias"), false); });
    QTest::newRow("edit double") << CommandFactory(
        [](LayerStackModel* m) { return new EditLayerCommand(m, 2, QStringLiteral("p"), 0.125); });
    QTest::newRow("replace") << CommandFactory([](LayerStackModel* m) {
        return new ReplaceModelCommand(m, LayerCatalog::templateModel("Regression net", {784}, {}),
                                       "template");
    });
}

void TestLayerStackModel::commandRoundTrips() {
    QFETCH(CommandFactory, factory);
    const ModelSpec before = m_model->modelSpec();
    m_stack->push(factory(m_model.get()));
    QCOMPARE(m_stack->count(), 1);
    const ModelSpec after = m_model->modelSpec();
    QVERIFY(!LayerCatalog::sameModel(before, after));
    QVERIFY(modelJson(before) != modelJson(after));
    for (int round = 0; round < 2; ++round) {
        m_stack->undo();
        QVERIFY(LayerCatalog::sameModel(m_model->modelSpec(), before));
        QCOMPARE(modelJson(m_model->modelSpec()), modelJson(before));
        m_stack->redo();
        QVERIFY(LayerCatalog::sameModel(m_model->modelSpec(), after));
        QCOMPARE(modelJson(m_model->modelSpec()), modelJson(after));
    }
}

void TestLayerStackModel::consecutiveEditsMerge() {
    // Typing "128" into a spin box: 1, 12, 128 is one step.
    for (int value : {1, 12, 128})
        m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("out_features"), value));
    QCOMPARE(m_stack->count(), 1);
    QCOMPARE(m_model->layer(0).outFeatures, int64_t(128));
    // Another field, another layer: new steps.
    m_stack->push(new EditLayerCommand(m_model.get(), 0, QStringLiteral("bias"), false));
    m_stack->push(new EditLayerCommand(m_model.get(), 3, QStringLiteral("out_features"), 12));
    QCOMPARE(m_stack->count(), 3);
    m_stack->undo();
    m_stack->undo();
    QCOMPARE(m_model->layer(0).bias, true);
    m_stack->undo();
    QCOMPARE(m_model->layer(0).outFeatures, int64_t(256));
    QVERIFY(!m_stack->canUndo());

    // Edits that end where they started leave nothing to undo.
    m_stack->clear();
    m_stack->push(new EditLayerCommand(m_model.get(), 2, QStringLiteral("p"), 0.3));
    m_stack->push(new EditLayerCommand(m_model.get(), 2, QStringLiteral("p"), 0.5));
    QCOMPARE(m_stack->count(), 0);
    QCOMPARE(m_model->layer(2).p, 0.5);
}

void TestLayerStackModel::dropMoveIsOneUndoableCommand_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("dropRow");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("first to end") << 0 << -1 << QStringList{"relu", "dropout", "linear", "linear"};
    QTest::newRow("first before last") << 0 << 3 << QStringList{"relu", "dropout", "linear", "linear"};
    QTest::newRow("last to top") << 3 << 0 << QStringList{"linear", "linear", "relu", "dropout"};
    QTest::newRow("dropout before relu") << 2 << 1 << QStringList{"linear", "dropout", "relu", "linear"};
    QTest::newRow("relu after dropout") << 1 << 3 << QStringList{"linear", "dropout", "relu", "linear"};
}

void TestLayerStackModel::dropMoveIsOneUndoableCommand() {
    QFETCH(int, from);
    QFETCH(int, dropRow);
    QFETCH(QStringList, expected);
    const QString before = modelJson(m_model->modelSpec());
    std::unique_ptr<QMimeData> mime(m_model->mimeData({m_model->index(from, 0), m_model->index(from, 2)}));
    QVERIFY(mime);
    QVERIFY(mime->hasFormat(LayerStackModel::kRowsMimeType));
    QVERIFY(m_model->canDropMimeData(mime.get(), Qt::MoveAction, dropRow, -1, QModelIndex()));
    QVERIFY(m_model->dropMimeData(mime.get(), Qt::MoveAction, dropRow, -1, QModelIndex()));
    QCOMPARE(m_stack->count(), 1);
    QCOMPARE(typeNames(m_model->modelSpec()), expected);
    m_stack->undo();
    QCOMPARE(modelJson(m_model->modelSpec()), before);

    // Dropping a layer just above or below itself changes nothing and pushes nothing.
    m_stack->clear();
    QVERIFY(!m_model->dropMimeData(mime.get(), Qt::MoveAction, from, -1, QModelIndex()));
    QVERIFY(!m_model->dropMimeData(mime.get(), Qt::MoveAction, from + 1, -1, QModelIndex()));
    QCOMPARE(m_stack->count(), 0);
}

void TestLayerStackModel::paletteDropInsertsLayer() {
    QMimeData mime;
    mime.setData(LayerStackModel::kLayerTypeMimeType, "batchnorm");
    QVERIFY(m_model->dropMimeData(&mime, Qt::CopyAction, 1, -1, QModelIndex()));
    QCOMPARE(m_stack->count(), 1);
    QCOMPARE(typeNames(m_model->modelSpec()),
             (QStringList{"linear", "batchnorm", "relu", "dropout", "linear"}));
    m_stack->undo();
    QCOMPARE(m_model->layerCount(), 4);

    QMimeData unknown;
    unknown.setData(LayerStackModel::kLayerTypeMimeType, "transformer");
    QVERIFY(!m_model->canDropMimeData(&unknown, Qt::CopyAction, 0, -1, QModelIndex()));
    QVERIFY(!m_model->dropMimeData(&unknown, Qt::CopyAction, 0, -1, QModelIndex()));

    // Rows dragged out of another editor's stack do not move this one's layers.
    LayerStackModel other;
    other.resetModel(digitsMlp());
    std::unique_ptr<QMimeData> foreign(other.mimeData({other.index(0, 0)}));
    QVERIFY(!m_model->dropMimeData(foreign.get(), Qt::MoveAction, 3, -1, QModelIndex()));
    QCOMPARE(m_stack->count(), 1);

    // Without an undo stack there is nowhere to record a drop, so none is accepted.
    m_model->setUndoStack(nullptr);
    QVERIFY(!m_model->canDropMimeData(&mime, Qt::CopyAction, 0, -1, QModelIndex()));
    QCOMPARE(m_stack->count(), 1);
}

void TestLayerStackModel::templatesAreValid_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<Shape>("input");
    QTest::addColumn<int>("task");
    QTest::addColumn<int>("classCount");
    QTest::addColumn<int>("loss");
    const int classification = static_cast<int>(TaskKind::Classification);
    const int regression = static_cast<int>(TaskKind::Regression);
    const int crossEntropy = static_cast<int>(LossType::CrossEntropy);
    QTest::newRow("mlp spirals") << "MLP" << Shape{2} << classification << 2 << crossEntropy;
    QTest::newRow("mlp digits") << "MLP" << Shape{64} << classification << 10 << crossEntropy;
    QTest::newRow("mlp mnist") << "MLP" << Shape{1, 28, 28} << classification << 10 << crossEntropy;
    QTest::newRow("mlp bce") << "MLP" << Shape{2} << classification << 2
                             << static_cast<int>(LossType::BceWithLogits);
    QTest::newRow("lenet mnist") << "LeNet-style CNN" << Shape{1, 28, 28} << classification << 10
                                 << crossEntropy;
    QTest::newRow("lenet cifar") << "LeNet-style CNN" << Shape{3, 32, 32} << classification << 10
                                 << crossEntropy;
    QTest::newRow("lenet 8x8 digits")
        << "LeNet-style CNN" << Shape{1, 8, 8} << classification << 10 << crossEntropy;
    QTest::newRow("regression 2") << "Regression net" << Shape{2} << regression << 0
                                  << static_cast<int>(LossType::Mse);
    QTest::newRow("regression 13") << "Regression net" << Shape{13} << regression << 0
                                   << static_cast<int>(LossType::Huber);
}

void TestLayerStackModel::templatesAreValid() {
    QFETCH(QString, name);
    QFETCH(Shape, input);
    QFETCH(int, task);
    QFETCH(int, classCount);
    QFETCH(int, loss);
    QVERIFY(LayerCatalog::templateNames().contains(name));
    OutputTarget target;
    target.task = static_cast<TaskKind>(task);
    target.classes = classCount;
    target.loss = static_cast<LossType>(loss);
    const ModelSpec model = LayerCatalog::templateModel(name, input, target);
    QVERIFY(!model.layers.empty());
    const ShapeReport report = inferShapes(model, input, target);
    QString errors;
    for (const std::string& error : report.errors)
        errors += QString::fromStdString(error) + QLatin1Char('\n');
    QVERIFY2(report.ok(), qPrintable(errors));

    // Through the model and its undo stack as the editor applies it.
    m_model->setInputShape(input);
    m_model->setOutputTarget(target);
    m_stack->push(new ReplaceModelCommand(m_model.get(), model, name));
    QVERIFY2(m_model->isValid(), qPrintable(m_model->invalidReason()));
    QVERIFY(m_model->totalParams() > 0);
}

QTEST_MAIN(TestLayerStackModel)
#include "tst_layer_stack_model.moc"
