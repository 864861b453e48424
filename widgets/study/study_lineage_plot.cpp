// The lineage plot of a population-based training study: each trial a segment of its member's
// training curve, joined to the trial it continues from, exploits dashed.

#include "study/study_lineage_plot.h"

#include "study/study_plot_painting.h"
#include "study/study_trials_model.h"

#include <QPainter>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tunelab {

using namespace study_plot_painting;

namespace {

// Pruned, failed and waiting segments draw faint, under the others.
bool isFaint(TrialState state) {
    return state == TrialState::Pruned || state == TrialState::Failed || state == TrialState::Waiting;
}

QPen exploitPen(const QColor& color, qreal width) {
    QPen pen(color, width);
    pen.setDashPattern({4.0, 3.0});
    return pen;
}

} // namespace

LineagePlot::LineagePlot(QWidget* parent)
    : StudyPlot(parent) {}

QColor LineagePlot::memberColor(int member, int alpha) {
    // The category-10 palette, distinct on white and from one another, with its grey replaced:
    // grey here means a faint (pruned or failed) segment.
    static const QRgb kPalette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                    0x8c564b, 0xe377c2, 0x17becf, 0xbcbd22, 0x393b79};
    constexpr int kCount = static_cast<int>(std::size(kPalette));
    QColor color =
        member >= 0 && member < kCount
            ? QColor::fromRgb(kPalette[member])
            : QColor::fromHsv(static_cast<int>(std::fmod(std::max(member, 0) * 137.508, 360.0)), 200, 185);
    color.setAlpha(alpha);
    return color;
}

QPolygonF LineagePlot::segmentOf(qint64 number) const {
    for (const auto& [segmentNumber, line] : m_segments) {
        if (segmentNumber == number)
            return line;
    }
    return {};
}

int LineagePlot::legendWidth(const QFontMetrics& metrics) const {
    int widest =
        std::max(metrics.horizontalAdvance(tr("continues")), metrics.horizontalAdvance(tr("exploit")));
    if (!m_members.isEmpty())
        widest = std::max(widest, metrics.horizontalAdvance(tr("member %1").arg(m_members.back())));
    widest = std::max(widest, metrics.horizontalAdvance(tr("+%1 more").arg(m_members.size())));
    return widest + 30;
}

void LineagePlot::render(QPainter& painter) {
    m_segments.clear();
    m_connectors.clear();
    m_members.clear();
    const auto& trials = m_model->trials();
    std::vector<double> values;
    std::set<int> members;
    int lastEpoch = 1;
    for (const TrialRecord& trial : trials) {
        if (trial.member < 0)
            continue;
        members.insert(trial.member);
        for (const auto& [epoch, value] : trial.intermediate) {
            if (!std::isfinite(value))
                continue;
            values.push_back(value);
            lastEpoch = std::max(lastEpoch, epoch);
        }
    }
    if (members.empty()) {
        drawEmptyMessage(painter,
                         tr("No population-based training: no trial belongs to a population member"));
        return;
    }
    if (values.empty()) {
        drawEmptyMessage(painter, tr("No intermediate values yet"));
        return;
    }
    m_members = QList<int>(members.begin(), members.end());
    const QFontMetrics metrics(painter.font());
    setMargins(64, 16, legendWidth(metrics) + 18, 42);
    m_xAxis = PlotAxis();
    m_xAxis.title = tr("Epoch");
    m_xAxis.integer = true;
    m_xAxis.min = 0.0;
    m_xAxis.max = lastEpoch + 0.5;
    // Training curves fall by decades early on: a log axis from one decade up keeps the late epochs,
    // where members are told apart, from being squeezed into the bottom of the plot.
    constexpr double kLogAboveRatio = 10.0;
    m_yAxis = PlotAxis::forValues(values, objectiveAxisTitle(m_model->objective()), kLogAboveRatio);
    drawFrameAndTicks(painter, m_xAxis, m_yAxis);
    const QRectF area = plotArea();
    auto toPixel = [&](int epoch, double value) {
        return QPointF(area.left() + m_xAxis.toUnit(epoch) * area.width(),
                       area.bottom() - std::clamp(m_yAxis.toUnit(value), -0.01, 1.01) * area.height());
    };

    // Every member's trials as polylines: faint ones first, later trials over earlier ones.
    std::vector<const TrialRecord*> ordered;
    std::map<qint64, QPolygonF> lineOf;
    for (const TrialRecord& trial : trials) {
        if (trial.member < 0)
            continue;
        QPolygonF line;
        for (const auto& [epoch, value] : trial.intermediate) {
            if (std::isfinite(value))
                line << toPixel(epoch, value);
        }
        if (line.isEmpty())
            continue;
        lineOf.emplace(trial.number, std::move(line));
        ordered.push_back(&trial);
    }
    std::stable_sort(ordered.begin(), ordered.end(), [](const TrialRecord* a, const TrialRecord* b) {
        if (isFaint(a->state) != isFaint(b->state))
            return isFaint(a->state);
        return a->number < b->number;
    });
    for (const TrialRecord* trial : ordered) {
        if (trial->parentNumber < 0)
            continue;
        const auto parent = lineOf.find(trial->parentNumber);
        if (parent == lineOf.end())
            continue;
        m_connectors.push_back({trial->number, trial->parentNumber, m_model->isExploit(*trial),
                                QLineF(parent->second.back(), lineOf.at(trial->number).front())});
    }

    painter.save();
    painter.setClipRect(area.adjusted(-1, -3, 1, 3));
    painter.setBrush(Qt::NoBrush);
    // Connectors under the segments, so that a member's own curve reads first.
    for (const Connector& connector : m_connectors) {
        const TrialRecord* child = trialByNumber(connector.child);
        const QColor color = memberColor(child->member, isFaint(child->state) ? 80 : 200);
        painter.setPen(connector.exploit ? exploitPen(color, 1.4) : QPen(color, 1.0));
        painter.drawLine(connector.line);
    }
    for (const TrialRecord* trial : ordered) {
        const bool faint = isFaint(trial->state);
        const QColor color = memberColor(trial->member, faint ? 75 : 235);
        QPolygonF& line = lineOf.at(trial->number);
        if (line.size() == 1) {
            painter.setPen(Qt::NoPen);
            painter.setBrush(color);
            painter.drawEllipse(line.front(), 2.2, 2.2);
            painter.setBrush(Qt::NoBrush);
        } else {
            painter.setPen(QPen(color, faint ? 1.0 : 1.8));
            drawSegments(painter, line);
        }
        m_segments.emplace_back(trial->number, std::move(line));
    }
    // A ring where an exploit's copied weights start their new training.
    painter.setBrush(Qt::white);
    for (const Connector& connector : m_connectors) {
        if (!connector.exploit)
            continue;
        const TrialRecord* child = trialByNumber(connector.child);
        painter.setPen(QPen(memberColor(child->member, isFaint(child->state) ? 90 : 255), 1.3));
        painter.drawEllipse(connector.line.p2(), 3.0, 3.0);
    }
    painter.restore();
    drawLegend(painter, area);
}

