#pragma once

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

    int type() const override { return kType; }
    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    GraphNodeContent m_content;
    QRectF m_rect;
};

// An edge: what `from` outputs flowing into `to`'s input port, along the layout's route.
class GraphEdgeItem : public QGraphicsPathItem {
public:
    static constexpr int kType = UserType + 2;

    GraphEdgeItem(int from, int to, const std::vector<QPointF>& points);

    int from() const { return m_from; }
    int to() const { return m_to; }

    int type() const override { return kType; }
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    int m_from;
    int m_to;
    QPointF m_tip;
};

} // namespace tunelab
