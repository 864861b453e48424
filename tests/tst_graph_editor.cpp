#include "experiment/graph_edits.h"
#include "experiment/graph_items.h"
#include "experiment/graph_layout.h"
#include "experiment/graph_view.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_stack_model.h"
#include "experiment/network_editor.h"
#include "graph_test_support.h"

#include <QDragEnterEvent>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QMimeData>
#include <QUndoStack>
#include <QtTest>

#include <functional>
#include <memory>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A palette drag of `typeName` that hovers at `at` (viewport coordinates), lets `hovering` look at
// the view, then drops there.
void dropFromPalette(GraphView* view, const QPoint& at, const QString& typeName,
                     const std::function<void()>& hovering = {},
                     const QString& mimeType = LayerStackModel::kLayerTypeMimeType) {
    QMimeData mime;
    mime.setData(mimeType, typeName.toUtf8());
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(view->viewport(), &enter);
    QVERIFY(enter.isAccepted());
    QDragMoveEvent move(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(view->viewport(), &move);
    QVERIFY(move.isAccepted());
    if (hovering)
        hovering();
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(view->viewport(), &drop);
    QVERIFY(drop.isAccepted());
}

GraphEdgeItem* edgeBetween(GraphView* view, int from, int to) {
    for (QGraphicsItem* item : view->scene()->items())
        if (item->type() == GraphEdgeItem::kType && static_cast<GraphEdgeItem*>(item)->from() == from &&
            static_cast<GraphEdgeItem*>(item)->to() == to)
            return static_cast<GraphEdgeItem*>(item);
    return nullptr;
}

// conv (padded) → relu → flatten → linear to 3, for 1×8×8 inputs: where the blocks go.
ModelSpec convReluFlattenLinear() {
    ModelSpec model;
    LayerSpec conv = LayerCatalog::defaultLayer(LayerType::Conv2d);
    conv.padding = 1;
    model.layers = {conv, layer(LayerType::ReLU), layer(LayerType::Flatten), layer(LayerType::Linear)};
    model.layers.back().outFeatures = 3;
    return model;
}

void verifyNoOverlaps(const GraphLayout& layout) {
    for (size_t a = 0; a < layout.nodes.size(); ++a)
        for (size_t b = a + 1; b < layout.nodes.size(); ++b)
            QVERIFY2(!layout.nodes[a].intersects(layout.nodes[b]),
                     qPrintable(QStringLiteral("%1 %2").arg(a).arg(b)));
}

} // namespace

class TestGraphEditor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void aHundredNodeLayoutHasRowsAndNoOverlaps();
    void aStackShowsAsAChain();
    void connectingIsUndoable();
    void draggingFromAPortConnects();
    void deletingEdgesAndNodes();
    void errorsShowOnTheNamedNode();
    void theResidualExampleOpens();
    void blocksInsertWiredLayers();
    void blockDroppedOnTheGraphGoesAfterANode();
    void stackAndGraphShareTheSelection();
    void paletteDropAddsANode_data();
    void paletteDropAddsANode();
    void paletteDropOnAnEdgeInserts();
    void edgeLabelsShowTheShapeWhenReadable();
    void selectingScrollsToTheLayerAndWhatItFeeds();

private:
    void showGraph();
    // digits-resnet.json's network on 8x8 images, shown in the Graph tab.
    ModelSpec showResidualExample();

    std::unique_ptr<NetworkEditor> m_editor;
};

void TestGraphEditor::init() {
    m_editor = std::make_unique<NetworkEditor>();
    m_editor->setInputShape({8});
    m_editor->setOutputTarget({TaskKind::Classification, 3, LossType::CrossEntropy});
    m_editor->setModel(chainWithAdd());
    m_editor->resize(700, 700);
}

void TestGraphEditor::cleanup() {
    m_editor.reset();
}

