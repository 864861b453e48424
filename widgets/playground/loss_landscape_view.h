#pragma once

#include "playground/loss_surfaces.h"

#include <QColor>
#include <QImage>
#include <QLineF>
#include <QPointF>
#include <QPolygonF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <vector>

namespace tunelab {

// One optimizer's path as LossLandscapeView draws it, in surface coordinates; point 0 is the start.
struct LandscapePath {
    QString label;
    QColor color;
    QVector<QPointF> points;
    bool diverged = false; // the path ends because the optimizer left the finite range
};

// Draws a two-dimensional test surface as a heat map with contour lines, its minima, the start
// point and any number of optimizer paths up to a visible step. Surfaces whose values span
// several decades (Rosenbrock, Beale, Himmelblau, the quadratic) get logarithmic colours and
// contour levels, so the floor of a valley is as readable as its walls. x and y keep one scale, so
// a circle on the surface looks round. Clicking or dragging on the map moves the start point and
// emits startMoved(). GUI thread only.
class LossLandscapeView : public QWidget {
    Q_OBJECT

public:
    static constexpr int kContourLevels = 16;

    explicit LossLandscapeView(QWidget* parent = nullptr);

    void setSurface(const Surface& surface);
    const Surface& surface() const { return m_surface; }
    void setStart(double x, double y);
    QPointF start() const { return m_start; }
    void setPaths(const QVector<LandscapePath>& paths);
    const QVector<LandscapePath>& paths() const { return m_paths; }
    // Paths are drawn from point 0 up to this step (or their end, when shorter).
    void setVisibleStep(int step);
    int visibleStep() const { return m_visibleStep; }

    bool usesLogColors() const { return m_logColors; }
    // Contour segments of the current size, for tests: empty before the first paint.
    int contourSegmentCount() const { return static_cast<int>(m_contours.size()); }
    // The square the surface is drawn in, and the mapping between surface and widget coordinates.
    QRectF plotRect() const;
    QPointF toWidget(const QPointF& surfacePoint) const;
    QPointF toSurface(const QPointF& widgetPoint) const;

    QSize sizeHint() const override { return {640, 640}; }
    QSize minimumSizeHint() const override { return {240, 240}; }

Q_SIGNALS:
    // The user clicked or dragged the start point to (x, y), in surface coordinates.
    void startMoved(double x, double y);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    void invalidateMap();
    void rebuildMap();
    void moveStartTo(const QPointF& widgetPoint);
    void drawAxes(QPainter& painter, const QRectF& plot) const;
    QPolygonF visiblePart(const LandscapePath& path) const; // widget coordinates
    void drawPathLines(QPainter& painter) const;
    void drawPathMarkers(QPainter& painter) const;
    void drawLegend(QPainter& painter, const QRectF& plot) const;

    Surface m_surface;
    QPointF m_start;
    QVector<LandscapePath> m_paths;
    int m_visibleStep = 0;
    bool m_logColors = true;
    // The heat map and contour segments for the current plot size, rebuilt lazily on paint.
    bool m_mapValid = false;
    QImage m_heatMap;
    std::vector<QLineF> m_contours; // widget coordinates
};

} // namespace tunelab
