#pragma once

#include "charts/loss_chart_view.h"

#include <QChart>
#include <QChartView>
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
    }

protected:
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
    LossChartView* m_owner;
    bool m_panning = false;
    QPointF m_lastPos;
};

} // namespace tunelab
