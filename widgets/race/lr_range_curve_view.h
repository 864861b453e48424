#pragma once

#include "race/lr_range.h"

#include <QColor>
#include <QString>
#include <QWidget>

#include <vector>

namespace tunelab {

// Loss against learning rate on a logarithmic x axis, for learning-rate range tests: per curve the
// raw loss faint, the smoothed loss bold, and the suggested rate as a dashed vertical line. The y
// range follows the smoothed losses up to a little past their start, so the blow-up at the end does
// not flatten the interesting part.
class LrRangeCurveView : public QWidget {
    Q_OBJECT

public:
    explicit LrRangeCurveView(QWidget* parent = nullptr);

    void clear();
    void addCurve(const QString& name, const QColor& color, const std::vector<LrRangePoint>& points,
                  double suggestedLearningRate);
    int curveCount() const { return static_cast<int>(m_curves.size()); }
    void setPlaceholderText(const QString& text);

    QSize sizeHint() const override { return {520, 320}; }
    QSize minimumSizeHint() const override { return {240, 160}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    struct Curve {
        QString name;
        QColor color;
        std::vector<LrRangePoint> points;
        double suggested = kNoValue;
    };
    std::vector<Curve> m_curves;
    QString m_placeholder;
};

} // namespace tunelab
