#include "experiment/graph_view.h"

#include "experiment/graph_edits.h"
#include "experiment/graph_items.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"
#include "experiment/layer_stack_model.h"

#include <QDragEnterEvent>
#include <QGraphicsLineItem>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QKeyEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QUndoStack>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <map>

namespace tunelab {

namespace {

GraphNodeContent::Kind kindOf(LayerType type) {
    if (hasWeights(type))
        return type == LayerType::BatchNorm || type == LayerType::LayerNorm ? GraphNodeContent::Kind::Other
                                                                            : GraphNodeContent::Kind::Weights;
    if (isActivation(type))
        return GraphNodeContent::Kind::Activation;
    if (isMergeLayer(type))
        return GraphNodeContent::Kind::Merge;
    return GraphNodeContent::Kind::Other;
}

QString shapeText(const Shape& shape) {
    if (shape.empty())
        return {};
    QStringList sizes;
    for (const int64_t size : shape)
        sizes << QString::number(size);
    return sizes.join(QChar(0x00d7)); // 16×8×8
}

// The graph's errors (unknown names, cycles, outputs nothing reads) name their layer in words.
std::map<int, QStringList> graphErrorsByLayer(const ModelSpec& model,
                                              const std::vector<std::string>& errors) {
    std::map<int, QStringList> byLayer;
    for (const std::string& error : errors) {
        const bool cycle = error.find("in a cycle") != std::string::npos;
        for (int layer = 0; layer < static_cast<int>(model.layers.size()); ++layer) {
            const std::string label = layerLabel(model, layer);
            const std::string path = "model.layers[" + std::to_string(layer) + "]";
            const bool named = (error.rfind(label, 0) == 0 && error.size() > label.size() &&
                                (error[label.size()] == ' ' || error[label.size()] == ':')) ||
                               error.rfind(path + ":", 0) == 0 || error.rfind(path + ".", 0) == 0 ||
                               (cycle && error.find(inputLabel(model, layer)) != std::string::npos);
            if (named)
                byLayer[layer] << QString::fromStdString(error);
        }
    }
    return byLayer;
}

} // namespace

GraphView::GraphView(LayerStackModel* model, QUndoStack* undoStack, QWidget* parent)
    : QGraphicsView(parent)
    , m_model(model)
    , m_undoStack(undoStack)
    , m_scene(new QGraphicsScene(this)) {
    setObjectName(QStringLiteral("graphView"));
    setScene(m_scene);
    setRenderHint(QPainter::Antialiasing);
    setDragMode(ScrollHandDrag);
    setTransformationAnchor(AnchorUnderMouse);
    setBackgroundBrush(QColor(0xfb, 0xfb, 0xfa));
    setToolTip(QString());
    setAcceptDrops(true); // layer types from the palette
    connect(m_model, &LayerStackModel::reportChanged, this, &GraphView::rebuild);
    connect(m_scene, &QGraphicsScene::selectionChanged, this, &GraphView::onSelectionChanged);
    rebuild();
}

void GraphView::rebuild() {
    const QPointF center = mapToScene(viewport()->rect().center());
    const bool hadNodes = !m_nodes.isEmpty();
    m_rebuilding = true;
    m_dragFrom = nullptr;
    m_dragLine = nullptr;
    m_dropTarget = nullptr;
    m_scene->clear();
    m_nodes.clear();
    m_edgeLabels.clear();

    const ModelSpec& spec = m_model->modelSpec();
    const ShapeReport& report = m_model->report();
    const int count = static_cast<int>(spec.layers.size());
    const NetworkGraph graph =
        static_cast<int>(report.graph.inputs.size()) == count ? report.graph : buildNetworkGraph(spec);
    std::vector<const LayerShape*> shapes(count, nullptr);
    for (const LayerShape& shape : report.layers)
        if (shape.index >= 0 && shape.index < count)
            shapes[shape.index] = &shape;
    const std::map<int, QStringList> graphErrors = graphErrorsByLayer(spec, graph.errors);

    // Node 0 is the input, node k + 1 layer k.
    std::vector<std::vector<int>> inputs(count + 1);
    for (int layer = 0; layer < count; ++layer)
        for (const int input : graph.inputs[layer])
            inputs[layer + 1].push_back(input + 1);
    m_layout = layoutGraph(inputs);

    const tunelab::Shape& input = report.input.empty() ? m_model->inputShape() : report.input;
    for (int node = 0; node <= count; ++node) {
        GraphNodeContent content;
        content.layer = node - 1;
        if (node == 0) {
            content.title = tr("input");
            content.shape = shapeText(input);
            content.kind = GraphNodeContent::Kind::Input;
        } else {
            const LayerSpec& layer = spec.layers[node - 1];
            const LayerShape* shape = shapes[node - 1];
            content.title = LayerCatalog::summary(layer);
            content.name = QString::fromStdString(layer.name);
            content.kind = kindOf(layer.type);
            content.inputPorts = std::max<int>(1, static_cast<int>(graph.inputs[node - 1].size()));
            content.output = node - 1 == graph.output;
            if (shape) {
                content.shape = shapeText(shape->output);
                if (shape->params > 0)
                    content.params = tr("%1 params").arg(formatCompact(shape->params));
                content.error = QString::fromStdString(shape->error);
            }
            if (const auto it = graphErrors.find(node - 1); it != graphErrors.end()) {
                QStringList all = it->second;
                if (!content.error.isEmpty())
                    all.prepend(content.error);
                content.error = all.join(QLatin1Char('\n'));
            }
        }
        auto* item = new GraphNodeItem(content, m_layout.nodes[node]);
        m_scene->addItem(item);
        m_nodes.insert(content.layer, item);
    }
    QFont labelFont = font();
    labelFont.setPointSizeF(labelFont.pointSizeF() * 0.85);
    const double labelAbove = GraphLayoutOptions().rowGap / 2.0; // the middle of the gap between rows
    for (const GraphEdgeRoute& route : m_layout.edges) {
        auto* edge = new GraphEdgeItem(route.from - 1, route.to - 1, route.points);
        const GraphNodeItem* from = m_nodes.value(route.from - 1);
        const GraphNodeItem* to = m_nodes.value(route.to - 1);
        const auto nameOf = [](const GraphNodeItem* item) {
            return item->content().name.isEmpty() ? item->content().title : item->content().name;
        };
        edge->setToolTip(
            tr("%1 \u2192 %2: %3")
                .arg(nameOf(from), nameOf(to),
                     from->content().shape.isEmpty() ? tr("unknown shape") : from->content().shape));
        m_scene->addItem(edge);
        if (!from->content().shape.isEmpty()) {
            auto* label =
                new GraphEdgeLabelItem(edge, from->content().shape, edge->pointAbovePort(labelAbove),
                                       labelFont, route.port < route.portCount / 2);
            m_scene->addItem(label);
            m_edgeLabels.push_back(label);
        }
    }
    showEdgeLabelsForZoom();
    addInstanceFrames();
    m_scene->setSceneRect(m_scene->itemsBoundingRect().adjusted(-40, -30, 40, 40));
    m_rebuilding = false;

    // The layer the editor has current, which may have been chosen before this node existed.
    if (m_wanted >= 0 && m_nodes.contains(m_wanted))
        selectLayer(m_wanted);
    if (!hadNodes)
        m_needsZoom = true;
    if (m_needsZoom && isVisible())
        resetZoom();
    else if (hadNodes)
        centerOn(center);
}

void GraphView::addInstanceFrames() {
    const ModelSpec& spec = m_model->modelSpec();
    std::map<std::string, QRectF> frames;
    std::map<std::string, std::string> blocks;
    for (int layer = 0; layer < static_cast<int>(spec.layers.size()); ++layer) {
        const LayerSpec& item = spec.layers[layer];
        if (item.instance.empty())
            continue;
        QRectF& frame = frames[item.instance];
        const QRectF rect = m_layout.nodes[layer + 1];
        frame = frame.isNull() ? rect : frame.united(rect);
        blocks[item.instance] = item.block;
    }
    // Edges inside an instance (its skip connections) belong in its frame.
    for (const GraphEdgeRoute& route : m_layout.edges) {
        if (route.from < 1)
            continue;
        const std::string& instance = spec.layers[route.from - 1].instance;
        if (instance.empty() || spec.layers[route.to - 1].instance != instance)
            continue;
        for (const QPointF& point : route.points)
            frames[instance] = frames[instance].united(QRectF(point - QPointF(4, 0), QSizeF(8, 1)));
    }
    for (const GraphEdgeLabelItem* label : m_edgeLabels) {
        const GraphEdgeItem* edge = label->edge();
        const std::string& instance = edge->from() >= 0 ? spec.layers[edge->from()].instance : std::string();
        if (!instance.empty() && spec.layers[edge->to()].instance == instance)
            frames[instance] = frames[instance].united(label->rect());
    }
    for (const auto& [instance, rect] : frames) {
        auto* frame = m_scene->addRect(rect.adjusted(-12, -20, 12, 10),
                                       QPen(QColor(0x7a, 0x8c, 0xa8), 1.0, Qt::DashLine),
                                       QColor(0xee, 0xf2, 0xf8, 140));
        frame->setZValue(-1.0);
        auto* label = m_scene->addSimpleText(
            QStringLiteral("%1 \u00b7 %2")
                .arg(QString::fromStdString(instance), QString::fromStdString(blocks[instance])));
        QFont font = label->font();
        font.setPointSizeF(font.pointSizeF() * 0.85);
        label->setFont(font);
        label->setBrush(QColor(0x3c, 0x4e, 0x6c));
        label->setPos(rect.left() - 8, rect.top() - 19);
        label->setZValue(-0.5);
    }
}

GraphNodeItem* GraphView::node(int layer) const {
    return m_nodes.value(layer, nullptr);
}

GraphEdgeLabelItem* GraphView::edgeLabel(int from, int to) const {
    for (GraphEdgeLabelItem* label : m_edgeLabels)
        if (label->edge()->from() == from && label->edge()->to() == to)
            return label;
    return nullptr;
}

void GraphView::showEdgeLabelsForZoom() {
    const bool shown = zoom() >= kEdgeLabelZoom - 1e-9;
    for (GraphEdgeLabelItem* label : m_edgeLabels)
        label->setVisible(shown);
}

int GraphView::selectedLayer() const {
    for (QGraphicsItem* item : m_scene->selectedItems())
        if (item->type() == GraphNodeItem::kType)
            return static_cast<GraphNodeItem*>(item)->layer();
    return kNoLayer;
}

void GraphView::selectLayer(int layer) {
    m_wanted = layer;
    GraphNodeItem* item = node(layer);
    if (item && item->isSelected() && m_scene->selectedItems().size() == 1)
        return;
    m_selecting = true;
    m_scene->clearSelection();
    if (item && layer >= 0) {
        item->setSelected(true);
        // With the next row where the view has room, so that what it feeds shows too: the gap, the
        // node and its output port beyond the item's bounding rect (which ensureVisible keeps in view).
        const GraphLayoutOptions options;
        const double beyond = item->boundingRect().bottom() - item->rect().bottom();
        const double nextRow =
            (options.rowGap + options.nodeSize.height() + GraphNodeItem::kPortRadius + 4.0 - beyond) * zoom();
        const double room = (viewport()->height() - item->boundingRect().height() * zoom()) / 2.0;
        ensureVisible(item, 40, static_cast<int>(std::clamp(std::min(nextRow, room), 0.0, nextRow)));
    }
    m_selecting = false;
}

void GraphView::onSelectionChanged() {
    if (m_rebuilding || m_selecting)
        return;
    const int layer = selectedLayer();
    m_wanted = layer;
    if (layer >= 0)
        Q_EMIT layerSelected(layer);
}

void GraphView::setMessage(const QString& message) {
    if (message == m_message)
        return;
    m_message = message;
    Q_EMIT messageChanged(message);
}

bool GraphView::apply(const std::optional<ModelSpec>& edited, const QString& text, int select) {
    if (!edited)
        return false;
    setMessage(QString());
    m_undoStack->push(new ReplaceModelCommand(m_model, *edited, text));
    if (select >= 0 && select < m_model->layerCount()) {
        selectLayer(select);
        Q_EMIT layerSelected(select);
    }
    return true;
}

bool GraphView::connectLayers(int from, int to) {
    QString why;
    const auto edited = GraphEdits::connect(m_model->modelSpec(), from, to, &why);
    if (!edited)
        setMessage(why);
    return apply(edited, tr("Connect layers"), to);
}

bool GraphView::disconnectLayers(int from, int to) {
    QString why;
    const auto edited = GraphEdits::disconnect(m_model->modelSpec(), from, to, &why);
    if (!edited)
        setMessage(why);
    return apply(edited, tr("Remove connection"), to);
}

bool GraphView::removeLayer(int layer) {
    QString why;
    const auto edited = GraphEdits::removeLayer(m_model->modelSpec(), layer, &why);
    if (!edited)
        setMessage(why);
    const int select = std::min(layer, m_model->layerCount() - 2);
    return apply(edited,
                 tr("Remove %1").arg(edited ? LayerCatalog::typeName(m_model->layer(layer).type) : QString()),
                 select);
}

bool GraphView::insertBlock(const QString& block, int after) {
    QString why;
    tunelab::Shape shape = m_model->inputShape();
    for (const LayerShape& layer : m_model->report().layers)
        if (layer.index == after)
            shape = layer.output;
    const auto edited = GraphEdits::insertBlock(m_model->modelSpec(), block, after, shape, &why);
    if (!edited)
        setMessage(why);
    return apply(edited, tr("Add %1").arg(block.toLower()), after + 1);
}

bool GraphView::addLayer(const LayerSpec& layer, int after) {
    QString why;
    int added = -1;
    const auto edited = GraphEdits::insertAfter(m_model->modelSpec(), layer, after, &why, &added);
    if (!edited)
        setMessage(why);
    return apply(edited, tr("Add %1").arg(LayerCatalog::typeName(layer.type)), added);
}

bool GraphView::insertLayerOnEdge(const LayerSpec& layer, int from, int to) {
    QString why;
    const auto edited = GraphEdits::insertOnEdge(m_model->modelSpec(), layer, from, to, &why);
    if (!edited)
        setMessage(why);
    return apply(edited, tr("Insert %1").arg(LayerCatalog::typeName(layer.type)), to);
}

bool GraphView::dropLayer(LayerType type, const QPoint& viewPoint) {
    const LayerSpec layer = LayerCatalog::defaultLayer(type);
    QGraphicsItem* target = dropTargetAt(viewPoint);
    if (target && target->type() == GraphEdgeItem::kType) {
        const auto* edge = static_cast<GraphEdgeItem*>(target);
        return insertLayerOnEdge(layer, edge->from(), edge->to());
    }
    const int after = target ? static_cast<GraphNodeItem*>(target)->layer() : m_model->layerCount() - 1;
    return addLayer(layer, after);
}

QGraphicsItem* GraphView::dropTargetAt(const QPoint& viewPoint, bool edges) const {
    for (QGraphicsItem* item : items(viewPoint)) { // topmost first: nodes, then labels, then edges
        if (item->type() == GraphNodeItem::kType || (edges && item->type() == GraphEdgeItem::kType))
            return item;
        if (edges && item->type() == GraphEdgeLabelItem::kType && item->isVisible())
            return static_cast<GraphEdgeLabelItem*>(item)->edge();
    }
    const int selected = selectedLayer();
    return node(selected != kNoLayer ? selected : m_model->layerCount() - 1);
}

void GraphView::markDropTarget(QGraphicsItem* item) {
    if (item == m_dropTarget)
        return;
    const auto mark = [](QGraphicsItem* target, bool on) {
        if (!target)
            return;
        if (target->type() == GraphNodeItem::kType)
            static_cast<GraphNodeItem*>(target)->setDropTarget(on);
        else if (target->type() == GraphEdgeItem::kType)
            static_cast<GraphEdgeItem*>(target)->setDropTarget(on);
    };
    mark(m_dropTarget, false);
    m_dropTarget = item;
    mark(m_dropTarget, true);
    for (GraphEdgeLabelItem* label : m_edgeLabels) // a label takes its edge's colour
        label->update();
}

void GraphView::dragEnterEvent(QDragEnterEvent* event) {
    dragMoveEvent(event); // entering is the first move
}

void GraphView::dragMoveEvent(QDragMoveEvent* event) {
    const bool block = event->mimeData()->hasFormat(LayerStackModel::kBlockMimeType);
    if (!block && !event->mimeData()->hasFormat(LayerStackModel::kLayerTypeMimeType)) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    markDropTarget(dropTargetAt(event->position().toPoint(), !block));
}

void GraphView::dragLeaveEvent(QDragLeaveEvent* event) {
    markDropTarget(nullptr);
    event->accept();
}

void GraphView::dropEvent(QDropEvent* event) {
    markDropTarget(nullptr);
    if (const QString block = QString::fromUtf8(event->mimeData()->data(LayerStackModel::kBlockMimeType));
        GraphEdits::blockNames().contains(block)) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
        const QGraphicsItem* target = dropTargetAt(event->position().toPoint(), false);
        insertBlock(block,
                    target ? static_cast<const GraphNodeItem*>(target)->layer() : m_model->layerCount() - 1);
        return;
    }
    const auto type = LayerCatalog::typeFromName(
        QString::fromUtf8(event->mimeData()->data(LayerStackModel::kLayerTypeMimeType)));
    if (!type) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    dropLayer(*type, event->position().toPoint());
}

