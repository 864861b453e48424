#pragma once

#include <QFont>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QStringList>

#include <vector>

namespace tunelab {

// What a node of the graph view shows: one layer, or the network's input (layer -1).
struct GraphNodeContent {
    int layer = -1;
    QString title;  // "conv2d 16 k3 s1 p1"
    QString name;   // "res1/0", or empty
    QString shape;  // "16×8×8"
    QString params; // "2,304 params"
    QString error;  // empty when the layer fits
    int inputPorts = 1;
    bool output = false; // the network's output
    enum class Kind { Input, Weights, Activation, Merge, Other } kind = Kind::Other;
};

// A layer as a box with its input ports on the top edge and its output port at the bottom.
class GraphNodeItem : public QGraphicsItem {
public:
    static constexpr int kType = UserType + 1;
    static constexpr double kPortRadius = 5.0;

    GraphNodeItem(const GraphNodeContent& content, const QRectF& rect);

    int layer() const { return m_content.layer; }
    const GraphNodeContent& content() const { return m_content; }
    QRectF rect() const { return m_rect; }
    QPointF outputPort() const; // scene coordinates
    QPointF inputPort(int port) const;
    // Whether the point (scene coordinates) is on the output port, with a little slack.
    bool onOutputPort(const QPointF& scenePoint) const;

    // Marked while a layer dragged from the palette would go after this node.
    void setDropTarget(bool target);
    bool isDropTarget() const { return m_dropTarget; }

    int type() const override { return kType; }
    QRectF boundingRect() const override;
    // The box and its ports: what a click or a drop hits, not the room left for the "output" text.
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    GraphNodeContent m_content;
    QRectF m_rect;
    bool m_dropTarget = false;
};

// An edge: what `from` outputs flowing into `to`'s input port, along the layout's route.
class GraphEdgeItem : public QGraphicsPathItem {
public:
    static constexpr int kType = UserType + 2;

    GraphEdgeItem(int from, int to, const std::vector<QPointF>& points);

    int from() const { return m_from; }
    int to() const { return m_to; }
    // The point of the edge `above` scene units over its input port: its label's place, in the gap
    // between the rows.
    QPointF pointAbovePort(double above) const;
    // Marked while a layer dragged from the palette would go into this connection.
    void setDropTarget(bool target);
    bool isDropTarget() const { return m_dropTarget; }

    int type() const override { return kType; }
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    int m_from;
    int m_to;
    QPointF m_tip;
    bool m_dropTarget = false;
};

// The shape an edge carries ("16×8×8"), small, on a patch of the background beside the edge, just
// above the node it flows into. The view hides labels when the zoom makes them too small to read.
class GraphEdgeLabelItem : public QGraphicsItem {
public:
    static constexpr int kType = UserType + 3;

    // `anchor` is the point of the edge the label sits beside: to its right, or to its left when
    // `left` (the first inputs of a merge, so that the labels of neighbouring ports stay apart).
    GraphEdgeLabelItem(GraphEdgeItem* edge, const QString& text, const QPointF& anchor, const QFont& font,
                       bool left = false);

    GraphEdgeItem* edge() const { return m_edge; }
    const QString& text() const { return m_text; }
    QRectF rect() const { return m_rect; }

    int type() const override { return kType; }
    QRectF boundingRect() const override { return m_rect; }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    GraphEdgeItem* m_edge; // the scene owns both; they go together at the next rebuild
    QString m_text;
    QFont m_font;
    QRectF m_rect;
};

} // namespace tunelab