void TestGraphEditor::aHundredNodeLayoutHasRowsAndNoOverlaps() {
    // A chain with a skip every third node and a branch merged every seventh.
    std::vector<std::vector<int>> inputs(120);
    for (int node = 1; node < 120; ++node) {
        inputs[node].push_back(node - 1);
        if (node % 3 == 0 && node >= 4)
            inputs[node].push_back(node - 4);
        if (node % 7 == 0)
            inputs[node].push_back(node / 2);
    }
    const GraphLayout layout = layoutGraph(inputs);
    QCOMPARE(int(layout.nodes.size()), 120);
    verifyNoOverlaps(layout);
    for (int node = 0; node < 120; ++node) {
        for (const int input : inputs[node]) {
            QVERIFY(layout.row[node] > layout.row[input]);
            QVERIFY(layout.nodes[node].top() > layout.nodes[input].bottom());
        }
        for (int other = 0; other < 120; ++other)
            if (layout.row[other] == layout.row[node])
                QCOMPARE(layout.nodes[other].top(), layout.nodes[node].top());
    }
    QCOMPARE(int(layout.edges.size()), 119 + 38 + 17);
    // The chain is the longest path: one row per node.
    QCOMPARE(layout.rowCount, 120);
}

void TestGraphEditor::aStackShowsAsAChain() {
    ModelSpec stack;
    stack.layers = {layer(LayerType::Linear), layer(LayerType::ReLU), layer(LayerType::Linear)};
    stack.layers.back().outFeatures = 3;
    m_editor->setModel(stack);
    GraphView* view = m_editor->graphView();
    const GraphLayout& layout = view->layout();
    QCOMPARE(int(layout.nodes.size()), 4); // the input and three layers
    QCOMPARE(int(layout.edges.size()), 3);
    for (int node = 0; node < 4; ++node) {
        QCOMPARE(layout.row[node], node);
        QCOMPARE(layout.nodes[node].center().x(), layout.nodes[0].center().x());
    }
    QCOMPARE(view->node(-1)->content().title, QStringLiteral("input"));
    QCOMPARE(view->node(2)->content().shape, QStringLiteral("3"));
    QVERIFY(view->node(2)->content().output);
    QVERIFY(!view->node(1)->content().output);
    QCOMPARE(view->node(0)->content().params, QStringLiteral("72 params"));
}

void TestGraphEditor::connectingIsUndoable() {
    GraphView* view = m_editor->graphView();
    const ModelSpec before = m_editor->model();
    QVERIFY(view->connectLayers(1, 3)); // the add reads the relu as well
    QCOMPARE(m_editor->model().layers[3].inputs, (std::vector<std::string>{"linear_1", "relu_1"}));
    QCOMPARE(m_editor->model().layers[2].name, std::string("linear_1"));
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[3], (std::vector<int>{2, 1}));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(view->node(3)->content().inputPorts, 2);
    QCOMPARE(m_editor->currentRow(), 3);

    // A layer that merges nothing reads the new input instead.
    QVERIFY(view->connectLayers(-1, 2));
    QCOMPARE(m_editor->model().layers[2].inputs, std::vector<std::string>{"input"});
    QCOMPARE(m_editor->undoStack()->count(), 2);

    // Refused: a cycle, and what it reads already.
    QVERIFY(!view->connectLayers(4, 0));
    QVERIFY(view->message().contains(QStringLiteral("cycle")));
    QVERIFY(!view->connectLayers(1, 3));
    QCOMPARE(m_editor->undoStack()->count(), 2);

    m_editor->undoStack()->undo();
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), before));
    m_editor->undoStack()->redo();
    QCOMPARE(m_editor->model().layers[3].inputs, (std::vector<std::string>{"linear_1", "relu_1"}));
}

void TestGraphEditor::draggingFromAPortConnects() {
    m_editor->show();
    m_editor->showGraph(true);
    QVERIFY(QTest::qWaitForWindowExposed(m_editor.get()));
    GraphView* view = m_editor->graphView();
    view->resetZoom();
    const QPoint from = view->mapFromScene(view->node(1)->outputPort());
    const QPoint to = view->mapFromScene(view->node(3)->rect().center());
    QVERIFY(view->viewport()->rect().contains(from));
    QVERIFY(view->viewport()->rect().contains(to));
    QTest::mousePress(view->viewport(), Qt::LeftButton, Qt::NoModifier, from);
    QTest::mouseMove(view->viewport(), (from + to) / 2);
    QTest::mouseMove(view->viewport(), to);
    QTest::mouseRelease(view->viewport(), Qt::LeftButton, Qt::NoModifier, to);
    QCOMPARE(m_editor->model().layers[3].inputs, (std::vector<std::string>{"linear_1", "relu_1"}));
    QCOMPARE(m_editor->undoStack()->count(), 1);
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), chainWithAdd()));
}