double GraphView::zoom() const {
    return transform().m11();
}

void GraphView::zoomIn() {
    m_zoomed = true;
    scale(1.25, 1.25);
    showEdgeLabelsForZoom();
}

void GraphView::zoomOut() {
    m_zoomed = true;
    scale(0.8, 0.8);
    showEdgeLabelsForZoom();
}

void GraphView::fitToView() {
    m_zoomed = true;
    fitInView(m_scene->sceneRect(), Qt::KeepAspectRatio);
    showEdgeLabelsForZoom();
}

void GraphView::resetZoom() {
    m_needsZoom = false;
    m_zoomed = false;
    const QRectF scene = m_scene->sceneRect();
    if (scene.isEmpty())
        return;
    const double fit = std::min(viewport()->width() / scene.width(), viewport()->height() / scene.height());
    const double factor = std::clamp(fit, 0.85, 1.0);
    setTransform(QTransform::fromScale(factor, factor));
    showEdgeLabelsForZoom();
    centerOn(scene.center().x(), scene.top() + viewport()->height() / (2.0 * factor));
}

void GraphView::networkReplaced() {
    m_needsZoom = true;
    if (isVisible())
        resetZoom();
}

void GraphView::showEvent(QShowEvent* event) {
    QGraphicsView::showEvent(event);
    if (m_needsZoom)
        resetZoom();
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (m_needsZoom && isVisible())
        resetZoom();
}