void LineagePlot::drawLegend(QPainter& painter, const QRectF& area) {
    const QFontMetrics metrics(painter.font());
    const double x = area.right() + 14;
    const double rowHeight = metrics.height() + 3;
    // The members as many as fit, keeping two rows for the line styles and one for "+k more".
    const int rows = std::max(1, static_cast<int>((height() - area.top() - 8) / rowHeight) - 3);
    const int shown = m_members.size() <= rows ? static_cast<int>(m_members.size()) : rows - 1;
    double y = area.top() + rowHeight / 2.0;
    auto label = [&](const QString& text) {
        painter.setPen(kTextColor);
        painter.drawText(QPointF(x + 22, y + metrics.ascent() / 2.0 - 1), text);
        y += rowHeight;
    };
    painter.save();
    for (int i = 0; i < shown; ++i) {
        const int member = m_members[i];
        painter.setPen(QPen(memberColor(member), 2.0));
        painter.drawLine(QPointF(x, y), QPointF(x + 16, y));
        label(tr("member %1").arg(member));
    }
    if (shown < m_members.size())
        label(tr("+%1 more").arg(m_members.size() - shown));
    y += rowHeight / 2.0;
    const QColor grey(110, 110, 110);
    painter.setPen(QPen(grey, 1.0));
    painter.drawLine(QPointF(x, y), QPointF(x + 16, y));
    label(tr("continues"));
    painter.setPen(exploitPen(grey, 1.4));
    painter.drawLine(QPointF(x, y), QPointF(x + 12, y));
    painter.setPen(QPen(grey, 1.3));
    painter.setBrush(Qt::white);
    painter.drawEllipse(QPointF(x + 14, y), 3.0, 3.0);
    label(tr("exploit"));
    painter.restore();
}

void LineagePlot::paintSelection(QPainter& painter) {
    painter.setBrush(Qt::NoBrush);
    for (const Connector& connector : m_connectors) {
        if (!isSelected(connector.child))
            continue;
        const QColor color = memberColor(trialByNumber(connector.child)->member);
        painter.setPen(connector.exploit ? exploitPen(color, 2.2) : QPen(color, 2.0));
        painter.drawLine(connector.line);
    }
    // Bold in the member's colour over a dark halo: the member stays readable, the selection stands out.
    const QPen halo(QColor(30, 30, 30, 150), 5.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    for (const auto& [number, line] : m_segments) {
        if (!isSelected(number))
            continue;
        const QColor color = memberColor(trialByNumber(number)->member);
        if (line.size() == 1) {
            painter.setPen(QPen(QColor(30, 30, 30, 150), 1.5));
            painter.setBrush(color);
            painter.drawEllipse(line.front(), 4.0, 4.0);
            painter.setBrush(Qt::NoBrush);
            continue;
        }
        painter.setPen(halo);
        painter.drawPolyline(line);
        painter.setPen(QPen(color, 2.8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter.drawPolyline(line);
    }
}

qint64 LineagePlot::trialAt(const QPointF& pos) const {
    // The nearest segment within a few pixels, later (drawn on top) ones winning ties; else the
    // trial whose connector passes there.
    qint64 best = -1;
    double bestDistance = 5.0 * 5.0;
    for (const auto& [number, line] : m_segments) {
        const double distance = squaredDistanceToLine(line, pos, 5.0);
        if (distance <= bestDistance) {
            bestDistance = distance;
            best = number;
        }
    }
    if (best >= 0)
        return best;
    bestDistance = 4.0 * 4.0;
    for (const Connector& connector : m_connectors) {
        const double distance =
            squaredDistanceToLine(QPolygonF({connector.line.p1(), connector.line.p2()}), pos, 4.0);
        if (distance <= bestDistance) {
            bestDistance = distance;
            best = connector.child;
        }
    }
    return best;
}

QList<qint64> LineagePlot::trialsIn(const QRectF& rect) const {
    QList<qint64> numbers;
    for (const auto& [number, line] : m_segments) {
        if (std::any_of(line.begin(), line.end(), [&](const QPointF& p) { return rect.contains(p); }))
            numbers << number;
    }
    return numbers;
}

} // namespace tunelab
