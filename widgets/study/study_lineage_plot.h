#pragma once

#include "study/study_plots.h"

#include <QColor>
#include <QLineF>
#include <QList>
#include <QPolygonF>

#include <utility>
#include <vector>

namespace tunelab {

// A population-based training study's lineage: x is the epoch, y the objective. Each trial (one
// segment of one member's training) is a polyline of its intermediate values in its member's colour;
// pruned and failed segments are faint. A thin solid line joins a trial to the last point of the
// trial it continues from within its member; a dashed one, ending in a ring, marks an exploit: the
// trial copied another member's weights there (and perturbed its hyperparameters). A legend on the
// right names the members. Clicking a segment or its connector selects its trial.
class LineagePlot : public StudyPlot {
    Q_OBJECT

public:
    // The line from a parent's last point to its child's first point.
    struct Connector {
        qint64 child = -1;
        qint64 parent = -1;
        bool exploit = false; // the parent trains for another member
        QLineF line;
    };

    explicit LineagePlot(QWidget* parent = nullptr);

    // A distinct colour per member: ten hand-picked ones, then hues a golden angle apart.
    static QColor memberColor(int member, int alpha = 255);

    const PlotAxis& xAxis() const { return m_xAxis; }
    const PlotAxis& yAxis() const { return m_yAxis; }
    // Of the last picture: a trial's polyline (empty when it was not drawn), the connectors, and the
    // members drawn, ascending.
    QPolygonF segmentOf(qint64 number) const;
    int drawnSegmentCount() const { return static_cast<int>(m_segments.size()); }
    const std::vector<Connector>& connectors() const { return m_connectors; }
    const QList<int>& members() const { return m_members; }

    qint64 trialAt(const QPointF& pos) const override;
    QList<qint64> trialsIn(const QRectF& rect) const override;

protected:
    void render(QPainter& painter) override;
    void paintSelection(QPainter& painter) override;

private:
    void drawLegend(QPainter& painter, const QRectF& area);
    int legendWidth(const QFontMetrics& metrics) const;

    PlotAxis m_xAxis;
    PlotAxis m_yAxis;
    std::vector<std::pair<qint64, QPolygonF>> m_segments;
    std::vector<Connector> m_connectors;
    QList<int> m_members;
};

} // namespace tunelab
