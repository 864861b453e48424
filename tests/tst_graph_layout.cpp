// The graph view's layout on graphs drawn at random, of the kinds a network can be: chains, skips,
// branches, merges that read one node several times, wide fans, and (for a network being rewired)
// cycles. Every node is placed once, no two overlap, a node sits below everything it reads, every
// input is an edge that starts at its source's node and ends at its reader's, and the drawing's
// bounds hold it all.

#include "experiment/graph_layout.h"

#include <QtTest>

#include <random>
#include <vector>

using namespace tunelab;

namespace {

// `nodes` nodes, node 0 the input; each later one reads one to three earlier nodes, mostly the one
// just before it. With `cycles`, now and then a node reads a later one.
std::vector<std::vector<int>> randomGraph(std::mt19937& rng, int nodes, bool cycles) {
    const auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng); };
    std::vector<std::vector<int>> inputs(static_cast<size_t>(nodes));
    for (int node = 1; node < nodes; ++node) {
        auto& reads = inputs[static_cast<size_t>(node)];
        reads.push_back(pick(0, 3) == 0 ? pick(0, node - 1) : node - 1);
        const int more = pick(0, 5) == 0 ? pick(1, 2) : 0;
        for (int k = 0; k < more; ++k)
            reads.push_back(pick(0, node - 1)); // may repeat: add(x, x)
        if (cycles && pick(0, 9) == 0 && node + 1 < nodes)
            reads.push_back(pick(node + 1, nodes - 1));
    }
    return inputs;
}

} // namespace

class TestGraphLayout : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void randomGraphsLayOutCleanly() {
        std::mt19937 rng(20261207);
        for (int graph = 0; graph < 600; ++graph) {
            const bool cycles = graph % 5 == 4;
            const int nodes = std::uniform_int_distribution<int>(1, graph % 10 == 0 ? 150 : 40)(rng);
            const auto inputs = randomGraph(rng, nodes, cycles);
            const GraphLayout layout = layoutGraph(inputs);
            const QString where =
                QString("graph %1 (%2 nodes%3)").arg(graph).arg(nodes).arg(cycles ? ", cycles" : "");
            QVERIFY2(int(layout.nodes.size()) == nodes && int(layout.row.size()) == nodes, qPrintable(where));
            int edges = 0;
            for (int node = 0; node < nodes; ++node) {
                const QRectF& box = layout.nodes[size_t(node)];
                // (within rounding: the bounds are a union of rectangles)
                QVERIFY2(box.isValid() && layout.bounds.adjusted(-1e-6, -1e-6, 1e-6, 1e-6).contains(box),
                         qPrintable(where));
                QVERIFY2(layout.row[size_t(node)] >= 0 && layout.row[size_t(node)] < layout.rowCount,
                         qPrintable(where));
                for (int other = node + 1; other < nodes; ++other)
                    QVERIFY2(!box.intersects(layout.nodes[size_t(other)]),
                             qPrintable(where + QString(": nodes %1 and %2 overlap").arg(node).arg(other)));
                for (const int source : inputs[size_t(node)]) {
                    ++edges;
                    if (source < node) // a forward edge: the reader is below what it reads
                        QVERIFY2(
                            layout.row[size_t(node)] > layout.row[size_t(source)],
                            qPrintable(where +
                                       QString(": %1 reads %2 but is not below it").arg(node).arg(source)));
                }
            }
            QVERIFY2(int(layout.edges.size()) == edges, qPrintable(where + ": an input without its edge"));
            for (const GraphEdgeRoute& edge : layout.edges) {
                QVERIFY2(edge.points.size() >= 2, qPrintable(where + ": an edge without a route"));
                QVERIFY2(edge.port >= 0 && edge.port < edge.portCount, qPrintable(where));
                const QRectF& from = layout.nodes[size_t(edge.from)];
                const QRectF& to = layout.nodes[size_t(edge.to)];
                // Starts on its source's node and ends on its reader's (the ports sit on their edges).
                QVERIFY2(
                    from.adjusted(-1, -1, 1, 1).contains(edge.points.front()),
                    qPrintable(
                        where +
                        QString(": edge %1 -> %2 does not start at its source").arg(edge.from).arg(edge.to)));
                QVERIFY2(
                    to.adjusted(-1, -1, 1, 1).contains(edge.points.back()),
                    qPrintable(
                        where +
                        QString(": edge %1 -> %2 does not end at its reader").arg(edge.from).arg(edge.to)));
                for (const QPointF& point : edge.points)
                    QVERIFY2(std::isfinite(point.x()) && std::isfinite(point.y()) &&
                                 layout.bounds.adjusted(-1, -1, 1, 1).contains(point),
                             qPrintable(where + ": an edge leaves the drawing"));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestGraphLayout)
#include "tst_graph_layout.moc"