void TestGraphEditor::deletingEdgesAndNodes() {
    m_editor->show();
    m_editor->showGraph(true);
    GraphView* view = m_editor->graphView();
    QVERIFY(view->connectLayers(1, 3));
    const ModelSpec connected = m_editor->model();

    // Delete on a selected edge: the add reads the linear alone again.
    GraphEdgeItem* edge = nullptr;
    for (QGraphicsItem* item : view->scene()->items())
        if (item->type() == GraphEdgeItem::kType && static_cast<GraphEdgeItem*>(item)->from() == 1 &&
            static_cast<GraphEdgeItem*>(item)->to() == 3)
            edge = static_cast<GraphEdgeItem*>(item);
    QVERIFY(edge);
    view->scene()->clearSelection();
    edge->setSelected(true);
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Delete);
    QCOMPARE(m_editor->model().layers[3].inputs, std::vector<std::string>{"linear_1"});
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[3], std::vector<int>{2});
    // A layer's only input cannot go.
    QVERIFY(!view->disconnectLayers(2, 3));
    QVERIFY(view->message().contains(QStringLiteral("only input")));
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), connected));

    // Removing the relu: the add reads what the relu read.
    QVERIFY(view->removeLayer(1));
    QCOMPARE(int(m_editor->model().layers.size()), 4);
    QCOMPARE(m_editor->model().layers[2].inputs, (std::vector<std::string>{"linear_1", "linear_2"}));
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[2], (std::vector<int>{1, 0}));
    QVERIFY(m_editor->model().layers[1].inputs.empty()); // it read the relu, and now the layer before it
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[1], std::vector<int>{0});

    // Delete on a selected node.
    view->selectLayer(2);
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Delete);
    QCOMPARE(int(m_editor->model().layers.size()), 3);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    m_editor->undoStack()->undo();
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), connected));
}

void TestGraphEditor::errorsShowOnTheNamedNode() {
    ModelSpec model;
    model.layers = {layer(LayerType::Linear, "a"), layer(LayerType::Linear, "b", {"a"}),
                    layer(LayerType::Add, "sum", {"a", "b"}), layer(LayerType::Linear)};
    model.layers[1].outFeatures = 4; // 8 + 4 features do not add
    model.layers[3].outFeatures = 3;
    m_editor->setModel(model);
    GraphView* view = m_editor->graphView();
    QVERIFY(!m_editor->isValid());
    const QString error = view->node(2)->content().error;
    QVERIFY2(error.contains(QStringLiteral("sum")), qPrintable(error));
    QVERIFY(view->node(2)->toolTip().startsWith(error));
    for (const int clean : {0, 1, 3})
        QVERIFY2(view->node(clean)->content().error.isEmpty(),
                 qPrintable(view->node(clean)->content().error));

    // A name nothing has: the graph's error, on the layer that reads it.
    model.layers[1].outFeatures = 8;
    model.layers[2].inputs = {"a", "nope"};
    m_editor->setModel(model);
    QVERIFY(view->node(2)->content().error.contains(QStringLiteral("nope")));
    QVERIFY(view->node(0)->content().error.isEmpty());
}

void TestGraphEditor::theResidualExampleOpens() {
    const QString path = QStringLiteral(TUNELAB_SOURCE_DIR "/resources/experiments/digits-resnet.json");
    auto spec = loadExperimentSpec(path.toStdString());
    QVERIFY2(spec.ok(), spec.ok() ? "" : spec.error().c_str());
    m_editor->setInputShape(spec.value().data.inputShape);
    m_editor->setOutputTarget({TaskKind::Classification, 10, LossType::CrossEntropy});
    m_editor->setModel(spec.value().model);
    QCOMPARE(int(m_editor->model().layers.size()), 54);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    GraphView* view = m_editor->graphView();
    QCOMPARE(int(view->layout().nodes.size()), 55);
    for (int layer = -1; layer < 54; ++layer)
        QVERIFY2(view->node(layer)->content().error.isEmpty(),
                 qPrintable(view->node(layer)->content().error));
    verifyNoOverlaps(view->layout());
    QCOMPARE(view->layout().crossings, 0);
    QCOMPARE(view->node(53)->content().shape, QStringLiteral("10"));
    // Six frames, one per block instance, each labelled with its name.
    int frames = 0;
    for (QGraphicsItem* item : view->scene()->items())
        if (auto* text = dynamic_cast<QGraphicsSimpleTextItem*>(item))
            frames += text->text().contains(QStringLiteral("residual")) ? 1 : 0;
    QCOMPARE(frames, 6);
}

