#include "experiment/graph_items.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

namespace tunelab {

namespace {

QColor fillColor(GraphNodeContent::Kind kind) {
    switch (kind) {
    case GraphNodeContent::Kind::Input:
        return QColor(0xe0, 0xe0, 0xe0);
    case GraphNodeContent::Kind::Weights:
        return QColor(0xdc, 0xea, 0xfb);
    case GraphNodeContent::Kind::Activation:
        return QColor(0xe3, 0xf4, 0xe1);
    case GraphNodeContent::Kind::Merge:
        return QColor(0xfd, 0xeb, 0xd3);
    case GraphNodeContent::Kind::Other:
        break;
    }
    return QColor(0xf3, 0xf1, 0xee);
}

const QColor kErrorColor(0xc6, 0x28, 0x28);
const QColor kSelectedColor(0x1e, 0x63, 0xc8);
const QColor kDropColor(0x0b, 0x8a, 0x5a);

} // namespace

GraphNodeItem::GraphNodeItem(const GraphNodeContent& content, const QRectF& rect)
    : m_content(content)
    , m_rect(rect) {
    setFlag(ItemIsSelectable);
    setAcceptHoverEvents(true);
    setZValue(1.0);
    QString tip = m_content.name.isEmpty() ? m_content.title
                                           : QStringLiteral("%1 '%2'").arg(m_content.title, m_content.name);
    if (!m_content.shape.isEmpty())
        tip += QStringLiteral("\noutput %1").arg(m_content.shape);
    if (!m_content.params.isEmpty())
        tip += QStringLiteral("\n%1").arg(m_content.params);
    if (m_content.output)
        tip += QStringLiteral("\nthe network's output");
    if (!m_content.error.isEmpty())
        tip = m_content.error + QStringLiteral("\n\n") + tip;
    setToolTip(tip);
}

QPointF GraphNodeItem::outputPort() const {
    return mapToScene(QPointF(m_rect.center().x(), m_rect.bottom()));
}

QPointF GraphNodeItem::inputPort(int port) const {
    const int ports = std::max(1, m_content.inputPorts);
    return mapToScene(QPointF(m_rect.left() + m_rect.width() * (port + 1) / (ports + 1), m_rect.top()));
}

bool GraphNodeItem::onOutputPort(const QPointF& scenePoint) const {
    return QLineF(scenePoint, outputPort()).length() <= kPortRadius + 5.0;
}

void GraphNodeItem::setDropTarget(bool target) {
    if (target == m_dropTarget)
        return;
    m_dropTarget = target;
    update();
}

QRectF GraphNodeItem::boundingRect() const {
    return m_rect.adjusted(-kPortRadius - 2.0, -kPortRadius - 2.0, kPortRadius + 2.0, kPortRadius + 16.0);
}

QPainterPath GraphNodeItem::shape() const {
    QPainterPath path;
    path.addRoundedRect(m_rect, 6.0, 6.0);
    const double slack = kPortRadius + 5.0; // as onOutputPort()
    path.addEllipse(QPointF(m_rect.center().x(), m_rect.bottom()), slack, slack);
    const int ports = std::max(1, m_content.inputPorts);
    for (int port = 0; port < ports; ++port)
        path.addEllipse(mapFromScene(inputPort(port)), kPortRadius, kPortRadius);
    path.setFillRule(Qt::WindingFill);
    return path;
}

void GraphNodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    painter->setRenderHint(QPainter::Antialiasing);
    const bool selected = option->state & QStyle::State_Selected;
    const bool error = !m_content.error.isEmpty();
    QPen border(error ? kErrorColor : selected ? kSelectedColor : QColor(0x8a, 0x8a, 0x8a));
    border.setWidthF(error || selected ? 2.5 : 1.0);
    painter->setPen(border);
    painter->setBrush(fillColor(m_content.kind));
    painter->drawRoundedRect(m_rect, 6.0, 6.0);
    if (error && selected) { // both: the selection inside the red border
        painter->setPen(QPen(kSelectedColor, 1.5));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(m_rect.adjusted(3, 3, -3, -3), 4.0, 4.0);
    }
    if (m_dropTarget) {
        painter->setPen(QPen(kDropColor, 2.0, Qt::DashLine));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(m_rect.adjusted(-4, -4, 4, 4), 8.0, 8.0);
    }

