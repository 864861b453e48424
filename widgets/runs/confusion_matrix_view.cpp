#include "runs/confusion_matrix_view.h"

#include <QPainter>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tunelab {

namespace {

constexpr int kMargin = 8;
constexpr int kLabelWidth = 64;
constexpr int kHeaderHeight = 44;

} // namespace

ConfusionMatrixView::ConfusionMatrixView(QWidget* parent)
    : QWidget(parent) {
    setObjectName(QStringLiteral("confusionMatrix"));
    setMessage(tr("Select one classification run to see how it sorts its validation rows"));
}

void ConfusionMatrixView::setMatrix(const QString& title, int classes, std::vector<int64_t> counts) {
    m_title = title;
    m_message.clear();
    m_classes = classes > 0 && counts.size() == size_t(classes) * size_t(classes) ? classes : 0;
    m_counts = m_classes > 0 ? std::move(counts) : std::vector<int64_t>{};
    setToolTip(m_classes > 0 ? tr("Rows: the actual class; columns: the predicted one") : QString());
    updateGeometry(); // its minimum follows the classes
    update();
}

void ConfusionMatrixView::setMessage(const QString& message) {
    m_message = message;
    m_classes = 0;
    m_counts.clear();
    setToolTip(QString());
    updateGeometry();
    update();
}

int64_t ConfusionMatrixView::count(int actual, int predicted) const {
    if (actual < 0 || predicted < 0 || actual >= m_classes || predicted >= m_classes)
        return 0;
    return m_counts[size_t(actual) * size_t(m_classes) + size_t(predicted)];
}

double ConfusionMatrixView::accuracy() const {
    const int64_t total = std::accumulate(m_counts.begin(), m_counts.end(), int64_t(0));
    int64_t right = 0;
    for (int c = 0; c < m_classes; ++c)
        right += count(c, c);
    return total > 0 ? double(right) / double(total) : std::nan("");
}

QSize ConfusionMatrixView::minimumSizeHint() const {
    // Cells big enough for a count: the tab scrolls rather than squeezing them.
    constexpr int kCellWidth = 30;
    constexpr int kCellHeight = 18;
    if (m_classes == 0)
        return {240, 80};
    return {2 * kMargin + kLabelWidth + m_classes * kCellWidth,
            kHeaderHeight + kMargin + m_classes * kCellHeight};
}

QSize ConfusionMatrixView::sizeHint() const {
    return {420, 320};
}

void ConfusionMatrixView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    painter.setPen(palette().text().color());
    if (m_classes == 0) {
        painter.drawText(rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
                         Qt::AlignCenter | Qt::TextWordWrap, m_message);
        return;
    }
    const int64_t total = std::accumulate(m_counts.begin(), m_counts.end(), int64_t(0));
    painter.drawText(QRect(kMargin, 2, width() - 2 * kMargin, 20), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("%1: accuracy %2% on %3 validation rows")
                         .arg(m_title)
                         .arg(accuracy() * 100.0, 0, 'f', 1)
                         .arg(total));
    const QRect grid(kMargin + kLabelWidth, kHeaderHeight, std::max(40, width() - 2 * kMargin - kLabelWidth),
                     std::max(40, height() - kHeaderHeight - kMargin));
    painter.drawText(QRect(grid.left(), 22, grid.width(), 20), Qt::AlignCenter, tr("predicted"));
    painter.save();
    painter.translate(kMargin + 16, grid.center().y());
    painter.rotate(-90);
    painter.drawText(QRect(-60, -10, 120, 20), Qt::AlignCenter, tr("actual"));
    painter.restore();
    const double cellWidth = double(grid.width()) / m_classes;
    const double cellHeight = double(grid.height()) / m_classes;
    const bool labels = cellWidth >= 14 && cellHeight >= 12;
    for (int actual = 0; actual < m_classes; ++actual) {
        int64_t rowTotal = 0;
        for (int predicted = 0; predicted < m_classes; ++predicted)
            rowTotal += count(actual, predicted);
        if (labels)
            painter.drawText(
                QRectF(kMargin + 22, grid.top() + actual * cellHeight, kLabelWidth - 26, cellHeight),
                Qt::AlignRight | Qt::AlignVCenter, QString::number(actual));
        for (int predicted = 0; predicted < m_classes; ++predicted) {
            const int64_t n = count(actual, predicted);
            const double share = rowTotal > 0 ? double(n) / double(rowTotal) : 0.0;
            const QColor hue = actual == predicted ? QColor(46, 160, 67) : QColor(207, 34, 46);
            QColor fill = hue;
            fill.setAlphaF(n == 0 ? 0.0 : 0.12 + 0.88 * share);
            const QRectF cell(grid.left() + predicted * cellWidth, grid.top() + actual * cellHeight,
                              cellWidth, cellHeight);
            painter.fillRect(cell, fill);
            painter.setPen(QColor(0, 0, 0, 40));
            painter.drawRect(cell);
            if (labels && n > 0) {
                painter.setPen(share > 0.6 ? Qt::white : palette().text().color());
                painter.drawText(cell, Qt::AlignCenter, QString::number(n));
            }
            painter.setPen(palette().text().color());
        }
    }
}

} // namespace tunelab
