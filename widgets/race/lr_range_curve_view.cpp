#include "race/lr_range_curve_view.h"

#include "common/axis_ticks.h"

#include <QFontMetrics>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace tunelab {

LrRangeCurveView::LrRangeCurveView(QWidget* parent)
    : QWidget(parent)
    , m_placeholder(tr("Run the range test to see loss against learning rate")) {
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void LrRangeCurveView::clear() {
    m_curves.clear();
    update();
}

void LrRangeCurveView::addCurve(const QString& name, const QColor& color,
                                const std::vector<LrRangePoint>& points, double suggestedLearningRate) {
    Curve curve;
    curve.name = name;
    curve.color = color;
    for (const LrRangePoint& point : points)
        if (point.learningRate > 0.0 && std::isfinite(point.learningRate))
            curve.points.push_back(point);
    curve.suggested = suggestedLearningRate;
    m_curves.push_back(std::move(curve));
    update();
}

void LrRangeCurveView::setPlaceholderText(const QString& text) {
    m_placeholder = text;
    update();
}

void LrRangeCurveView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    painter.setRenderHint(QPainter::Antialiasing);
    const QFontMetrics metrics(font());

    double xMin = 0.0;
    double xMax = 0.0;
    double yMin = 0.0;
    double yMax = 0.0;
    bool any = false;
    for (const Curve& curve : m_curves) {
        double curveMin = 0.0;
        double firstSmoothed = kNoValue;
        bool curveAny = false;
        for (const LrRangePoint& point : curve.points) {
            const double x = std::log10(point.learningRate);
            if (!any) {
                xMin = xMax = x;
            }
            xMin = std::min(xMin, x);
            xMax = std::max(xMax, x);
            if (std::isfinite(point.smoothedLoss)) {
                if (!std::isfinite(firstSmoothed))
                    firstSmoothed = point.smoothedLoss;
                curveMin = curveAny ? std::min(curveMin, point.smoothedLoss) : point.smoothedLoss;
                curveAny = true;
            }
            any = true;
        }
        if (!curveAny)
            continue;
        // Up to a little above where the curve started: the blow-up would squash everything else.
        const double curveTop = std::max(firstSmoothed, curveMin) * 1.15;
        // The raw losses run ahead of the smoothed ones (the smoothing lags); keep them in view too,
        // but only those drawn before the blow-up.
        for (const LrRangePoint& point : curve.points) {
            if (point.smoothedLoss > curveTop)
                break;
            if (std::isfinite(point.loss))
                curveMin = std::min(curveMin, point.loss);
        }
        if (yMax <= yMin) {
            yMin = curveMin;
            yMax = curveTop;
        } else {
            yMin = std::min(yMin, curveMin);
            yMax = std::max(yMax, curveTop);
        }
    }
    if (!any) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }
    xMin = std::floor(xMin);
    xMax = std::max(std::ceil(xMax), xMin + 1.0);
    if (!(yMax > yMin)) {
        yMax = yMin + 1.0;
    }
    const double yPad = (yMax - yMin) * 0.05;
    yMin = std::max(0.0, yMin - 2.0 * yPad);
    yMax += yPad;

    const int left = metrics.horizontalAdvance(QStringLiteral("0.0000")) + 14;
    const int legendHeight = m_curves.size() > 1 ? metrics.height() + 6 : 0;
    const QRectF plot(left, 10 + legendHeight, width() - left - 16,
                      height() - 10 - legendHeight - 2 * metrics.height() - 14);
    if (plot.width() < 20 || plot.height() < 20)
        return;
    auto toX = [&](double lr) {
        return plot.left() + (std::log10(lr) - xMin) / (xMax - xMin) * plot.width();
    };
    auto toY = [&](double loss) { return plot.bottom() - (loss - yMin) / (yMax - yMin) * plot.height(); };

    // Grid and axes: a line per decade on x, five on y.
    const QColor gridColor = palette().color(QPalette::Mid).lighter(130);
    const QColor textColor = palette().color(QPalette::Text);
    painter.setPen(QPen(gridColor, 1));
    painter.setFont(font());
    for (int decade = static_cast<int>(xMin); decade <= static_cast<int>(xMax); ++decade) {
        const double x = plot.left() + (decade - xMin) / (xMax - xMin) * plot.width();
        painter.setPen(QPen(gridColor, 1));
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        painter.setPen(textColor);
        const QString label = QStringLiteral("1e%1").arg(decade);
        painter.drawText(QRectF(x - 30, plot.bottom() + 4, 60, metrics.height()), Qt::AlignHCenter, label);
    }
    for (const double value : niceTicks(yMin, yMax, 6)) {
        const double y = toY(value);
        painter.setPen(QPen(gridColor, 1));
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        painter.setPen(textColor);
        painter.drawText(QRectF(0, y - metrics.height() / 2.0, left - 6, metrics.height()),
                         Qt::AlignRight | Qt::AlignVCenter, QString::number(value, 'g', 3));
    }
    painter.setPen(QPen(textColor, 1));
    painter.drawRect(plot);
    painter.drawText(
        QRectF(plot.left(), plot.bottom() + 4 + metrics.height(), plot.width(), metrics.height() + 4),
        Qt::AlignHCenter, tr("learning rate (log scale)"));
    painter.drawText(QRectF(plot.left() + 6, plot.bottom() - metrics.height() - 4, 200, metrics.height()),
                     Qt::AlignLeft, tr("training loss"));

    painter.setClipRect(plot.adjusted(-1, -1, 1, 1));
    for (const Curve& curve : m_curves) {
        QPainterPath raw;
        QPainterPath smoothed;
        bool rawStarted = false;
        bool smoothStarted = false;
        for (const LrRangePoint& point : curve.points) {
            const double x = toX(point.learningRate);
            if (std::isfinite(point.loss)) {
                const QPointF p(x, toY(std::min(point.loss, yMax * 4.0)));
                rawStarted ? raw.lineTo(p) : raw.moveTo(p);
                rawStarted = true;
            }
            if (std::isfinite(point.smoothedLoss)) {
                const QPointF p(x, toY(std::min(point.smoothedLoss, yMax * 4.0)));
                smoothStarted ? smoothed.lineTo(p) : smoothed.moveTo(p);
                smoothStarted = true;
            }
        }
        QColor faint = curve.color;
        faint.setAlpha(70);
        painter.setPen(QPen(faint, 1));
        painter.drawPath(raw);
        painter.setPen(QPen(curve.color, 2.2));
        painter.drawPath(smoothed);
    }
    painter.setClipping(false);

    // The suggested rates, each a dashed line with its value at the top.
    for (const Curve& curve : m_curves) {
        if (!(curve.suggested > 0.0) || !std::isfinite(curve.suggested))
            continue;
        const double x = toX(curve.suggested);
        if (x < plot.left() || x > plot.right())
            continue;
        painter.setPen(QPen(curve.color.darker(130), 1.5, Qt::DashLine));
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        double lossAt = kNoValue;
        for (const LrRangePoint& point : curve.points)
            if (point.learningRate <= curve.suggested)
                lossAt = point.smoothedLoss;
        if (std::isfinite(lossAt)) {
            painter.setBrush(curve.color);
            painter.setPen(QPen(palette().color(QPalette::Base), 1.5));
            painter.drawEllipse(QPointF(x, toY(lossAt)), 5, 5);
            painter.setBrush(Qt::NoBrush);
        }
        if (m_curves.size() == 1) {
            const QString label = tr("suggested %1").arg(QString::number(curve.suggested, 'g', 3));
            const int labelWidth = metrics.horizontalAdvance(label) + 8;
            const bool leftSide = x + labelWidth > plot.right();
            const QRectF box(leftSide ? x - labelWidth - 4 : x + 4, plot.top() + 4, labelWidth,
                             metrics.height() + 2);
            painter.fillRect(box, palette().color(QPalette::Base));
            painter.setPen(curve.color.darker(150));
            painter.drawText(box, Qt::AlignCenter, label);
        }
    }

    // Legend across the top when several curves share the plot.
    if (m_curves.size() > 1) {
        double x = plot.left();
        for (const Curve& curve : m_curves) {
            painter.fillRect(QRectF(x, 6 + metrics.height() / 2.0 - 2, 14, 4), curve.color);
            painter.setPen(textColor);
            const QString label = curve.name;
            painter.drawText(QPointF(x + 18, 6 + metrics.ascent()), label);
            x += 18 + metrics.horizontalAdvance(label) + 14;
        }
    }
}

} // namespace tunelab
