#pragma once

#include <QPointF>
#include <QRectF>
#include <QSizeF>

#include <vector>

namespace tunelab {

// A layered drawing of a directed graph (Sugiyama style), for the network editor's graph view:
// longest-path layering puts every node below the nodes it reads, edges that skip rows pass
// through placeholder points so that they take a lane of their own, barycenter sweeps order each
// row to reduce crossings, and nodes sit near the mean of their neighbours. Plain geometry, no
// scene: the view turns it into items.
struct GraphLayoutOptions {
    QSizeF nodeSize{220.0, 46.0}; // room for "conv2d 128 k3 s1 p1 no-bias" in bold
    double rowGap = 34.0;         // between the bottom of one row and the top of the next
    double nodeGap = 28.0;        // between neighbouring nodes of a row
    double laneWidth = 18.0;      // the room an edge that passes a row takes in it
    int orderingSweeps = 12;      // down and up sweeps of the barycenter ordering
};

struct GraphEdgeRoute {
    int from = 0;
    int to = 0;
    int port = 0;                // which of `to`'s inputs, in the order of its inputs
    int portCount = 1;           // how many inputs `to` has
    std::vector<QPointF> points; // from the output port through the lanes to the input port
};

struct GraphLayout {
    std::vector<int> row;      // per node: its row (0 at the top)
    std::vector<QRectF> nodes; // per node: its rectangle
    std::vector<GraphEdgeRoute> edges;
    QRectF bounds;
    int rowCount = 0;
    int crossings = 0; // pairs of edges that cross between neighbouring rows
};

// `inputs[n]` lists the nodes that node n reads (in port order). Nodes in cycles are placed too,
// their back edges drawn straight. A 200-node graph lays out in milliseconds.
GraphLayout layoutGraph(const std::vector<std::vector<int>>& inputs,
                        const GraphLayoutOptions& options = GraphLayoutOptions());

} // namespace tunelab
