#include "common/number_field.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_stack_model.h"
#include "experiment/network_editor.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QMimeData>
#include <QSignalSpy>
#include <QTableView>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>

#include <memory>

using namespace tunelab;

namespace {

LayerSpec linear(int64_t outFeatures) {
    LayerSpec layer = LayerCatalog::defaultLayer(LayerType::Linear);
    layer.outFeatures = outFeatures;
    return layer;
}

// linear 64, relu, linear 10 on [784] with 10 classes: valid.
ModelSpec smallMlp() {
    ModelSpec model;
    model.layers = {linear(64), LayerCatalog::defaultLayer(LayerType::ReLU), linear(10)};
    return model;
}

QStringList typeNames(const ModelSpec& model) {
    QStringList names;
    for (const LayerSpec& layer : model.layers)
        names << LayerCatalog::typeName(layer.type);
    return names;
}

// Keys of the editors in the property form, in form order.
QStringList formKeys(QFormLayout* form) {
    QStringList keys;
    for (int row = 0; row < form->rowCount(); ++row) {
        QLayoutItem* item = form->itemAt(row, QFormLayout::FieldRole);
        if (item && item->widget() && !item->widget()->objectName().isEmpty())
            keys << item->widget()->objectName();
    }
    return keys;
}

QTreeWidgetItem* paletteItem(QTreeWidget* palette, const QString& typeName) {
    for (int group = 0; group < palette->topLevelItemCount(); ++group) {
        QTreeWidgetItem* groupItem = palette->topLevelItem(group);
        for (int child = 0; child < groupItem->childCount(); ++child) {
            if (groupItem->child(child)->data(0, Qt::UserRole + 1).toString() == typeName)
                return groupItem->child(child);
        }
    }
    return nullptr;
}

// QApplication delivers a drop only to the widget that accepted the drag entering it.
void dropAt(QTableView* view, const QPoint& position, QDropEvent* drop) {
    QDragEnterEvent enter(position, drop->possibleActions(), drop->mimeData(), Qt::LeftButton,
                          Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &enter);
    QVERIFY(enter.isAccepted());
    QApplication::sendEvent(view->viewport(), drop);
    QVERIFY(drop->isAccepted());
}

} // namespace

class TestNetworkEditor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void keyboardEditing_data();
    void keyboardEditing();
    void propertyFormShowsOnlyTheLayersFields_data();
    void propertyFormShowsOnlyTheLayersFields();
    void spinBoxEditIsUndoable();
    void validityChangedCarriesTheReason();
    void paletteDoubleClickAddsLayer();
    void paletteGroupsEveryType();
    void dropsOnTheTableAreUndoable();
    void blockDroppedOnTheTableGoesAfterTheRowAbove();
    void templateIsOneUndoStep();
    void setModelClearsHistory();
    void totalsSayWhatTrainsAndWhatIsFrozen();

private:
    std::unique_ptr<NetworkEditor> m_editor;
};

void TestNetworkEditor::init() {
    m_editor = std::make_unique<NetworkEditor>();
    OutputTarget target;
    target.classes = 10;
    m_editor->setInputShape({784});
    m_editor->setOutputTarget(target);
    m_editor->setModel(smallMlp());
    m_editor->resize(1000, 600);
    m_editor->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_editor.get()));
}

void TestNetworkEditor::cleanup() {
    m_editor.reset();
}

void TestNetworkEditor::keyboardEditing_data() {
    QTest::addColumn<int>("startRow");
    QTest::addColumn<int>("key");
    QTest::addColumn<int>("modifiers");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<int>("expectedRow");
    const int none = Qt::NoModifier;
    const int ctrl = Qt::ControlModifier;
    QTest::newRow("delete") << 1 << int(Qt::Key_Delete) << none << QStringList{"linear", "linear"} << 1;
    QTest::newRow("delete last") << 2 << int(Qt::Key_Delete) << none << QStringList{"linear", "relu"} << 1;
    QTest::newRow("insert") << 0 << int(Qt::Key_Insert) << none
                            << QStringList{"linear", "linear", "relu", "linear"} << 1;
    QTest::newRow("move up") << 1 << int(Qt::Key_Up) << ctrl << QStringList{"relu", "linear", "linear"} << 0;
    QTest::newRow("move down") << 1 << int(Qt::Key_Down) << ctrl << QStringList{"linear", "linear", "relu"}
                               << 2;
    QTest::newRow("move top up") << 0 << int(Qt::Key_Up) << ctrl << QStringList{"linear", "relu", "linear"}
                                 << 0;
    QTest::newRow("duplicate") << 1 << int(Qt::Key_D) << ctrl
                               << QStringList{"linear", "relu", "relu", "linear"} << 2;
    QTest::newRow("plain down navigates")
        << 0 << int(Qt::Key_Down) << none << QStringList{"linear", "relu", "linear"} << 1;
}