void TestGraphEditor::blocksInsertWiredLayers() {
    const ModelSpec model = convReluFlattenLinear();
    m_editor->setInputShape({1, 8, 8});
    m_editor->setModel(model);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    m_editor->setCurrentRow(1);
    m_editor->insertBlock(QStringLiteral("Residual block"));
    const auto& layers = m_editor->model().layers;
    QCOMPARE(int(layers.size()), 4 + 7);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(layers[2].name, std::string("res1_conv1"));
    QCOMPARE(layers[2].outChannels, int64_t(16));
    QCOMPARE(layers[7].inputs, (std::vector<std::string>{"res1_bn2", "relu_1"}));
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[9],
             std::vector<int>{8}); // flatten reads the block
    m_editor->setCurrentRow(8);
    m_editor->insertBlock(QStringLiteral("Bottleneck"));
    QCOMPARE(int(m_editor->model().layers.size()), 4 + 7 + 10);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->model().layers[9].outChannels, int64_t(4)); // 16 / 4
    QCOMPARE(m_editor->model().layers[17].inputs, (std::vector<std::string>{"bottleneck1_bn3", "res1_out"}));
    QCOMPARE(m_editor->undoStack()->count(), 2);
    m_editor->undoStack()->undo();
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), model));
}

// A block dragged from the palette goes after the node it is dropped on, as a double-click adds it after
// the current layer; over an edge it still goes after a node (the edge is not offered).
void TestGraphEditor::blockDroppedOnTheGraphGoesAfterANode() {
    const ModelSpec model = convReluFlattenLinear();
    m_editor->setInputShape({1, 8, 8});
    m_editor->setModel(model);
    showGraph();
    GraphView* view = m_editor->graphView();
    m_editor->setCurrentRow(3); // a drop on a node does not go after the current layer
    const QPoint onRelu = view->mapFromScene(view->node(1)->rect().center());
    dropFromPalette(
        view, onRelu, QStringLiteral("Residual block"),
        [&] {
            QVERIFY(view->node(1)->isDropTarget());
            QVERIFY(!view->node(3)->isDropTarget());
        },
        LayerStackModel::kBlockMimeType);
    const auto& layers = m_editor->model().layers;
    QCOMPARE(int(layers.size()), 4 + 7);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(layers[2].name, std::string("res1_conv1"));
    QCOMPARE(layers[7].inputs, (std::vector<std::string>{"res1_bn2", "relu_1"}));
    QCOMPARE(m_editor->undoStack()->count(), 1);
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), model));

    // Over the edge from the convolution into the relu: the block goes after the relu, whose node the
    // fallback marks, not into the edge.
    GraphEdgeItem* edge = edgeBetween(view, 0, 1);
    QVERIFY(edge);
    m_editor->setCurrentRow(1);
    dropFromPalette(
        view, view->mapFromScene(edge->pointAbovePort(10.0)), QStringLiteral("Bottleneck"),
        [&] { QVERIFY(!edgeBetween(view, 0, 1)->isDropTarget()); }, LayerStackModel::kBlockMimeType);
    QCOMPARE(int(m_editor->model().layers.size()), 4 + 10);
    QCOMPARE(m_editor->model().layers[2].name, std::string("bottleneck1_reduce"));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
}

