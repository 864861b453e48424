#pragma once

#include "charts/loss_chart_view.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QElapsedTimer>
#include <QGraphicsItem>
#include <QMouseEvent>
#include <QWheelEvent>

#include <cmath>

namespace tunelab {

// The plot: a QChartView with wheel zoom on x and right- or middle-drag panning added to its
// rubber band. Ranges set here reach LossChartView through the axes' rangeChanged signals.
// Private to LossChartView's translation units.
class ChartCanvas : public QChartView {
public:
    ChartCanvas(QChart* chart, LossChartView* owner)
        : QChartView(chart, owner)
        , m_owner(owner) {
        setRubberBand(QChartView::RectangleRubberBand);
        setMouseTracking(true); // hover tooltips need moves without a button held
        viewport()->setMouseTracking(true);
    }

protected:
    void paintEvent(QPaintEvent* event) override {
        QElapsedTimer cost;
        cost.start();
        QChartView::paintEvent(event);
        m_owner->notePaintCost(cost.nsecsElapsed() / 1e6);
    }
    void wheelEvent(QWheelEvent* event) override {
        const QRectF plot = chart()->plotArea();
        const QPointF pos = event->position();
        if (event->angleDelta().y() == 0 || plot.width() <= 0.0 || !plot.contains(pos)) {
            QChartView::wheelEvent(event);
            return;
        }
        const double fraction = (pos.x() - plot.left()) / plot.width();
        const double low = m_owner->visibleXMin();
        const double center = low + fraction * (m_owner->visibleXMax() - low);
        m_owner->zoomX(std::pow(0.85, event->angleDelta().y() / 120.0), center);
        event->accept();
    }
    void mousePressEvent(QMouseEvent* event) override {
        if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
            m_panning = true;
            m_lastPos = event->position();
            setCursor(Qt::ClosedHandCursor);
            event->accept();
            return;
        }
        QChartView::mousePressEvent(event);
    }
    void mouseMoveEvent(QMouseEvent* event) override {
        if (m_panning) {
            const QPointF delta = event->position() - m_lastPos;
            m_lastPos = event->position();
            chart()->scroll(-delta.x(), delta.y());
            event->accept();
            return;
        }
        QChartView::mouseMoveEvent(event);
        if (!rubberBandActive())
            m_owner->hoverAt(chart()->mapFromScene(mapToScene(event->position().toPoint())));
    }
    void leaveEvent(QEvent* event) override {
        m_owner->hoverAt(QPointF(-1e9, -1e9)); // outside every plot: the tooltip goes
        QChartView::leaveEvent(event);
    }
    void mouseReleaseEvent(QMouseEvent* event) override {
        if (m_panning && (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton)) {
            m_panning = false;
            unsetCursor();
            event->accept();
            return;
        }
        QChartView::mouseReleaseEvent(event); // not a right click: that would zoom out
    }

private:
    bool rubberBandActive() const { return (QApplication::mouseButtons() & Qt::LeftButton) != 0; }

    LossChartView* m_owner;
    bool m_panning = false;
    QPointF m_lastPos;
};

// Draws every curve over the plot area, in the chart, above its grid. Qt Charts would lay out
// each series and stroke it (for its own hit tests) whenever its points change, which with live
// runs costs more than drawing them; the series stay, empty, for the legend.
class CurveLayer : public QGraphicsItem {
public:
    CurveLayer(LossChartView* owner, QChart* chart)
        : QGraphicsItem(chart)
        , m_owner(owner)
        , m_chart(chart) {
        setZValue(1000.0); // over the grid and the (empty) series
        setAcceptedMouseButtons(Qt::NoButton);
        setAcceptHoverEvents(false);
    }

    QRectF boundingRect() const override { return m_chart->plotArea(); }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) override {
        m_owner->paintCurves(*painter, m_chart->plotArea());
    }
    void plotAreaChanged() {
        prepareGeometryChange();
        update();
    }

private:
    LossChartView* m_owner;
    QChart* m_chart;
};

} // namespace tunelab