void TestNetworkEditor::keyboardEditing() {
    QFETCH(int, startRow);
    QFETCH(int, key);
    QFETCH(int, modifiers);
    QFETCH(QStringList, expected);
    QFETCH(int, expectedRow);
    const ModelSpec before = m_editor->model();
    m_editor->setCurrentRow(startRow);
    QTableView* view = m_editor->layerView();
    view->setFocus();
    QTest::keyClick(view, static_cast<Qt::Key>(key), static_cast<Qt::KeyboardModifiers>(modifiers));
    QCOMPARE(typeNames(m_editor->model()), expected);
    QCOMPARE(m_editor->currentRow(), expectedRow);
    const bool changed = !LayerCatalog::sameModel(before, m_editor->model());
    QCOMPARE(m_editor->undoStack()->count(), changed ? 1 : 0);
    if (changed) {
        m_editor->undoAction()->trigger();
        QVERIFY(LayerCatalog::sameModel(before, m_editor->model()));
        m_editor->redoAction()->trigger();
        QCOMPARE(typeNames(m_editor->model()), expected);
    }
}

void TestNetworkEditor::propertyFormShowsOnlyTheLayersFields_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("keys");
    QTest::newRow("linear") << "linear" << QStringList{"out_features", "bias", "lr_multiplier"};
    QTest::newRow("conv2d") << "conv2d" << QStringList{"out_channels", "kernel_size", "stride",
                                                       "padding",      "bias",        "lr_multiplier"};
    QTest::newRow("maxpool2d") << "maxpool2d" << QStringList{"kernel_size", "stride", "padding"};
    QTest::newRow("batchnorm") << "batchnorm" << QStringList{"eps", "momentum", "lr_multiplier"};
    QTest::newRow("layernorm") << "layernorm" << QStringList{"eps", "lr_multiplier"};
    QTest::newRow("dropout") << "dropout" << QStringList{"p"};
    QTest::newRow("leaky_relu") << "leaky_relu" << QStringList{"negative_slope"};
    QTest::newRow("elu") << "elu" << QStringList{"alpha"};
    QTest::newRow("relu") << "relu" << QStringList{};
    QTest::newRow("flatten") << "flatten" << QStringList{};
}

void TestNetworkEditor::propertyFormShowsOnlyTheLayersFields() {
    QFETCH(QString, type);
    QFETCH(QStringList, keys);
    const LayerType layerType = *LayerCatalog::typeFromName(type);
    ModelSpec model = smallMlp();
    model.layers.insert(model.layers.begin() + 1, LayerCatalog::defaultLayer(layerType));
    m_editor->setModel(model);
    m_editor->setCurrentRow(0);
    QCOMPARE(formKeys(m_editor->propertyForm()), (QStringList{"out_features", "bias", "lr_multiplier"}));
    m_editor->setCurrentRow(1);
    QCOMPARE(formKeys(m_editor->propertyForm()), keys);

    const LayerSpec& layer = m_editor->model().layers[1];
    for (const QString& key : keys) {
        const LayerField* field = LayerCatalog::field(layerType, key);
        QVERIFY(field);
        QWidget* parent = m_editor->propertyForm()->parentWidget();
        switch (field->kind) {
        case LayerFieldKind::Int:
        case LayerFieldKind::Double: {
            // The field checks the spec reader's own rule for the key.
            auto* number = parent->findChild<NumberField*>(key);
            QVERIFY2(number, qPrintable(key));
            QCOMPARE(number->rule().range.minimum, field->rule.range.minimum);
            QCOMPARE(number->rule().range.maximum, field->rule.range.maximum);
            QCOMPARE(number->rule().integer, field->kind == LayerFieldKind::Int);
            if (field->kind == LayerFieldKind::Int)
                QCOMPARE(number->integerValue(), LayerCatalog::value(layer, key).toLongLong());
            else
                QCOMPARE(number->value(), LayerCatalog::value(layer, key).toDouble());
            break;
        }
        case LayerFieldKind::Bool: {
            auto* check = parent->findChild<QCheckBox*>(key);
            QVERIFY2(check, qPrintable(key));
            QCOMPARE(check->isChecked(), LayerCatalog::value(layer, key).toBool());
            break;
        }
        }
    }
    // The sensible ranges the engine asks for.
    if (type == QLatin1String("dropout")) {
        auto* p = m_editor->findChild<NumberField*>(QStringLiteral("p"));
        QVERIFY(p->rule().accepts(0.0));
        QVERIFY(!p->rule().accepts(1.0));
    }
    if (type == QLatin1String("conv2d"))
        QVERIFY(!m_editor->findChild<NumberField*>(QStringLiteral("out_channels"))->rule().accepts(0.0));
}