void TestGraphEditor::stackAndGraphShareTheSelection() {
    GraphView* view = m_editor->graphView();
    m_editor->setCurrentRow(2);
    QCOMPARE(view->selectedLayer(), 2);
    view->node(4)->setSelected(false);
    view->scene()->clearSelection();
    view->node(4)->setSelected(true);
    QCOMPARE(m_editor->currentRow(), 4);
    // A layer added in the stack is a node of the graph.
    m_editor->addLayer(LayerType::Dropout);
    QCOMPARE(int(view->layout().nodes.size()), 7);
    QCOMPARE(view->node(5)->content().title, QStringLiteral("dropout 0.5"));
    QCOMPARE(view->selectedLayer(), 5);
}

void TestGraphEditor::showGraph() {
    m_editor->show();
    m_editor->showGraph(true);
    QVERIFY(QTest::qWaitForWindowExposed(m_editor.get()));
    m_editor->graphView()->resetZoom();
}

void TestGraphEditor::paletteDropAddsANode_data() {
    QTest::addColumn<int>("selected");
    QTest::addColumn<int>("added");        // where the new layer is written
    QTest::addColumn<QList<int>>("reads"); // what the layer after it reads
    // The relu feeds one layer: the dropout goes into that connection.
    QTest::newRow("after the selected relu") << 1 << 2 << QList<int>{2};
    // Nothing selected: after the last layer, reading it, as the stack adds.
    QTest::newRow("nothing selected") << -1 << 5 << QList<int>{};
}

void TestGraphEditor::paletteDropAddsANode() {
    QFETCH(int, selected);
    QFETCH(int, added);
    QFETCH(QList<int>, reads);
    showGraph();
    GraphView* view = m_editor->graphView();
    m_editor->setCurrentRow(selected);
    QCOMPARE(view->selectedLayer(), selected < 0 ? int(GraphView::kNoLayer) : selected);
    // A point of the canvas beside the nodes, on no node and no edge.
    const QRectF relu = view->node(1)->rect();
    const QPoint blank = view->mapFromScene(QPointF(relu.right() + 40.0, relu.center().y()));
    QVERIFY(view->viewport()->rect().contains(blank));
    QVERIFY(view->items(blank).isEmpty());
    const int target = selected < 0 ? 4 : selected;
    dropFromPalette(view, blank, QStringLiteral("dropout"),
                    [&] { QVERIFY(view->node(target)->isDropTarget()); });

    QCOMPARE(int(m_editor->model().layers.size()), 6);
    QCOMPARE(m_editor->model().layers[added].type, LayerType::Dropout);
    const NetworkGraph& graph = m_editor->layerModel()->report().graph;
    QCOMPARE(graph.inputs[added], std::vector<int>{added - 1});
    if (!reads.isEmpty())
        QCOMPARE(graph.inputs[added + 1], std::vector<int>(reads.begin(), reads.end()));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(int(view->layout().nodes.size()), 7);
    QCOMPARE(view->selectedLayer(), added);
    QCOMPARE(m_editor->currentRow(), added);
    QCOMPARE(m_editor->undoStack()->count(), 1);

    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), chainWithAdd()));
    QCOMPARE(int(view->layout().nodes.size()), 6);
}

void TestGraphEditor::paletteDropOnAnEdgeInserts() {
    showGraph();
    GraphView* view = m_editor->graphView();
    QVERIFY(view->connectLayers(1, 3)); // the add reads linear_1 and relu_1
    const ModelSpec connected = m_editor->model();

    // Onto the skip connection from the relu into the add.
    GraphEdgeItem* skip = edgeBetween(view, 1, 3);
    QVERIFY(skip);
    const QPoint onEdge = view->mapFromScene(skip->pointAbovePort(GraphLayoutOptions().rowGap / 2.0));
    QVERIFY(view->viewport()->rect().contains(onEdge));
    dropFromPalette(view, onEdge, QStringLiteral("dropout"), [&] {
        QVERIFY(edgeBetween(view, 1, 3)->isDropTarget());
        QVERIFY(!view->node(3)->isDropTarget());
    });
    const auto& layers = m_editor->model().layers;
    QCOMPARE(int(layers.size()), 6);
    QCOMPARE(layers[3].type, LayerType::Dropout);
    QCOMPARE(layers[3].name, std::string("dropout_1"));
    QCOMPARE(layers[3].inputs, std::vector<std::string>{"relu_1"});
    QCOMPARE(layers[4].inputs, (std::vector<std::string>{"linear_1", "dropout_1"}));
    const NetworkGraph& graph = m_editor->layerModel()->report().graph;
    QCOMPARE(graph.inputs[3], std::vector<int>{1});
    QCOMPARE(graph.inputs[4], (std::vector<int>{2, 3}));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->undoStack()->count(), 2);
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), connected));

    // Onto a plain edge: written between the two layers, both reading by position.
    GraphEdgeItem* plain = edgeBetween(view, 0, 1);
    QVERIFY(plain);
    dropFromPalette(view, view->mapFromScene(plain->pointAbovePort(10.0)), QStringLiteral("tanh"));
    QCOMPARE(m_editor->model().layers[1].type, LayerType::Tanh);
    QVERIFY(m_editor->model().layers[1].inputs.empty());
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[2], std::vector<int>{1});
}

