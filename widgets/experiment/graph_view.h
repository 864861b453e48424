#pragma once

#include "experiment/graph_layout.h"
#include "spec/spec.h"

#include <QGraphicsView>
#include <QHash>

#include <optional>
#include <vector>

class QGraphicsLineItem;
class QUndoStack;

namespace tunelab {

class GraphEdgeLabelItem;
class GraphNodeItem;
class LayerStackModel;

// The network as a graph: one node per layer (what it is, its name, its output shape and
// parameters) and one for the network's input, edges for what each layer reads, laid out in rows
// (graph_layout.h) and redrawn after every change of the model. Errors of shape inference and of the
// graph show on the node they name (a red border, the message in its tooltip).
//
// Each edge is labelled with the shape it carries while the zoom leaves the label readable.
//
// Editing: drag from a node's output port (the dot at its bottom) onto another node to make it read
// that node; Delete removes the selected node or edge; a layer type dragged from the palette goes
// into the connection it is dropped on, after the node it is dropped on, or else after the selected
// node (the last layer when none is). Every edit is one command on the undo stack, which restores
// the exact ModelSpec. Ctrl+wheel zooms, dragging the background pans.
class GraphView : public QGraphicsView {
    Q_OBJECT

public:
    GraphView(LayerStackModel* model, QUndoStack* undoStack, QWidget* parent = nullptr);

    // Layer indexes; NetworkGraph::kNetworkInput (-1) is the input. False (and message()) when the
    // edit was refused.
    bool connectLayers(int from, int to);
    bool disconnectLayers(int from, int to);
    bool removeLayer(int layer);
    // Inserts a block of the palette (GraphEdits::blockNames()) after `after`.
    bool insertBlock(const QString& block, int after);
    // A new layer reading `after` (GraphEdits::insertAfter), or in the connection from `from` to `to`.
    bool addLayer(const LayerSpec& layer, int after);
    bool insertLayerOnEdge(const LayerSpec& layer, int from, int to);
    // What a palette drop at `viewPoint` (viewport coordinates) does: a new layer of the type in the
    // connection there, after the node there, or after the selected or last node.
    bool dropLayer(LayerType type, const QPoint& viewPoint);
    QString message() const { return m_message; }

    static constexpr int kNoLayer = -2;
    int selectedLayer() const; // kNoLayer when no node is selected; -1 is the input
    void selectLayer(int layer);

    GraphNodeItem* node(int layer) const; // nullptr when there is none
    const GraphLayout& layout() const { return m_layout; }
    double zoom() const;

    // Edge labels show from this zoom up; below it they would be too small to read.
    static constexpr double kEdgeLabelZoom = 0.75;
    const std::vector<GraphEdgeLabelItem*>& edgeLabels() const { return m_edgeLabels; }
    GraphEdgeLabelItem* edgeLabel(int from, int to) const; // nullptr when there is none

public Q_SLOTS:
    void rebuild();
    void zoomIn();
    void zoomOut();
    void fitToView();
    // 100 %, or less to show a small graph whole; the top of the graph in view.
    void resetZoom();
    // A new network was loaded: the next time the view is shown, it starts at resetZoom().
    void networkReplaced();

Q_SIGNALS:
    void layerSelected(int layer);
    void messageChanged(const QString& message);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dragLeaveEvent(QDragLeaveEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    bool apply(const std::optional<ModelSpec>& edited, const QString& text, int select);
    void setMessage(const QString& message);
    void addInstanceFrames();
    GraphNodeItem* nodeAt(const QPoint& viewPoint) const;
    void onSelectionChanged();
    void showEdgeLabelsForZoom();
    // The edge or node a palette drop at `viewPoint` would go into or after; a block's drop (`edges`
    // false) goes after a node only.
    QGraphicsItem* dropTargetAt(const QPoint& viewPoint, bool edges = true) const;
    void markDropTarget(QGraphicsItem* item);

    LayerStackModel* m_model;
    QUndoStack* m_undoStack;
    QGraphicsScene* m_scene;
    GraphLayout m_layout;
    QHash<int, GraphNodeItem*> m_nodes;
    std::vector<GraphEdgeLabelItem*> m_edgeLabels;
    QGraphicsItem* m_dropTarget = nullptr; // marked while a palette drag hovers
    QString m_message;
    GraphNodeItem* m_dragFrom = nullptr;
    QGraphicsLineItem* m_dragLine = nullptr;
    bool m_rebuilding = false;
    int m_wanted = kNoLayer; // the layer to select again after a rebuild
    bool m_selecting = false;
    bool m_zoomed = false;   // the user chose a zoom; rebuilds keep it
    bool m_needsZoom = true; // a new network: resetZoom() once the view has its size
};

} // namespace tunelab