void TestNetworkEditor::spinBoxEditIsUndoable() {
    LayerStackModel* model = m_editor->layerModel();
    const QModelIndex nextParams = model->index(2, LayerStackModel::ParamsColumn);
    QCOMPARE(nextParams.data(LayerStackModel::RawValueRole).toLongLong(), 64LL * 10 + 10);
    m_editor->setCurrentRow(0);
    auto* spin = m_editor->findChild<NumberField*>(QStringLiteral("out_features"));
    QVERIFY(spin);
    QCOMPARE(spin->integerValue(), int64_t(64));

    QSignalSpy edited(m_editor.get(), &NetworkEditor::modelEdited);
    // Typed digit by digit: one undo step.
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, QStringLiteral("256"));
    QCOMPARE(m_editor->model().layers[0].outFeatures, int64_t(256));
    QCOMPARE(nextParams.data(LayerStackModel::RawValueRole).toLongLong(), 256LL * 10 + 10);
    QCOMPARE(m_editor->undoStack()->count(), 1);
    QVERIFY(edited.count() >= 1);
    auto* totals = m_editor->findChild<QLabel*>(QStringLiteral("totals"));
    QVERIFY(totals);
    QVERIFY2(totals->text().contains(QStringLiteral("3 layers, 203,530 parameters")),
             qPrintable(totals->text()));
    QVERIFY2(totals->text().contains(QStringLiteral("output [10]")), qPrintable(totals->text()));

    m_editor->undoStack()->undo();
    QCOMPARE(m_editor->model().layers[0].outFeatures, int64_t(64));
    QCOMPARE(spin->integerValue(), int64_t(64)); // same editor, updated in place
    QCOMPARE(nextParams.data(LayerStackModel::RawValueRole).toLongLong(), 64LL * 10 + 10);
    m_editor->undoStack()->redo();
    QCOMPARE(spin->integerValue(), int64_t(256));

    auto* bias = m_editor->findChild<QCheckBox*>(QStringLiteral("bias"));
    QVERIFY(bias);
    bias->click();
    QCOMPARE(m_editor->model().layers[0].bias, false);
    QCOMPARE(m_editor->undoStack()->count(), 2);
    m_editor->undoStack()->undo();
    QCOMPARE(bias->isChecked(), true);
}

void TestNetworkEditor::validityChangedCarriesTheReason() {
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QSignalSpy validity(m_editor.get(), &NetworkEditor::validityChanged);

    // A convolution on a flat input becomes invalid before any training.
    m_editor->setCurrentRow(0);
    m_editor->addLayer(LayerType::Conv2d);
    QCOMPARE(validity.count(), 1);
    QCOMPARE(validity.at(0).at(0).toBool(), false);
    const QString reason = validity.at(0).at(1).toString();
    QVERIFY2(reason.contains(QStringLiteral("conv2d")) && reason.contains(QStringLiteral("image")),
             qPrintable(reason));
    QCOMPARE(m_editor->invalidReason(), reason);
    QVERIFY(!m_editor->isValid());
    QCOMPARE(m_editor->layerModel()->index(1, 0).data(Qt::ToolTipRole).toString(), reason);
    auto* status = m_editor->findChild<QLabel*>(QStringLiteral("status"));
    QVERIFY(status && status->isVisible());
    QCOMPARE(status->text(), reason);

    m_editor->undoStack()->undo();
    QCOMPARE(validity.count(), 2);
    QCOMPARE(validity.at(1).at(0).toBool(), true);
    QVERIFY(validity.at(1).at(1).toString().isEmpty());
    QVERIFY(!status->isVisible());

    // The output width against the classes: a different reason, another signal.
    m_editor->setCurrentRow(2);
    auto* spin = m_editor->findChild<NumberField*>(QStringLiteral("out_features"));
    spin->setIntegerValue(3);
    QCOMPARE(validity.count(), 3);
    QCOMPARE(validity.at(2).at(0).toBool(), false);
    QVERIFY(validity.at(2).at(1).toString().contains(QStringLiteral("10")));
}

