#include "experiment/graph_layout.h"

#include <algorithm>
#include <numeric>
#include <queue>

namespace tunelab {

namespace {

// The layered graph: the real nodes first, then one placeholder per row an edge passes.
struct Layered {
    int realCount = 0;
    std::vector<int> row;
    std::vector<std::vector<int>> up;   // neighbours in the row above
    std::vector<std::vector<int>> down; // neighbours in the row below
    std::vector<std::vector<int>> rows; // per row: its nodes, left to right
    std::vector<double> position;       // per node: its index in its row while ordering, then x

    bool isReal(int node) const { return node < realCount; }
};

// Longest-path layering from the sources. Nodes on a cycle go below what they read that is
// already placed.
std::vector<int> longestPathRows(const std::vector<std::vector<int>>& inputs) {
    const int count = static_cast<int>(inputs.size());
    std::vector<int> pending(count, 0);
    std::vector<std::vector<int>> readers(count);
    for (int node = 0; node < count; ++node) {
        for (const int input : inputs[node]) {
            if (input >= 0 && input < count && input != node) {
                ++pending[node];
                readers[input].push_back(node);
            }
        }
    }
    std::vector<int> row(count, -1);
    std::queue<int> ready;
    for (int node = 0; node < count; ++node)
        if (pending[node] == 0)
            ready.push(node);
    int placed = 0;
    const auto place = [&](int node) {
        int best = 0;
        for (const int input : inputs[node])
            if (input >= 0 && input < count && row[input] >= 0)
                best = std::max(best, row[input] + 1);
        row[node] = best;
        ++placed;
    };
    while (placed < count) {
        while (!ready.empty()) {
            const int node = ready.front();
            ready.pop();
            place(node);
            for (const int reader : readers[node])
                if (--pending[reader] == 0)
                    ready.push(reader);
        }
        if (placed < count) { // a cycle: place its first unplaced node and go on
            for (int node = 0; node < count; ++node) {
                if (row[node] < 0 && pending[node] > 0) {
                    pending[node] = 0;
                    ready.push(node);
                    break;
                }
            }
        }
    }
    return row;
}

double barycenter(const Layered& graph, const std::vector<int>& neighbours, double fallback) {
    if (neighbours.empty())
        return fallback;
    double sum = 0.0;
    for (const int neighbour : neighbours)
        sum += graph.position[neighbour];
    return sum / static_cast<double>(neighbours.size());
}

void sortRow(Layered& graph, int row, bool fromAbove) {
    std::vector<int>& nodes = graph.rows[row];
    std::vector<std::pair<double, int>> keys;
    for (const int node : nodes)
        keys.emplace_back(
            barycenter(graph, fromAbove ? graph.up[node] : graph.down[node], graph.position[node]), node);
    std::stable_sort(keys.begin(), keys.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < keys.size(); ++i) {
        nodes[i] = keys[i].second;
        graph.position[nodes[i]] = static_cast<double>(i);
    }
}

int crossingsBetween(const Layered& graph, int row) {
    std::vector<std::pair<double, double>> segments;
    for (const int node : graph.rows[row])
        for (const int below : graph.down[node])
            segments.emplace_back(graph.position[node], graph.position[below]);
    int crossings = 0;
    for (size_t i = 0; i < segments.size(); ++i)
        for (size_t j = i + 1; j < segments.size(); ++j)
            if ((segments[i].first - segments[j].first) * (segments[i].second - segments[j].second) < 0)
                ++crossings;
    return crossings;
}

int totalCrossings(const Layered& graph) {
    int crossings = 0;
    for (int row = 0; row + 1 < static_cast<int>(graph.rows.size()); ++row)
        crossings += crossingsBetween(graph, row);
    return crossings;
}

// Places a row's nodes at the x they want, keeping their order and the minimum gaps, then shifts
// the row so that its real nodes are, on average, where they want to be (lanes give way).
void placeRow(Layered& graph, int row, const std::vector<double>& wanted, const std::vector<double>& width,
              double gap) {
    const std::vector<int>& nodes = graph.rows[row];
    std::vector<double> x(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
        x[i] = wanted[nodes[i]];
        if (i > 0)
            x[i] = std::max(x[i], x[i - 1] + (width[nodes[i - 1]] + width[nodes[i]]) / 2.0 + gap);
    }
    double shift = 0.0;
    int counted = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (graph.isReal(nodes[i])) {
            shift += wanted[nodes[i]] - x[i];
            ++counted;
        }
    }
    if (counted == 0) {
        for (size_t i = 0; i < nodes.size(); ++i)
            shift += wanted[nodes[i]] - x[i];
        counted = static_cast<int>(nodes.size());
    }
    shift = counted > 0 ? shift / counted : 0.0;
    for (size_t i = 0; i < nodes.size(); ++i)
        graph.position[nodes[i]] = x[i] + shift;
}

// Where a node wants to be: the mean x of its neighbours, a real neighbour counting far more
// than a lane so that chains stay straight and skip edges go round them.
double wantedX(const Layered& graph, const std::vector<int>& neighbours, double current) {
    double sum = 0.0;
    double weights = 0.0;
    for (const int neighbour : neighbours) {
        const double weight = graph.isReal(neighbour) ? 1.0 : 0.05;
        sum += weight * graph.position[neighbour];
        weights += weight;
    }
    return weights > 0.0 ? sum / weights : current;
}

} // namespace