    // Three lines: what the layer is, its name, what it outputs and its parameters.
    const QRectF text = m_rect.adjusted(8.0, 3.0, -8.0, -3.0);
    QFont font = painter->font();
    QFont bold = font;
    bold.setBold(true);
    QFont small = font;
    small.setPointSizeF(font.pointSizeF() * 0.88);
    const double line = text.height() / 3.0;
    painter->setPen(QColor(0x20, 0x20, 0x20));
    painter->setFont(bold);
    painter->drawText(QRectF(text.left(), text.top(), text.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                      QFontMetricsF(bold).elidedText(m_content.title, Qt::ElideRight, text.width()));
    painter->setFont(small);
    painter->setPen(QColor(0x55, 0x55, 0x55));
    painter->drawText(QRectF(text.left(), text.top() + line, text.width(), line),
                      Qt::AlignLeft | Qt::AlignVCenter,
                      QFontMetricsF(small).elidedText(m_content.name, Qt::ElideMiddle, text.width()));
    const QString shape = m_content.shape.isEmpty() ? QStringLiteral("?") : m_content.shape;
    painter->setPen(error ? kErrorColor : QColor(0x20, 0x20, 0x20));
    painter->drawText(QRectF(text.left(), text.top() + 2 * line, text.width(), line),
                      Qt::AlignLeft | Qt::AlignVCenter, shape);
    painter->setPen(QColor(0x55, 0x55, 0x55));
    painter->drawText(QRectF(text.left(), text.top() + 2 * line, text.width(), line),
                      Qt::AlignRight | Qt::AlignVCenter, m_content.params);

    // Ports.
    painter->setPen(QPen(QColor(0x60, 0x60, 0x60), 1.0));
    painter->setBrush(Qt::white);
    if (m_content.kind != GraphNodeContent::Kind::Input) {
        const int ports = std::max(1, m_content.inputPorts);
        for (int port = 0; port < ports; ++port)
            painter->drawEllipse(mapFromScene(inputPort(port)), kPortRadius - 1.0, kPortRadius - 1.0);
    }
    painter->setBrush(QColor(0x60, 0x60, 0x60));
    painter->drawEllipse(QPointF(m_rect.center().x(), m_rect.bottom()), kPortRadius, kPortRadius);
    if (m_content.output) {
        painter->setFont(small);
        painter->setPen(QColor(0x20, 0x20, 0x20));
        painter->drawText(QRectF(m_rect.center().x() + 8.0, m_rect.bottom() + 1.0, 80.0, 14.0),
                          Qt::AlignLeft | Qt::AlignVCenter, QObject::tr("output"));
    }
}

GraphEdgeItem::GraphEdgeItem(int from, int to, const std::vector<QPointF>& points)
    : m_from(from)
    , m_to(to) {
    setFlag(ItemIsSelectable);
    setZValue(0.5);
    setPen(QPen(Qt::gray, 4.0)); // paint() draws; this sizes the bounding rect for the widest stroke
    QPainterPath path;
    if (!points.empty()) {
        path.moveTo(points.front());
        for (size_t i = 1; i < points.size(); ++i) {
            const QPointF a = points[i - 1];
            const QPointF b = points[i];
            const double bend = (b.y() - a.y()) / 2.0;
            if (bend > 0.0)
                path.cubicTo(a + QPointF(0.0, bend), b - QPointF(0.0, bend), b);
            else
                path.lineTo(b);
        }
        m_tip = points.back();
    }
    setPath(path);
}

QPointF GraphEdgeItem::pointAbovePort(double above) const {
    const QPainterPath& edge = path();
    const double target = m_tip.y() - above;
    if (edge.elementCount() < 2 || edge.pointAtPercent(0.0).y() >= target)
        return edge.pointAtPercent(0.5); // a short or upward (cycle) edge
    // The path runs downwards: bisect for the point at the height wanted.
    double low = 0.0;
    double high = 1.0;
    for (int step = 0; step < 24; ++step) {
        const double middle = (low + high) / 2.0;
        (edge.pointAtPercent(middle).y() < target ? low : high) = middle;
    }
    return edge.pointAtPercent(high);
}

void GraphEdgeItem::setDropTarget(bool target) {
    if (target == m_dropTarget)
        return;
    m_dropTarget = target;
    update();
}

QPainterPath GraphEdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(9.0);
    return stroker.createStroke(path());
}

void GraphEdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    painter->setRenderHint(QPainter::Antialiasing);
    const bool selected = option->state & QStyle::State_Selected;
    const QColor color = m_dropTarget ? kDropColor : selected ? kSelectedColor : QColor(0x70, 0x70, 0x70);
    painter->setPen(
        QPen(color, selected || m_dropTarget ? 2.5 : 1.3, m_dropTarget ? Qt::DashLine : Qt::SolidLine));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path());
    // An arrowhead into the input port.
    painter->setPen(Qt::NoPen);
    painter->setBrush(color);
    const QPointF tip = m_tip - QPointF(0.0, GraphNodeItem::kPortRadius - 1.0);
    painter->drawPolygon(QPolygonF({tip, tip + QPointF(-4.0, -7.0), tip + QPointF(4.0, -7.0)}));
}

GraphEdgeLabelItem::GraphEdgeLabelItem(GraphEdgeItem* edge, const QString& text, const QPointF& anchor,
                                       const QFont& font, bool left)
    : m_edge(edge)
    , m_text(text)
    , m_font(font) {
    setAcceptedMouseButtons(Qt::NoButton); // clicks select the edge or the node under it
    setZValue(0.8);                        // over every edge, under the nodes
    const QFontMetricsF metrics(m_font);
    const QSizeF size(metrics.horizontalAdvance(m_text) + 6.0, metrics.height() + 1.0);
    const double x = left ? anchor.x() - 4.0 - size.width() : anchor.x() + 4.0;
    m_rect = QRectF(QPointF(x, anchor.y() - size.height() / 2.0), size);
    setToolTip(edge->toolTip());
}

void GraphEdgeLabelItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(0xfb, 0xfb, 0xfa, 225)); // the view's background, so lines behind fade
    painter->drawRoundedRect(m_rect, 3.0, 3.0);
    painter->setFont(m_font);
    painter->setPen(m_edge->isDropTarget() ? kDropColor : QColor(0x4a, 0x4a, 0x4a));
    painter->drawText(m_rect, Qt::AlignCenter, m_text);
}

} // namespace tunelab