void TestNetworkEditor::paletteDoubleClickAddsLayer() {
    QTreeWidget* palette = m_editor->palette();
    QTreeWidgetItem* dropout = paletteItem(palette, QStringLiteral("dropout"));
    QVERIFY(dropout);
    m_editor->setCurrentRow(1);
    palette->scrollToItem(dropout);
    const QRect rect = palette->visualItemRect(dropout);
    QVERIFY(rect.isValid());
    // A real double-click starts with a click that selects the item.
    QTest::mouseClick(palette->viewport(), Qt::LeftButton, Qt::NoModifier, rect.center());
    QTest::mouseDClick(palette->viewport(), Qt::LeftButton, Qt::NoModifier, rect.center());
    QCOMPARE(typeNames(m_editor->model()), (QStringList{"linear", "relu", "dropout", "linear"}));
    QCOMPARE(m_editor->currentRow(), 2);
    QCOMPARE(formKeys(m_editor->propertyForm()), QStringList{"p"});
    QCOMPARE(m_editor->undoStack()->count(), 1);

    // Insert adds the palette's current type.
    m_editor->layerView()->setFocus();
    QTest::keyClick(m_editor->layerView(), Qt::Key_Insert);
    QCOMPARE(typeNames(m_editor->model()), (QStringList{"linear", "relu", "dropout", "dropout", "linear"}));
}

void TestNetworkEditor::paletteGroupsEveryType() {
    QTreeWidget* palette = m_editor->palette();
    QCOMPARE(palette->topLevelItemCount(), int(LayerCatalog::groups().size()) + 1); // and the blocks
    for (LayerType type : allLayerTypes())
        QVERIFY2(paletteItem(palette, LayerCatalog::typeName(type)), toString(type));

    // In the experiment dock's width (520 px) every name shows in full ("Average pooling", not
    // "Average ...").
    m_editor->resize(500, 600);
    QTest::qWait(20);
    for (LayerType type : allLayerTypes()) {
        QTreeWidgetItem* item = paletteItem(palette, LayerCatalog::typeName(type));
        const QRect shown = palette->visualItemRect(item);
        const int needed = palette->fontMetrics().horizontalAdvance(item->text(0));
        QVERIFY2(
            shown.width() >= needed && shown.right() <= palette->viewport()->width(),
            qPrintable(
                QStringLiteral("%1: %2 px shown of %3").arg(item->text(0)).arg(shown.width()).arg(needed)));
    }
}

void TestNetworkEditor::dropsOnTheTableAreUndoable() {
    QTableView* view = m_editor->layerView();
    LayerStackModel* model = m_editor->layerModel();
    // Just inside the top edge of row 1: between rows 0 and 1.
    const QRect row1 = view->visualRect(model->index(1, LayerStackModel::LayerColumn));
    const QPoint aboveRow1 = row1.topLeft() + QPoint(10, 1);

    QMimeData palette;
    palette.setData(LayerStackModel::kLayerTypeMimeType, "layernorm");
    QDropEvent paletteDrop(aboveRow1, Qt::CopyAction, &palette, Qt::LeftButton, Qt::NoModifier);
    dropAt(view, aboveRow1, &paletteDrop);
    QCOMPARE(typeNames(m_editor->model()), (QStringList{"linear", "layernorm", "relu", "linear"}));
    QCOMPARE(m_editor->currentRow(), 1);

    // Drag the last linear above row 1.
    std::unique_ptr<QMimeData> rows(model->mimeData({model->index(3, 0)}));
    QDropEvent moveDrop(aboveRow1, Qt::MoveAction, rows.get(), Qt::LeftButton, Qt::NoModifier);
    dropAt(view, aboveRow1, &moveDrop);
    QCOMPARE(typeNames(m_editor->model()), (QStringList{"linear", "linear", "layernorm", "relu"}));
    QCOMPARE(m_editor->currentRow(), 1);

    QCOMPARE(m_editor->undoStack()->count(), 2);
    m_editor->undoStack()->undo();
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), smallMlp()));
}