GraphLayout layoutGraph(const std::vector<std::vector<int>>& inputs, const GraphLayoutOptions& options) {
    GraphLayout layout;
    const int count = static_cast<int>(inputs.size());
    Layered graph;
    graph.realCount = count;
    graph.row = longestPathRows(inputs);
    graph.up.resize(count);
    graph.down.resize(count);

    // Edges, split into one placeholder per row they pass.
    struct Edge {
        int from, to, port, portCount;
        std::vector<int> lanes;
    };
    std::vector<Edge> edges;
    for (int node = 0; node < count; ++node) {
        const int ports = static_cast<int>(inputs[node].size());
        for (int port = 0; port < ports; ++port) {
            const int from = inputs[node][port];
            if (from < 0 || from >= count || from == node)
                continue;
            Edge edge{from, node, port, ports, {}};
            if (graph.row[node] > graph.row[from]) {
                int previous = from;
                for (int row = graph.row[from] + 1; row < graph.row[node]; ++row) {
                    const int lane = static_cast<int>(graph.row.size());
                    graph.row.push_back(row);
                    graph.up.push_back({previous});
                    graph.down.emplace_back();
                    graph.down[previous].push_back(lane);
                    edge.lanes.push_back(lane);
                    previous = lane;
                }
                graph.down[previous].push_back(node);
                graph.up[node].push_back(previous);
            }
            edges.push_back(std::move(edge));
        }
    }
    const int total = static_cast<int>(graph.row.size());
    const int rowCount = count == 0 ? 0 : *std::max_element(graph.row.begin(), graph.row.end()) + 1;
    graph.rows.resize(rowCount);
    graph.position.assign(total, 0.0);
    for (int node = 0; node < total; ++node) {
        graph.position[node] = static_cast<double>(graph.rows[graph.row[node]].size());
        graph.rows[graph.row[node]].push_back(node);
    }

    // Barycenter ordering, keeping the order with the fewest crossings.
    std::vector<std::vector<int>> best = graph.rows;
    int fewest = totalCrossings(graph);
    for (int sweep = 0; sweep < options.orderingSweeps && fewest > 0; ++sweep) {
        if (sweep % 2 == 0)
            for (int row = 1; row < rowCount; ++row)
                sortRow(graph, row, true);
        else
            for (int row = rowCount - 2; row >= 0; --row)
                sortRow(graph, row, false);
        const int crossings = totalCrossings(graph);
        if (crossings < fewest) {
            fewest = crossings;
            best = graph.rows;
        }
    }
    graph.rows = best;
    layout.crossings = fewest;

    // x: start packed, then pull every row towards its neighbours, down and up a few times.
    std::vector<double> width(total, options.laneWidth);
    for (int node = 0; node < count; ++node)
        width[node] = options.nodeSize.width();
    std::vector<double> wanted(total, 0.0);
    for (int row = 0; row < rowCount; ++row) {
        double x = 0.0;
        for (const int node : graph.rows[row]) {
            wanted[node] = x;
            x += width[node] + options.nodeGap;
        }
        placeRow(graph, row, wanted, width, options.nodeGap);
    }
    for (int pass = 0; pass < 4; ++pass) {
        for (int row = 1; row < rowCount; ++row) {
            for (const int node : graph.rows[row])
                wanted[node] = wantedX(graph, graph.up[node], graph.position[node]);
            placeRow(graph, row, wanted, width, options.nodeGap);
        }
        for (int row = rowCount - 2; row >= 0; --row) {
            for (const int node : graph.rows[row])
                wanted[node] = wantedX(graph, graph.down[node], graph.position[node]);
            placeRow(graph, row, wanted, width, options.nodeGap);
        }
    }

    const double rowHeight = options.nodeSize.height() + options.rowGap;
    layout.rowCount = rowCount;
    layout.row.assign(graph.row.begin(), graph.row.begin() + count);
    layout.nodes.resize(count);
    for (int node = 0; node < count; ++node) {
        const QPointF center(graph.position[node],
                             graph.row[node] * rowHeight + options.nodeSize.height() / 2.0);
        layout.nodes[node] =
            QRectF(center - QPointF(options.nodeSize.width() / 2.0, options.nodeSize.height() / 2.0),
                   options.nodeSize);
        layout.bounds =
            layout.bounds.isNull() ? layout.nodes[node] : layout.bounds.united(layout.nodes[node]);
    }
    for (const Edge& edge : edges) {
        GraphEdgeRoute route{edge.from, edge.to, edge.port, edge.portCount, {}};
        const QRectF& from = layout.nodes[edge.from];
        const QRectF& to = layout.nodes[edge.to];
        route.points.emplace_back(from.center().x(), from.bottom());
        for (const int lane : edge.lanes)
            route.points.emplace_back(graph.position[lane],
                                      graph.row[lane] * rowHeight + options.nodeSize.height() / 2.0);
        route.points.emplace_back(to.left() + to.width() * (edge.port + 1) / (edge.portCount + 1), to.top());
        for (const QPointF& point : route.points)
            layout.bounds = layout.bounds.united(QRectF(point, QSizeF(1.0, 1.0)));
        layout.edges.push_back(std::move(route));
    }
    return layout;
}

} // namespace tunelab
