#pragma once

#include <QString>
#include <QWidget>

#include <cstdint>
#include <vector>

namespace tunelab {

// A classifier's confusion matrix on its validation split: one row per actual class, one column per
// predicted class, each cell's count shaded by its share of the row (green on the diagonal, red off
// it), with the accuracy and the row count above. Without a matrix it says why (no run or several
// selected, a regression run, no saved model, still computing).
class ConfusionMatrixView : public QWidget {
    Q_OBJECT

public:
    explicit ConfusionMatrixView(QWidget* parent = nullptr);

    // counts[actual * classes + predicted]
    void setMatrix(const QString& title, int classes, std::vector<int64_t> counts);
    void setMessage(const QString& message);

    int classes() const { return m_classes; }
    int64_t count(int actual, int predicted) const;
    QString title() const { return m_title; }
    QString message() const { return m_message; }
    double accuracy() const; // NaN without a matrix

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_title;
    QString m_message;
    int m_classes = 0;
    std::vector<int64_t> m_counts;
};

} // namespace tunelab