void TestNetworkEditor::blockDroppedOnTheTableGoesAfterTheRowAbove() {
    auto* palette = m_editor->findChild<QTreeWidget*>(QStringLiteral("layerPalette"));
    QVERIFY(palette);
    const QList<QTreeWidgetItem*> blocks =
        palette->findItems(QStringLiteral("Residual block"), Qt::MatchRecursive);
    QCOMPARE(blocks.size(), 1);
    QVERIFY(blocks.front()->flags() & Qt::ItemIsDragEnabled);

    ModelSpec model;
    LayerSpec conv = LayerCatalog::defaultLayer(LayerType::Conv2d);
    conv.padding = 1;
    LayerSpec linear = LayerCatalog::defaultLayer(LayerType::Linear);
    linear.outFeatures = 10; // the editor's target: 10 classes
    model.layers = {conv, LayerCatalog::defaultLayer(LayerType::ReLU),
                    LayerCatalog::defaultLayer(LayerType::Flatten), linear};
    m_editor->setInputShape({1, 8, 8});
    m_editor->setModel(model);
    QTableView* view = m_editor->layerView();
    LayerStackModel* stack = m_editor->layerModel();
    // Just inside the top edge of row 2: between the relu and the flatten.
    const QPoint aboveRow2 =
        view->visualRect(stack->index(2, LayerStackModel::LayerColumn)).topLeft() + QPoint(10, 1);
    // What the palette's drag carries.
    palette->setCurrentItem(blocks.front());
    std::unique_ptr<QMimeData> block(palette->model()->mimeData({palette->currentIndex()}));
    QVERIFY(block);
    QCOMPARE(block->data(LayerStackModel::kBlockMimeType), QByteArray("Residual block"));
    QDropEvent drop(aboveRow2, Qt::CopyAction, block.get(), Qt::LeftButton, Qt::NoModifier);
    dropAt(view, aboveRow2, &drop);
    const auto& layers = m_editor->model().layers;
    QCOMPARE(int(layers.size()), 4 + 7);
    QCOMPARE(layers[2].name, std::string("res1_conv1"));
    QCOMPARE(layers[7].inputs, (std::vector<std::string>{"res1_bn2", "relu_1"}));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->undoStack()->count(), 1);
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), model));

    QMimeData unknown;
    unknown.setData(LayerStackModel::kBlockMimeType, "Transformer block");
    QVERIFY(!stack->canDropMimeData(&unknown, Qt::CopyAction, 0, -1, QModelIndex()));
}

void TestNetworkEditor::templateIsOneUndoStep() {
    m_editor->setInputShape({1, 28, 28});
    QVERIFY(!m_editor->isValid()); // linear on images
    auto* templates = m_editor->findChild<QComboBox*>(QStringLiteral("templates"));
    QVERIFY(templates);
    const int index = templates->findText(QStringLiteral("LeNet-style CNN"));
    QVERIFY(index > 0);
    m_editor->applyTemplate(templates->itemText(index));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->model().layers.front().type == LayerType::Conv2d, true);
    QCOMPARE(m_editor->undoStack()->count(), 1);
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), smallMlp()));
}

void TestNetworkEditor::setModelClearsHistory() {
    m_editor->addLayer(LayerType::Tanh);
    QVERIFY(m_editor->undoStack()->canUndo());
    QSignalSpy validity(m_editor.get(), &NetworkEditor::validityChanged);
    m_editor->setModel(ModelSpec{});
    QVERIFY(!m_editor->undoStack()->canUndo());
    QCOMPARE(m_editor->layerModel()->rowCount(), 0);
    QCOMPARE(m_editor->currentRow(), -1);
    QVERIFY(!m_editor->isValid());
    QCOMPARE(validity.count(), 1);
    QVERIFY(formKeys(m_editor->propertyForm()).isEmpty());
}

void TestNetworkEditor::totalsSayWhatTrainsAndWhatIsFrozen() {
    auto* totals = m_editor->findChild<QLabel*>(QStringLiteral("totals"));
    QVERIFY(!totals->text().contains(QStringLiteral("frozen")));
    m_editor->setFrozenLayers(1); // the first linear layer: 784 * 64 + 64
    QVERIFY2(totals->text().contains(QStringLiteral("50,890 parameters (650 trainable, 50,240 frozen)")),
             qPrintable(totals->text()));
    m_editor->setFrozenLayers(0);
    ModelSpec model = m_editor->model();
    model.layers.back().lrMultiplier = 0.0; // a multiplier of 0 freezes a layer too
    m_editor->setModel(model);
    QVERIFY2(totals->text().contains(QStringLiteral("(50,240 trainable, 650 frozen)")),
             qPrintable(totals->text()));
}

QTEST_MAIN(TestNetworkEditor)
#include "tst_network_editor.moc"
