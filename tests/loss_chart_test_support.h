#pragma once

// Helpers shared by the loss chart suites (tst_loss_chart_view, tst_loss_chart_interaction).

#include "charts/loss_chart_view.h"

#include <QFile>
#include <QList>
#include <QPointF>
#include <QRandomGenerator>
#include <QVector>

#include <algorithm>
#include <cmath>
#include <memory>

namespace tunelab::test {

// A chart of 800 x 500 pixels, shown; the caller waits for it to be exposed.
inline std::unique_ptr<LossChartView> shownChartView() {
    auto view = std::make_unique<LossChartView>();
    view->resize(800, 500);
    view->show();
    return view;
}

// A noisy decaying loss curve with one spike and one dip that are a single step wide.
inline QVector<QPointF> lossCurve(int count, quint32 seed, int spikeAt, int dipAt) {
    QRandomGenerator random(seed);
    QVector<QPointF> points;
    points.reserve(count);
    for (int i = 0; i < count; ++i) {
        double loss = 2.0 * std::exp(-3.0 * i / count) + 0.2 + 0.1 * random.generateDouble();
        if (i == spikeAt)
            loss = 50.0;
        if (i == dipAt)
            loss = 0.001;
        points.append(QPointF(i + 1, loss));
    }
    return points;
}

inline bool containsY(const QList<QPointF>& points, double y) {
    return std::any_of(points.begin(), points.end(), [y](const QPointF& p) { return p.y() == y; });
}

// The moving average the chart promises, computed the same way: s[0] = y[0], s[i] = a s[i-1] + (1-a) y[i].
inline QList<double> ema(const QVector<QPointF>& points, double a) {
    QList<double> out;
    double s = 0.0;
    for (qsizetype i = 0; i < points.size(); ++i) {
        s = i == 0 ? points[i].y() : a * s + (1.0 - a) * points[i].y();
        out.append(s);
    }
    return out;
}

inline QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace tunelab::test