void GraphView::wheelEvent(QWheelEvent* event) {
    if (!(event->modifiers() & Qt::ControlModifier)) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    m_zoomed = true;
    const double factor = std::pow(1.0015, event->angleDelta().y());
    const double next = std::clamp(zoom() * factor, 0.05, 4.0);
    scale(next / zoom(), next / zoom());
    showEdgeLabelsForZoom();
    event->accept();
}

void GraphView::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) {
        const QList<QGraphicsItem*> selected = m_scene->selectedItems();
        if (!selected.isEmpty()) {
            QGraphicsItem* item = selected.front();
            if (item->type() == GraphEdgeItem::kType) {
                const auto* edge = static_cast<GraphEdgeItem*>(item);
                disconnectLayers(edge->from(), edge->to());
            } else if (item->type() == GraphNodeItem::kType) {
                const int layer = static_cast<GraphNodeItem*>(item)->layer();
                if (layer >= 0)
                    removeLayer(layer);
            }
            event->accept();
            return;
        }
    }
    QGraphicsView::keyPressEvent(event);
}

GraphNodeItem* GraphView::nodeAt(const QPoint& viewPoint) const {
    for (QGraphicsItem* item : items(viewPoint))
        if (item->type() == GraphNodeItem::kType)
            return static_cast<GraphNodeItem*>(item);
    return nullptr;
}

void GraphView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        GraphNodeItem* item = nodeAt(event->position().toPoint());
        const QPointF scenePoint = mapToScene(event->position().toPoint());
        if (item && item->onOutputPort(scenePoint)) {
            m_dragFrom = item;
            if (!m_dragLine) { // the scene owns it until the next rebuild
                m_dragLine = m_scene->addLine(QLineF(), QPen(QColor(0x1e, 0x63, 0xc8), 2.0, Qt::DashLine));
                m_dragLine->setZValue(2.0);
            }
            m_dragLine->setLine(QLineF(item->outputPort(), scenePoint));
            m_dragLine->show();
            event->accept();
            return;
        }
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragFrom && m_dragLine) {
        m_dragLine->setLine(QLineF(m_dragFrom->outputPort(), mapToScene(event->position().toPoint())));
        event->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragFrom) {
        const int from = m_dragFrom->layer();
        m_dragLine->hide();
        m_dragFrom = nullptr;
        GraphNodeItem* target = nodeAt(event->position().toPoint());
        if (target && target->layer() >= 0 && target->layer() != from)
            connectLayers(from, target->layer());
        event->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

} // namespace tunelab
