// LossChartView's toolbar, zoom and pan, hover text and PNG/CSV export: what the user does with the
// chart. The curves and the frame are in loss_chart_view.cpp.
#include "charts/loss_chart_view.h"

#include "charts/chart_canvas.h"
#include "common/file_saving.h"

#include <QComboBox>
#include <QCursor>
#include <QFileDialog>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLogValueAxis>
#include <QMessageBox>
#include <QSlider>
#include <QToolButton>
#include <QToolTip>
#include <QValueAxis>

#include <cmath>

namespace tunelab {

namespace {

QByteArray csvField(const QString& text) {
    QByteArray bytes = text.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n') || bytes.contains('\r'))
        bytes = '"' + bytes.replace("\"", "\"\"") + '"';
    return bytes;
}

} // namespace

void LossChartView::buildToolBar() {
    m_toolBar = new QWidget(this);
    auto* layout = new QHBoxLayout(m_toolBar);
    layout->setContentsMargins(4, 2, 4, 2);

    layout->addWidget(new QLabel(tr("Smoothing"), m_toolBar));
    m_smoothingSlider = new QSlider(Qt::Horizontal, m_toolBar);
    m_smoothingSlider->setRange(0, 99);
    m_smoothingSlider->setMaximumWidth(160);
    m_smoothingSlider->setToolTip(tr("Exponential moving average; the raw curve stays faint behind"));
    layout->addWidget(m_smoothingSlider);
    m_smoothingLabel = new QLabel(QStringLiteral("0.00"), m_toolBar);
    layout->addWidget(m_smoothingLabel);
    connect(m_smoothingSlider, &QSlider::valueChanged, this,
            [this](int value) { setSmoothing(value / 100.0); });
    layout->addStretch(1);

    m_logButton = new QToolButton(m_toolBar);
    m_logButton->setText(tr("Log y"));
    m_logButton->setCheckable(true);
    connect(m_logButton, &QToolButton::toggled, this, &LossChartView::setLogScale);
    layout->addWidget(m_logButton);

    m_xModeBox = new QComboBox(m_toolBar);
    m_xModeBox->addItem(tr("Step"), int(XAxisMode::Step));
    m_xModeBox->addItem(tr("Epoch"), int(XAxisMode::Epoch));
    m_xModeBox->addItem(tr("Wall time"), int(XAxisMode::WallTime));
    m_xModeBox->setToolTip(tr("Unit of the x axis"));
    connect(m_xModeBox, &QComboBox::activated, this,
            [this](int index) { setXAxisMode(XAxisMode(m_xModeBox->itemData(index).toInt())); });
    layout->addWidget(m_xModeBox);

    auto addButton = [&](const QString& text, const QString& tip, auto slot) {
        auto* button = new QToolButton(m_toolBar);
        button->setText(text);
        button->setToolTip(tip);
        connect(button, &QToolButton::clicked, this, slot);
        layout->addWidget(button);
    };
    addButton(tr("Reset zoom"), tr("Follow the data again (Ctrl+0)"), &LossChartView::resetZoom);
    addButton(tr("PNG…"), tr("Save the chart as a PNG image"), &LossChartView::choosePngFile);
    addButton(tr("CSV…"), tr("Save the data of the shown curves as CSV"), &LossChartView::chooseCsvFile);
}

void LossChartView::setToolBarVisible(bool visible) {
    m_toolBar->setVisible(visible);
}

void LossChartView::setXRange(double min, double max) {
    if (!std::isfinite(min) || !std::isfinite(max) || !(max > min))
        return;
    m_autoX = false;
    m_zoomXMin = min;
    m_zoomXMax = max;
    markAllDirty();
    scheduleFrame();
    Q_EMIT zoomChanged();
}

void LossChartView::zoomX(double factor, double centerX) {
    if (!(factor > 0.0) || !std::isfinite(centerX))
        return;
    const double low = visibleXMin();
    const double high = visibleXMax();
    setXRange(centerX - (centerX - low) * factor, centerX + (high - centerX) * factor);
}

void LossChartView::resetZoom() {
    m_autoX = m_autoY = true;
    markAllDirty();
    scheduleFrame();
    Q_EMIT zoomChanged();
}

double LossChartView::visibleXMin() const {
    return m_autoX ? m_axisX->min() : m_zoomXMin;
}

double LossChartView::visibleXMax() const {
    return m_autoX ? m_axisX->max() : m_zoomXMax;
}

double LossChartView::visibleYMin() const {
    return m_logScale ? m_axisYLog->min() : m_axisYLinear->min();
}

double LossChartView::visibleYMax() const {
    return m_logScale ? m_axisYLog->max() : m_axisYLinear->max();
}

void LossChartView::handleAxisRangeChanged(bool xAxis) {
    if (m_applyingRange)
        return;
    if (xAxis) {
        m_autoX = false;
        m_zoomXMin = m_axisX->min();
        m_zoomXMax = m_axisX->max();
        markAllDirty(); // the new range is decimated from the full data
    } else {
        m_autoY = false;
        m_zoomYMin = visibleYMin();
        m_zoomYMax = visibleYMax();
    }
    scheduleFrame();
    Q_EMIT zoomChanged();
}

QString LossChartView::hoverText(qint64 key, double x, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return QString();
    const SeriesPoints& line = found->second.lines[static_cast<size_t>(trace)]->points;
    if (line.empty())
        return QString();
    const size_t nearest = line.nearestIndex(x);
    QString where;
    switch (m_xMode) {
    case XAxisMode::Step:
        where = tr("step %1").arg(QString::number(line.x[nearest], 'g', 12));
        break;
    case XAxisMode::Epoch:
        where = tr("epoch %1").arg(QString::number(line.x[nearest], 'g', 12));
        break;
    case XAxisMode::WallTime:
        where = tr("%1 s").arg(QString::number(line.x[nearest], 'f', 1));
        break;
    }
    QString text = QStringLiteral("%1 — %2: %3")
                       .arg(lineLabel(key, trace), where, QString::number(line.y[nearest], 'g', 6));
    if (m_smoothing > 0.0 && nearest < line.smoothedCount)
        text += tr(" (smoothed %1)").arg(QString::number(line.smoothed[nearest], 'g', 6));
    return text;
}

void LossChartView::handleHover(qint64 key, Trace trace, const QPointF& point, bool state,
                                const QPointF& at) {
    if (!state) {
        m_hoverText.clear();
        QToolTip::hideText();
        return;
    }
    m_hoverText = hoverText(key, point.x(), trace);
    const QPoint global = m_view->viewport()->mapToGlobal(m_view->mapFromScene(m_chart->mapToScene(at)));
    QToolTip::showText(global, m_hoverText, m_view);
}

bool LossChartView::exportPng(const QString& path, QString* error) {
    flush();
    if (m_chart->layout())
        m_chart->layout()->activate(); // axes placed for the new ranges now, not at the next event
    return saveImagePng(path, m_view->grab().toImage(), error);
}

bool LossChartView::exportCsv(const QString& path, QString* error) const {
    QByteArray csv("series,x,y\n");
    for (const auto& [key, curve] : m_curves) {
        if (!curve.visible)
            continue;
        for (size_t t = 0; t < curve.lines.size(); ++t) {
            if (!curve.lines[t] || curve.lines[t]->points.empty())
                continue;
            const SeriesPoints& line = curve.lines[t]->points;
            QString label = lineLabel(key, Trace(t));
            if (m_metric == Metric::EpochLoss && Trace(t) == Trace::Primary)
                label = tr("%1 (train)").arg(label);
            const QByteArray field = csvField(label) + ',';
            for (size_t i = 0; i < line.x.size(); ++i) {
                csv += field;
                csv += QByteArray::number(line.x[i], 'g', QLocale::FloatingPointShortest);
                csv += ',';
                csv += QByteArray::number(line.y[i], 'g', QLocale::FloatingPointShortest);
                csv += '\n';
            }
        }
    }
    return saveFileBytes(path, csv, error);
}

void LossChartView::choosePngFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export Chart"), QString(), tr("PNG images (*.png)"));
    QString error;
    if (!path.isEmpty() && !exportPng(path, &error))
        QMessageBox::warning(this, tr("Export Chart"), error);
}

void LossChartView::chooseCsvFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export Chart Data"), QString(), tr("CSV files (*.csv)"));
    QString error;
    if (!path.isEmpty() && !exportCsv(path, &error))
        QMessageBox::warning(this, tr("Export Chart Data"), error);
}

} // namespace tunelab