ModelSpec TestGraphEditor::showResidualExample() {
    m_editor->setInputShape({1, 8, 8});
    m_editor->setOutputTarget({TaskKind::Classification, 10, LossType::CrossEntropy});
    const ModelSpec model = residualExample();
    m_editor->setModel(model);
    showGraph();
    return model;
}

void TestGraphEditor::edgeLabelsShowTheShapeWhenReadable() {
    const ModelSpec model = showResidualExample();
    GraphView* view = m_editor->graphView();
    QVERIFY(view->zoom() >= GraphView::kEdgeLabelZoom);
    QCOMPARE(int(view->edgeLabels().size()), int(view->layout().edges.size()));
    QCOMPARE(view->edgeLabel(-1, 0)->text(), QStringLiteral("1\u00d78\u00d78"));
    // The skip connection of res1, from its input into its add.
    const int add = layerNamed(model, "res1/5");
    const int res1 = layerNamed(model, "res1/input");
    QVERIFY(add > 0 && res1 > 0);
    GraphEdgeLabelItem* skip = view->edgeLabel(res1, add);
    QVERIFY(skip);
    QCOMPARE(skip->text(), QStringLiteral("16\u00d78\u00d78"));
    QVERIFY(skip->isVisible());
    QVERIFY(skip->toolTip().contains(QStringLiteral("16\u00d78\u00d78")));
    QCOMPARE(edgeBetween(view, res1, add)->toolTip(), skip->toolTip());
    for (const GraphEdgeLabelItem* label : view->edgeLabels()) {
        QVERIFY(label->isVisible());
        for (int layer = -1; layer < int(model.layers.size()); ++layer) // clear of every node
            QVERIFY2(!label->rect().intersects(view->node(layer)->rect()),
                     qPrintable(QStringLiteral("%1 over layer %2").arg(label->text()).arg(layer)));
    }

    // Zoomed out to the whole network, they would be unreadable: hidden; the edges keep their tooltips.
    view->fitToView();
    QVERIFY(view->zoom() < GraphView::kEdgeLabelZoom);
    for (const GraphEdgeLabelItem* label : view->edgeLabels())
        QVERIFY(!label->isVisible());
    QVERIFY(edgeBetween(view, res1, add)->toolTip().contains(QStringLiteral("16\u00d78\u00d78")));
    while (view->zoom() < GraphView::kEdgeLabelZoom)
        view->zoomIn();
    QVERIFY(view->edgeLabel(res1, add)->isVisible());
    view->resetZoom();
    QVERIFY(view->edgeLabel(res1, add)->isVisible());
}

void TestGraphEditor::selectingScrollsToTheLayerAndWhatItFeeds() {
    const ModelSpec model = showResidualExample();
    GraphView* view = m_editor->graphView();
    const int add = layerNamed(model, "res3/5");
    QVERIFY(add > 0);
    const auto inView = [view](int layer) {
        const QRect rect = view->mapFromScene(view->node(layer)->rect()).boundingRect();
        return view->viewport()->rect().contains(rect);
    };
    QVERIFY(!inView(add)); // the view starts at the input
    m_editor->setCurrentRow(add);
    QCOMPARE(view->selectedLayer(), add);
    QVERIFY(inView(add));
    QVERIFY(inView(add + 1)); // the relu it feeds
}

QTEST_MAIN(TestGraphEditor)
#include "tst_graph_editor.moc"
